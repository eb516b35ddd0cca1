package emit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/emit"
	"github.com/schemac-dev/schemac/compiler/schema"
)

var update = flag.Bool("update", false, "rewrite the golden packages under testdata/golden")

// tinyVocab is a small vocabulary: every single byte, a few JSON pieces of
// several bytes, and EOS. It keeps golden table blobs small.
type tinyVocab struct{ pieces []string }

func newTinyVocab() *tinyVocab {
	v := &tinyVocab{}
	for b := 0; b < 256; b++ {
		v.pieces = append(v.pieces, string([]byte{byte(b)}))
	}
	v.pieces = append(v.pieces, "{\n", "  \"", "\": ", "\",\n", "true", "false", "null", "ing", "er", "</s>")
	return v
}

func (v *tinyVocab) VocabSize() int { return len(v.pieces) }
func (v *tinyVocab) EOS() int       { return len(v.pieces) - 1 }
func (v *tinyVocab) TokenBytes(id int) []byte {
	if id == v.EOS() {
		return nil
	}
	return []byte(v.pieces[id])
}

const tinyFingerprint = "test:tiny-vocab"

// generateGolden generates the package for testdata/golden/<dir>/schema.json.
func generateGolden(t *testing.T, dir string) []emit.Output {
	t.Helper()
	path := filepath.Join(dir, emit.SchemaFile)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := schema.Parse(text, path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Compile(doc, newTinyVocab(), compiler.Options{MaxDepth: 4})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(text)
	pkg := filepath.Base(dir)
	files, err := emit.Package(res, emit.Config{
		Package:          pkg,
		Version:          "golden",
		SchemaName:       "schema.json",
		SchemaHash:       "sha256:" + hex.EncodeToString(sum[:]),
		TokenizerName:    "tiny",
		VocabFingerprint: tinyFingerprint,
		SchemaText:       text,
		Args:             []string{"gen", "-schema", "schema.json", "-o", pkg, "-depth", "4"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestGolden compares generated packages with the committed ones
// (-update rewrites them), checks what every generated file must have, and
// type-checks and vets the goldens with the go command.
func TestGolden(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/golden/*")
	if len(dirs) == 0 {
		t.Fatal("no golden packages under testdata/golden")
	}
	header := regexp.MustCompile(`^// Code generated .* DO NOT EDIT\.$`)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files := generateGolden(t, dir)
			again := generateGolden(t, dir)
			for i, f := range files {
				if !bytes.Equal(f.Data, again[i].Data) {
					t.Errorf("%s: two runs differ", f.Name)
				}
				if filepath.Ext(f.Name) == ".go" {
					first, _, _ := bytes.Cut(f.Data, []byte("\n"))
					if !header.Match(first) {
						t.Errorf("%s: first line %q is not a generated-code header", f.Name, first)
					}
				}
				if f.Name == emit.SchemaFile {
					continue // the input itself
				}
				path := filepath.Join(dir, f.Name)
				if *update {
					if err := os.WriteFile(path, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(want, f.Data) {
					t.Errorf("%s differs from the golden file (run with -update to accept)", path)
				}
			}
		})
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH: cannot type-check the goldens")
	}
	args := []string{"vet"}
	for _, d := range dirs {
		args = append(args, "./"+filepath.ToSlash(d))
	}
	out, err := exec.Command(goCmd, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go vet of the golden packages failed: %v\n%s", err, out)
	}
}
