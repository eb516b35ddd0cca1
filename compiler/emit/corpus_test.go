package emit_test

import (
	"encoding/json"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/compiler/emit"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/canon"
)

// generateFor renders the package for doc without compiling its tables
// (the blob is a placeholder: only the Go source is under test here).
func generateFor(t *testing.T, doc *schema.Document, pkg string) []emit.Output {
	t.Helper()
	files, err := tryGenerate(doc, pkg)
	if err != nil {
		t.Fatalf("%s: %v", doc.Name, err)
	}
	return files
}

func tryGenerate(doc *schema.Document, pkg string) ([]emit.Output, error) {
	return emit.Generate(doc, emit.Config{
		Package: pkg, Version: "test", SchemaName: doc.Name, SchemaHash: "sha256:0",
		TokenizerName: "none", VocabFingerprint: "test", SchemaText: []byte("{}"),
		Layout: canon.Layout{Kind: canon.Indent2}, FormatVersion: 1, Blob: []byte{0},
	})
}

func parseGo(t *testing.T, name string, files []emit.Output) {
	t.Helper()
	for _, f := range files {
		if filepath.Ext(f.Name) != ".go" {
			continue
		}
		if _, err := parser.ParseFile(token.NewFileSet(), f.Name, f.Data, parser.AllErrors); err != nil {
			t.Errorf("%s: %s does not parse: %v", name, f.Name, err)
		}
	}
}

// TestGenerateSuite renders a package for every schema of the JSON Schema
// Test Suite: no panic, no error, and Go source that parses.
func TestGenerateSuite(t *testing.T) {
	root := "../../../shared/json-schema-test-suite/tests"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("the JSON Schema Test Suite is not at %s: %v", root, err)
	}
	n := 0
	for _, draft := range []struct {
		dir string
		def schema.Draft
	}{{"draft2020-12", schema.Draft2020}, {"draft7", schema.Draft7}} {
		paths, _ := filepath.Glob(filepath.Join(root, draft.dir, "*.json"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var groups []struct {
				Schema json.RawMessage `json:"schema"`
			}
			if err := json.Unmarshal(data, &groups); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			for i, g := range groups {
				name := filepath.Base(p) + "#" + string(rune('0'+i%10))
				doc, err := schema.ParseWith(g.Schema, name, schema.ParseOptions{DefaultDraft: draft.def})
				if err != nil {
					continue // not a schema this compiler reads (remote refs, …)
				}
				files, err := tryGenerate(doc, "suite")
				var se *schema.Error
				if errors.As(err, &se) && se.Code == schema.Unsupported {
					continue // a $ref the compiler cannot follow either
				}
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				parseGo(t, name, files)
				n++
			}
		}
	}
	if n < 500 {
		t.Errorf("only %d suite schemas rendered", n)
	}
}

// TestGenerateRealWorld renders the real-world corpus and a few root shapes
// and type-checks the packages with go vet, in a temporary directory inside
// this module.
func TestGenerateRealWorld(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/realworld/*.schema.json")
	if len(paths) == 0 {
		t.Fatal("no real-world schemas found")
	}
	tmp, err := os.MkdirTemp("testdata", "vet-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	var dirs []string
	for _, p := range paths {
		doc, err := schema.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		pkg := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(p), ".schema.json"), "_", "")
		files := generateFor(t, doc, pkg)
		parseGo(t, pkg, files)
		dir := filepath.Join(tmp, pkg)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dirs = append(dirs, "./"+filepath.ToSlash(dir))
	}
	// Root shapes the corpus lacks.
	for i, text := range []string{
		`{"oneOf": [{"type": "object", "properties": {"a": {"const": 1}}, "required": ["a"], "additionalProperties": false}, {"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": false}]}`,
		`{"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/p"}, {"$ref": "#/$defs/q"}]}, "$defs": {"p": {"type": "object", "properties": {"p": {"type": "integer"}}, "additionalProperties": false}, "q": {"type": "object", "properties": {"q": {"type": "integer"}}, "additionalProperties": false}}}`,
		`{"anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, {"type": "null"}]}`,
		`{"type": ["integer", "null"], "minimum": 3}`,
		`{"type": "object", "additionalProperties": {"type": "array", "items": {"enum": ["x", "y"]}, "minItems": 1}}`,
		`{"enum": ["a", "b", null]}`,
		`true`,
	} {
		doc, err := schema.Parse([]byte(text), "inline.json")
		if err != nil {
			t.Fatal(err)
		}
		pkg := "inline" + string(rune('a'+i))
		files := generateFor(t, doc, pkg)
		dir := filepath.Join(tmp, pkg)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dirs = append(dirs, "./"+filepath.ToSlash(dir))
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH: cannot type-check")
	}
	out, err := exec.Command(goCmd, append([]string{"vet"}, dirs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go vet of the generated packages failed: %v\n%s", err, out)
	}
}

// TestMemberNamesTags: objects whose member names a json tag cannot spell
// stay raw JSON; the others become structs with the names as tags.
func TestMemberNamesTags(t *testing.T) {
	for _, c := range []struct {
		name    string
		struct_ bool
	}{
		{"plain", true}, {"a/b", true}, {"with space", true}, {"名前", true},
		{"a,b", false}, {`q"uote`, false}, {`back\slash`, false}, {"new\nline", false}, {"", false},
	} {
		text, _ := json.Marshal(map[string]any{"type": "object", "properties": map[string]any{c.name: map[string]any{"type": "string"}}})
		doc, err := schema.Parse(text, "inline.json")
		if err != nil {
			t.Fatal(err)
		}
		files := generateFor(t, doc, "x")
		src := string(files[0].Data)
		hasStruct := !strings.Contains(src, "It holds the JSON text as is")
		if hasStruct != c.struct_ {
			t.Errorf("member %q: struct=%v, want %v\n%s", c.name, hasStruct, c.struct_, src)
		}
		if c.struct_ && !strings.Contains(src, "`json:\""+c.name+",omitempty\"`") {
			t.Errorf("member %q: no json tag with the name", c.name)
		}
	}
}
