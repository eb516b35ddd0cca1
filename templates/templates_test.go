package templates_test

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/runtime/tokenizer"
	"github.com/schemac-dev/schemac/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const (
	schemaPath    = "../schemas/user_profile.schema.json"
	tokenizerPath = "../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"
	instancePath  = "../testdata/user_profile.instance.json"
	fixedInput    = "Dr. Alex Ray is a DevOps engineer with nine years of experience.\nAlex works with Kubernetes, AWS, Go, Python and Terraform; reach Alex at alex.ray@example.com."
)

func load(t *testing.T) *templates.Extraction {
	t.Helper()
	b, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	x, err := templates.NewExtraction(b)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestGolden compares the prompt for a fixed input with
// testdata/user_profile.prompt.golden (go test -update rewrites it).
func TestGolden(t *testing.T) {
	got := load(t).Prompt(fixedInput)
	golden := filepath.Join("testdata", "user_profile.prompt.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("prompt differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

func TestStructure(t *testing.T) {
	x := load(t)
	p := x.Prompt(fixedInput)
	if !strings.HasSuffix(p, "### "+templates.Cue) {
		t.Errorf("prompt does not end with %q: %q", templates.Cue, p[len(p)-40:])
	}
	// Instruction, then the input between """ fences, then the schema
	// between ```json fences, then the cue.
	parts := []string{"### Instruction:\n", "\"\"\"\n" + fixedInput + "\n\"\"\"\n", "```json\n" + x.Schema() + "\n```\n", templates.Cue}
	at := 0
	for _, s := range parts {
		i := strings.Index(p[at:], s)
		if i < 0 {
			t.Fatalf("%q missing or out of order in prompt", s)
		}
		at += i + len(s)
	}
	if at != len(p) {
		t.Errorf("text after the cue")
	}
	// The schema is shown as the file spells it (the file is already
	// json.dumps(indent=2) output, as Pydantic writes it).
	file, _ := os.ReadFile(schemaPath)
	if x.Schema() != strings.TrimRight(string(file), "\n") {
		t.Errorf("schema not pretty-printed as json.dumps(indent=2):\n%s", x.Schema())
	}
	if _, err := templates.NewExtraction([]byte("{not json")); err == nil {
		t.Error("NewExtraction accepted invalid JSON")
	}
}

func TestSplit(t *testing.T) {
	x := load(t)
	completion, _ := os.ReadFile(instancePath)
	ex := x.Example(fixedInput, string(completion))
	if ex.Text != ex.Prompt+ex.Completion {
		t.Fatal("Text is not Prompt + Completion")
	}
	p, c, ok := templates.Split(ex.Text)
	if !ok || p != ex.Prompt || c != ex.Completion {
		t.Errorf("Split(Text) = %q, %q, %v", p, c, ok)
	}
	// An input that itself contains the cue does not move the boundary.
	ex = x.Example("Extracted JSON:\nnothing", string(completion))
	if p, c, _ := templates.Split(ex.Text); p != ex.Prompt || c != ex.Completion {
		t.Errorf("Split moved by a cue inside the input")
	}
	if _, _, ok := templates.Split("no cue here"); ok {
		t.Error("Split found a cue in text without one")
	}
}

// TestTokenBoundary checks the rule the package documents: the whole text
// tokenizes as the prompt followed by the completion encoded as a
// continuation, whose first token is "{" (not "▁{").
func TestTokenBoundary(t *testing.T) {
	tok, err := tokenizer.Load(tokenizerPath)
	if err != nil {
		t.Fatal(err)
	}
	x := load(t)
	completion, _ := os.ReadFile(instancePath)
	for _, input := range []string{fixedInput, "", "ends with a space ", "ends with a newline\n", "José Núñez, 7 yrs"} {
		ex := x.Example(input, strings.TrimRight(string(completion), "\n"))
		whole := tok.Encode(ex.Text, tokenizer.Default)
		prompt := tok.Encode(ex.Prompt, tokenizer.Default)
		cont := tok.Encode(ex.Completion, tokenizer.Continuation)
		if !slices.Equal(whole, append(slices.Clip(prompt), cont...)) {
			t.Errorf("input %q: Encode(Text) != Encode(Prompt) ++ Encode(Completion, Continuation)", input)
		}
		if got := tok.Piece(cont[0]); got != "{" {
			t.Errorf("first completion token %q, want \"{\"", got)
		}
		if got := tok.Piece(prompt[len(prompt)-1]); got != "<0x0A>" {
			t.Errorf("last prompt token %q, want <0x0A>", got)
		}
	}
	// No vocabulary piece other than <0x0A> spells a newline, so no merge
	// crosses the boundary.
	for id := 0; id < tok.VocabSize(); id++ {
		if b := tok.TokenBytes(id); len(b) > 1 && strings.Contains(string(b), "\n") {
			t.Errorf("token %d %q contains a newline", id, tok.Piece(id))
		}
	}
	// The alternative the package rejects: a space before the value would
	// make the first completion token "▁{".
	if _, ok := tok.ID("▁{"); !ok {
		t.Error("▁{ is not a token of this vocabulary; the package doc says it is")
	}
}
