package compiler_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/lang"
)

// TestGoldenDFAs compares text dumps of the minimal byte DFA of small
// schemas with files under testdata/golden (rewrite with -update). The
// dumps are small enough to check by hand; a change in them is a change in
// the language the compiler admits.
func TestGoldenDFAs(t *testing.T) {
	for _, tc := range []struct {
		name, ws, schema string
	}{
		{"enum", "indent2", `{"enum": ["red", "green", null]}`},
		{"bounded-int", "compact", `{"type": "integer", "minimum": 3, "maximum": 12}`},
		{"small-object", "indent2", `{"type": "object", "properties": {"id": {"type": "boolean"}, "tag": {"const": "x"}}, "required": ["id"]}`},
		{"array-flexible", "flexible:1", `{"type": "array", "items": {"type": "null"}, "maxItems": 2}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			layout, err := lang.ParseLayout(tc.ws)
			if err != nil {
				t.Fatal(err)
			}
			res, err := compileString(t, tc.schema, compiler.Options{Layout: layout})
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("# schema: %s\n# ws: %s\n%s", tc.schema, tc.ws, res.DFA)
			path := filepath.Join("testdata", "golden", tc.name+".txt")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (create with -update)", err)
			}
			if got != string(want) {
				t.Errorf("DFA dump differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// FuzzCompile compiles arbitrary schemas with small limits: no panic, and
// any failure is a *schema.Error (or the tokenizer's), never something else.
func FuzzCompile(f *testing.F) {
	for _, tc := range keywordCases {
		f.Add(tc.schema)
	}
	f.Add(`{"type": "string", "pattern": "(a|b)*c{2,5}"}`)
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := parseDoc(src)
		if err != nil {
			return
		}
		_, err = compiler.Compile(doc, mistral(t), compiler.Options{MaxStates: 20000, MaxExprs: 200000, MaxDepth: 4})
		if err != nil && !strings.Contains(err.Error(), "inline.json") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}
