// Package templates holds the extraction prompt: the one definition of the
// text a model sees, used verbatim by dataset generation (cmd/datagen), the
// trainer and inference (cmd/extract), so that training and inference prompts
// can never drift apart. Nothing else in the repository spells a prompt.
//
// # The prompt
//
// extract.tmpl (a text/template embedded in the binary) follows the
// reference article's structure: an instruction, the input text between
// """ fences, the JSON Schema between ```json fences, then the cue
// "### Extracted JSON:" and one newline. It has two parameters: the input
// text, inserted verbatim, and the schema, pretty-printed once by
// NewExtraction (see Extraction.Schema).
//
// # Where the completion starts
//
// The prompt always ends with Cue, "Extracted JSON:\n". The completion is the
// JSON value laid out exactly as the constrained decoder writes it (for the
// default layout: Python's json.dumps(value, indent=2, ensure_ascii=False),
// members in schema order), starting at its first byte "{" with no leading
// space, and it ends at the value's last byte "}" with no trailing newline.
// A training example's text is Prompt + Completion, nothing between them.
//
// Why a newline and not a space: the decoder's automaton never allows a
// first token that carries a leading space ("▁{" is a Mistral token, but the
// decoder may only start with "{"), and the decoder's output is tokenized as
// a continuation (runtime/tokenizer's Continuation: no BOS, no dummy-prefix
// "▁", the token bytes concatenate to exactly the output). With Mistral's
// vocabulary a newline is only ever the byte token <0x0A>: no piece contains
// it, so no BPE merge crosses it. Hence, for every example,
//
//	Encode(Text, Default) == Encode(Prompt, Default) ++ Encode(Completion, Continuation)
//
// (cmd/datagen checks this for every record it writes): the tokens a trainer
// computes for the completion are exactly the tokens the decoder emits from
// its initial state, and the completion's tokens start at index
// len(Encode(Prompt, Default)) — that is where the completion-only loss mask
// starts. A prompt ending in "Extracted JSON: " would instead train the model
// on "▁{", a token the decoder can never emit.
//
// # EOS
//
// Neither the prompt nor the text contains an EOS string ("</s>"). The
// trainer appends the tokenizer's EOS id after the completion's tokens (and
// the loss covers it, so the model learns to stop); the BOS id comes from the
// Default encoding of the prompt. At inference the decoder's automaton allows
// EOS exactly where the JSON value is complete.
package templates

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
)

// Cue is how every prompt ends; the completion follows it directly.
const Cue = "Extracted JSON:\n"

//go:embed extract.tmpl
var extractSource string

var extract = template.Must(template.New("extract.tmpl").Option("missingkey=error").Parse(extractSource))

// Extraction renders the extraction prompt for one schema.
type Extraction struct {
	schema string
}

// NewExtraction prepares prompts for the schema document schemaJSON. The
// schema is pretty-printed with two-space indentation and the document's own
// member order, as the article's json.dumps(model_json_schema(), indent=2)
// writes it (numbers and string escapes are kept as the document spells
// them).
func NewExtraction(schemaJSON []byte) (*Extraction, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, schemaJSON); err != nil {
		return nil, fmt.Errorf("templates: schema is not JSON: %w", err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, compact.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("templates: schema is not JSON: %w", err)
	}
	return &Extraction{schema: pretty.String()}, nil
}

// Schema is the pretty-printed schema as the prompt shows it.
func (x *Extraction) Schema() string { return x.schema }

// Prompt renders the prompt for input. The input is inserted verbatim
// between the """ fences; the result ends with Cue.
func (x *Extraction) Prompt(input string) string {
	var b strings.Builder
	err := extract.Execute(&b, struct{ Input, Schema string }{input, x.schema})
	if err != nil {
		// The template is fixed and its data are two strings: execution
		// cannot fail unless the embedded file is broken, which the tests
		// catch.
		panic("templates: " + err.Error())
	}
	return b.String()
}

// Example is one training example.
type Example struct {
	// Prompt ends with Cue.
	Prompt string
	// Completion is the JSON value as the decoder writes it.
	Completion string
	// Text is Prompt + Completion, the field SFT trainers read; no EOS.
	Text string
}

// Example renders the training example for input and its completion.
func (x *Extraction) Example(input, completion string) Example {
	p := x.Prompt(input)
	return Example{Prompt: p, Completion: completion, Text: p + completion}
}

// Split cuts a training text back into prompt and completion at the last
// Cue. A JSON completion never contains Cue (in JSON a colon is followed by a
// raw newline only right after a member name's closing quote, and inside
// strings newlines are escaped), so the last one is the boundary. ok is false
// when text contains no Cue.
func Split(text string) (prompt, completion string, ok bool) {
	i := strings.LastIndex(text, Cue)
	if i < 0 {
		return "", "", false
	}
	i += len(Cue)
	return text[:i], text[i:], true
}
