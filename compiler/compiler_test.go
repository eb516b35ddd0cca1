package compiler_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/internal/oracle"
	"github.com/schemac-dev/schemac/compiler/lang"
	"github.com/schemac-dev/schemac/compiler/schema"
)

func compileString(t *testing.T, src string, opt compiler.Options) (*compiler.Result, error) {
	t.Helper()
	doc, err := schema.Parse([]byte(src), "inline.json")
	if err != nil {
		t.Fatalf("schema %s: %v", src, err)
	}
	return compiler.Compile(doc, mistral(t), opt)
}

func mustParse(t *testing.T, s string) *schema.Value {
	t.Helper()
	v, err := schema.ParseJSON([]byte(s), "instance")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestUserProfile checks the reference article's schema: the shared
// instance (which is laid out by Python's json.dumps(indent=2)) is written
// byte for byte the same way and accepted, invalid variants are rejected,
// and random outputs validate.
func TestUserProfile(t *testing.T) {
	doc, err := schema.Load("../schemas/user_profile.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	tk := mistral(t)
	res, err := compiler.Compile(doc, tk, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../testdata/user_profile.instance.json")
	if err != nil {
		t.Fatal(err)
	}
	inst := mustParse(t, string(want))
	if got := string(res.Text(inst)); got != strings.TrimRight(string(want), "\n") {
		t.Errorf("layout differs from json.dumps(indent=2):\n got %q\nwant %q", got, want)
	}
	if err := res.Accept(inst, tk); err != nil {
		t.Errorf("valid instance rejected: %v", err)
	}
	for _, bad := range []string{
		`{"full_name": "A", "years_of_experience": 1, "skills": []}`,                                                    // missing role
		`{"full_name": "A", "years_of_experience": -1, "skills": [], "primary_role": "Data Scientist"}`,                 // minimum
		`{"full_name": "A", "years_of_experience": 1.5, "skills": [], "primary_role": "Data Scientist"}`,                // integer
		`{"full_name": "A", "years_of_experience": 1, "skills": [], "primary_role": "Chef"}`,                            // enum
		`{"full_name": "A", "years_of_experience": 1, "skills": [1], "primary_role": "Data Scientist"}`,                 // item type
		`{"full_name": "A", "email": "nope", "years_of_experience": 1, "skills": [], "primary_role": "Data Scientist"}`, // format
		`{"full_name": "A", "years_of_experience": 1, "skills": [], "primary_role": "Data Scientist", "x": 1}`,          // closed
		`{"full_name": null, "years_of_experience": 1, "skills": [], "primary_role": "Data Scientist"}`,                 // type
		`[]`, `"text"`,
	} {
		if err := res.Accept(mustParse(t, bad), tk); err == nil {
			t.Errorf("invalid instance accepted: %s", bad)
		}
	}
	for _, good := range []string{
		`{"full_name": "", "email": null, "years_of_experience": 0, "skills": [], "primary_role": "Product Manager"}`,
		`{"primary_role": "Backend Engineer", "skills": ["a\"b", "c\\d", "\n"], "years_of_experience": 40, "full_name": "Zoë 中文 😀"}`,
	} {
		if err := res.Accept(mustParse(t, good), tk); err != nil {
			t.Errorf("valid instance rejected: %s: %v", good, err)
		}
	}
	v, err := oracle.NewValidator(doc)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	n := walkAndValidate(t, "user_profile", res, v, tk, r, 2000)
	if n < 1000 {
		t.Errorf("only %d of 2000 walks finished", n)
	}
	t.Logf("stats %+v; %d walks validated", res.Stats, n)
}

// TestSchemasDir compiles every first-party schema and validates random
// outputs.
func TestSchemasDir(t *testing.T) {
	files, _ := filepath.Glob("../schemas/*.json")
	if len(files) == 0 {
		t.Fatal("no schemas in ../schemas")
	}
	tk := mistral(t)
	r := rand.New(rand.NewPCG(2, 2))
	for _, f := range files {
		doc, err := schema.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, ws := range []string{"indent2", "compact", "flexible:2"} {
			layout, _ := lang.ParseLayout(ws)
			res, err := compiler.Compile(doc, tk, compiler.Options{Layout: layout})
			if err != nil {
				t.Fatalf("%s -ws %s: %v", f, ws, err)
			}
			v, err := oracle.NewValidator(doc)
			if err != nil {
				t.Fatal(err)
			}
			walkAndValidate(t, f+" "+ws, res, v, tk, r, 300)
		}
	}
}
