package cli_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/cmd/datagen/cli"
	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/dataset"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
	"github.com/schemac-dev/schemac/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	schemaPath    = "../../../schemas/user_profile.schema.json"
	tokenizerPath = "../../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"
)

// run runs datagen with the repository's schema and tokenizer.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	args = append([]string{"-schema", schemaPath, "-tokenizer", tokenizerPath}, args...)
	code = cli.Run(args, &o, &e)
	return code, o.String(), e.String()
}

// generate writes a data set to a temporary file and returns its bytes.
func generate(t *testing.T, args ...string) ([]byte, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "data.jsonl")
	code, _, stderr := run(t, append(args, "-o", out)...)
	if code != 0 {
		t.Fatalf("datagen %v: exit %d: %s", args, code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b, stderr
}

func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"-n", "0"}, "-n 0: want a number of examples from 1 to"},
		{[]string{"-n", "-3"}, "-n -3"},
		{[]string{"-n", "many"}, `invalid value "many" for flag -n`},
		{[]string{"-n", "20000000"}, "-n 20000000"},
		{[]string{"-seed", "-1"}, `invalid value "-1" for flag -seed`},
		{[]string{"-split", "0.8,0.2"}, "want three fractions"},
		{[]string{"-split", "0.8,x,0.1"}, `"x" is not a number`},
		{[]string{"-split", "0.5,0.5,0.5"}, "sum to 1.5, not 1"},
		{[]string{"-split", "1.1,-0.1,0"}, "validation fraction -0.1"},
		{[]string{"-heldout", "qa,nosuch"}, `-heldout: unknown template "nosuch"`},
		{[]string{"-heldout", strings.Join(dataset.Templates(), ",")}, "every template is held out"},
		{[]string{"-email", "1.5"}, "-email 1.5: want a probability"},
		{[]string{"-email", "NaN"}, "-email NaN"},
		{[]string{"-o", ""}, "-o: empty file name"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"-schema", filepath.Join(dir, "none.json")}, "schema: open"},
		{[]string{"-tokenizer", filepath.Join(dir, "none.json")}, "none.json: cannot read file"},
		{[]string{"-o", filepath.Join(dir, "no", "such", "dir", "x.jsonl")}, "no such file or directory"},
	} {
		code, stdout, stderr := run(t, c.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("datagen %v: exit %d, stderr %q; want exit 1 and %q", c.args, code, stderr, c.want)
		}
	}
	if code, _, _ := run(t, "-h"); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}

// TestGolden pins the output for a small run (go test -update rewrites
// testdata/seed1_n16.jsonl); it is also a sample of the format.
func TestGolden(t *testing.T) {
	got, _ := generate(t, "-n", "16", "-seed", "1")
	golden := filepath.Join("testdata", "seed1_n16.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)", golden)
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := generate(t, "-n", "60", "-seed", "42")
	b, _ := generate(t, "-n", "60", "-seed", "42")
	if !bytes.Equal(a, b) {
		t.Error("same seed, different files")
	}
	c, _ := generate(t, "-n", "60", "-seed", "43")
	if bytes.Equal(a, c) {
		t.Error("seeds 42 and 43 gave the same file")
	}
	code, stdout, _ := run(t, "-n", "60", "-seed", "42", "-o", "-", "-q")
	if code != 0 || stdout != string(a) {
		t.Errorf("-o - (exit %d) differs from the file", code)
	}
}

// TestDataSet generates 1000 examples and checks every line: it parses,
// the split counts are exact, held-out templates stay out of train, the
// completion is the prompt's answer as the decoder writes it and validates,
// and number words in the text match years_of_experience.
func TestDataSet(t *testing.T) {
	b, stderr := generate(t, "-n", "1000", "-seed", "5")
	if !strings.Contains(stderr, "datagen: 500/1000 examples (50%)") || !strings.Contains(stderr, "wrote 1000 examples (train 800, validation 100, test 100;") {
		t.Errorf("progress and summary missing from stderr:\n%s", stderr)
	}
	recs, err := dataset.Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1000 {
		t.Fatalf("%d records", len(recs))
	}
	tok, err := tokenizer.Load(tokenizerPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := schema.Load(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	res, err := compiler.Compile(doc, tok, compiler.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(schemaPath)
	x, err := templates.NewExtraction(raw)
	if err != nil {
		t.Fatal(err)
	}
	number := regexp.MustCompile(`(?i)\b([a-z]+(?:-[a-z]+)?)[ -](?:years?|yrs?)\b`)
	counts := map[dataset.Split]int{}
	words, nulls := 0, 0
	for i, r := range recs {
		counts[r.Split]++
		if r.ID != i {
			t.Fatalf("line %d has id %d", i+1, r.ID)
		}
		if r.Split == dataset.Train && slices.Contains(dataset.DefaultHeldOut, r.Template) {
			t.Errorf("record %d: held-out template %s in train", i, r.Template)
		}
		if r.Prompt != x.Prompt(r.Input) || !strings.HasSuffix(r.Prompt, templates.Cue) {
			t.Errorf("record %d: prompt is not the template's", i)
		}
		v, err := schema.ParseJSON([]byte(r.Completion), "completion")
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if got := string(res.Text(v)); got != r.Completion {
			t.Errorf("record %d: completion not laid out as the decoder writes it:\n%s\nwant\n%s", i, r.Completion, got)
		}
		if err := res.Accept(v, tok); err != nil {
			t.Errorf("record %d: %v", i, err)
		}
		var p dataset.Profile
		if err := json.Unmarshal([]byte(r.Completion), &p); err != nil {
			t.Fatal(err)
		}
		if p.Email == nil {
			nulls++
			if !strings.Contains(r.Completion, `"email": null,`) {
				t.Errorf("record %d: no \"email\": null in %s", i, r.Completion)
			}
		}
		for _, m := range number.FindAllStringSubmatch(r.Input, -1) {
			if n, ok := dataset.ParseWords(m[1]); ok {
				words++
				if n != p.YearsOfExperience {
					t.Errorf("record %d: %q in the text, years_of_experience %d", i, m[0], p.YearsOfExperience)
				}
			}
		}
	}
	if counts[dataset.Train] != 800 || counts[dataset.Validation] != 100 || counts[dataset.Test] != 100 {
		t.Errorf("split counts %v, want 800/100/100", counts)
	}
	if words < 200 {
		t.Errorf("only %d texts write the years in words", words)
	}
	if nulls < 200 || nulls > 400 {
		t.Errorf("%d of 1000 profiles without email, want about 300", nulls)
	}
}

// TestRejected: with a schema the generator's profiles do not satisfy
// (at most 2 skills), datagen names the first bad example, exits 2 and
// leaves no file behind.
func TestRejected(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "data.jsonl")
	var o, e bytes.Buffer
	code := cli.Run([]string{"-schema", "testdata/strict.schema.json", "-tokenizer", tokenizerPath, "-n", "5", "-o", out}, &o, &e)
	if code != cli.ExitRejected || !strings.Contains(e.String(), "example 0 (template ") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming example 0", code, e.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left behind: %v", ents)
	}
}

func TestTemplatesFlag(t *testing.T) {
	code, stdout, _ := run(t, "-templates")
	if code != 0 || !strings.Contains(stdout, "article\n") || !strings.Contains(stdout, "qa\theld out\n") {
		t.Errorf("-templates: exit %d, %q", code, stdout)
	}
}
