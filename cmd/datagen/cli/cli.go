// Package cli implements cmd/datagen, the synthetic data set generator for
// the UserProfile extraction task. cmd/datagen's main is
// os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)).
//
//	datagen [-n 500] [-seed 1] [-o data.jsonl] [-split 0.8,0.1,0.1] [-heldout qa,chat,...]
//	        [-email 0.7] [-schema FILE] [-tokenizer FILE] [-q] [-templates]
//
// It writes one JSON object a line (dataset.Record): id, split, template,
// input, prompt, completion and text = prompt + completion, the prompt
// rendered by package templates. All splits go to one file; the split field
// says which is which (counts from dataset.SplitCounts, so 500 at
// 0.8,0.1,0.1 is exactly 400/50/50). Templates named by -heldout never occur
// in the train split.
//
// Every completion is verified before it is written: the profile is laid
// out by lang.Format with the compiled schema's layout and member order (the
// bytes the constrained decoder writes), the token automaton must accept it
// (compiler.Result.Accept), github.com/santhosh-tekuri/jsonschema/v6 must
// validate it (formats asserted), it must decode back to the generated
// profile, and the text must tokenize as the prompt followed by the
// completion encoded as a continuation (see package templates). A failure
// names the example index and nothing is written.
//
// The output file is written atomically: a temporary file in the same
// directory, renamed over -o only when every example has passed. "-o -"
// writes to standard output (after all examples have passed).
//
// Exit codes: 0 success; 1 bad usage, unreadable schema or tokenizer, or an
// I/O error; 2 a generated example failed verification.
package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/lang"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/dataset"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
	"github.com/schemac-dev/schemac/templates"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitUsage    = 1
	ExitRejected = 2
)

// Defaults, relative to the repository root, so that `go run ./cmd/datagen
// -n 500 -seed 1 -o data.jsonl` works in a fresh clone.
const (
	DefaultSchema    = "schemas/user_profile.schema.json"
	DefaultTokenizer = "testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"
)

// MaxN bounds -n: ten million examples is about 30 GB of JSONL, beyond any
// use of a synthetic set and a sign of a typo.
const MaxN = 10_000_000

// progressMin is the smallest -n that reports progress on stderr.
const progressMin = 1000

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Run runs datagen with args (without the program name) and returns the
// exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("datagen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 500, "number of examples")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same file, byte for byte")
	out := fs.String("o", "-", "output JSONL file (\"-\": standard output)")
	split := fs.String("split", "0.8,0.1,0.1", "train,validation,test fractions")
	heldout := fs.String("heldout", strings.Join(dataset.DefaultHeldOut, ","), "templates used only in validation and test (comma-separated, or \"none\")")
	email := fs.Float64("email", 0.7, "probability that a profile has an e-mail address")
	schemaPath := fs.String("schema", DefaultSchema, "JSON Schema the completions must satisfy")
	tokPath := fs.String("tokenizer", DefaultTokenizer, "Hugging Face tokenizer.json")
	quiet := fs.Bool("q", false, "no progress or summary on stderr")
	list := fs.Bool("templates", false, "list the biography templates and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: datagen [flags]\n\nWrites synthetic UserProfile extraction examples as JSONL.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage // the flag package has printed the error and usage
	}
	if *list {
		held := splitList(*heldout)
		for _, t := range dataset.Templates() {
			mark := ""
			if slices.Contains(held, t) {
				mark = "\theld out"
			}
			fmt.Fprintf(stdout, "%s%s\n", t, mark)
		}
		return ExitOK
	}
	cfg, err := config(fs, *n, *seed, *split, *heldout, *email, *out)
	if err != nil {
		fmt.Fprintf(stderr, "datagen: %v\n", err)
		return ExitUsage
	}
	start := time.Now()
	v, err := newVerifier(*schemaPath, *tokPath)
	if err != nil {
		fmt.Fprintf(stderr, "datagen: %v\n", err)
		return ExitUsage
	}
	g, err := dataset.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "datagen: %v\n", err)
		return ExitUsage
	}
	progress := io.Discard
	if !*quiet {
		progress = stderr
	}
	var longest int
	counts, err := write(*out, stdout, func(w io.Writer) (c [3]int, err error) {
		c, longest, err = generate(g, v, w, progress, start)
		return c, err
	})
	if err != nil {
		fmt.Fprintf(stderr, "datagen: %v\n", err)
		var re *rejectError
		if errors.As(err, &re) {
			return ExitRejected
		}
		return ExitUsage
	}
	if !*quiet {
		name := *out
		if name == "-" {
			name = "standard output"
		}
		fmt.Fprintf(stderr, "datagen: wrote %d examples (train %d, validation %d, test %d; held out of train: %s; longest text %d tokens + EOS) to %s in %.2fs\n",
			cfg.N, counts[0], counts[1], counts[2], heldDesc(cfg.HeldOut), longest, name, time.Since(start).Seconds())
	}
	return ExitOK
}

func config(fs *flag.FlagSet, n int, seed uint64, split, heldout string, email float64, out string) (dataset.Config, error) {
	cfg := dataset.DefaultConfig(seed, n)
	if fs.NArg() > 0 {
		return cfg, usageError{fmt.Sprintf("unexpected argument %q (all options are flags; see -h)", fs.Arg(0))}
	}
	if n < 1 || n > MaxN {
		return cfg, usageError{fmt.Sprintf("-n %d: want a number of examples from 1 to %d", n, MaxN)}
	}
	fr, err := dataset.ParseSplit(split)
	if err != nil {
		return cfg, usageError{"-split: " + err.Error()}
	}
	cfg.Split = fr
	if !(email >= 0 && email <= 1) {
		return cfg, usageError{fmt.Sprintf("-email %v: want a probability from 0 to 1", email)}
	}
	cfg.EmailRate = email
	cfg.HeldOut = splitList(heldout)
	names := dataset.Templates()
	for _, h := range cfg.HeldOut {
		if !slices.Contains(names, h) {
			return cfg, usageError{fmt.Sprintf("-heldout: unknown template %q (templates: %s)", h, strings.Join(names, ", "))}
		}
	}
	if len(cfg.HeldOut) == len(names) {
		return cfg, usageError{"-heldout: every template is held out, so train would have none"}
	}
	if out == "" {
		return cfg, usageError{"-o: empty file name (use - for standard output)"}
	}
	return cfg, nil
}

// splitList reads "a,b" (or "none") as a non-nil list.
func splitList(s string) []string {
	out := []string{}
	if strings.TrimSpace(s) == "none" {
		return out
	}
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func heldDesc(h []string) string {
	if len(h) == 0 {
		return "none"
	}
	return strings.Join(h, ", ")
}

// rejectError is an example that failed verification.
type rejectError struct {
	index    int
	template string
	err      error
}

func (e *rejectError) Error() string {
	return fmt.Sprintf("example %d (template %s) failed verification: %v; nothing written", e.index, e.template, e.err)
}

// generate writes every example to w, verifying each first. It returns the
// split counts and the length in tokens (with BOS) of the longest text.
func generate(g *dataset.Generator, v *verifier, w io.Writer, progress io.Writer, start time.Time) (counts [3]int, longest int, err error) {
	n := g.Len()
	step := n / 10
	for i := range n {
		s := g.Sample(i)
		rec, ntok, err := v.record(s)
		if err != nil {
			return counts, longest, &rejectError{i, s.Template, err}
		}
		longest = max(longest, ntok)
		if _, err := w.Write(rec.MarshalLine()); err != nil {
			return counts, longest, err
		}
		counts[slices.Index(dataset.Splits[:], s.Split)]++
		if n >= progressMin && (i+1)%step == 0 && i+1 < n {
			el := time.Since(start)
			eta := time.Duration(float64(el) / float64(i+1) * float64(n-i-1))
			fmt.Fprintf(progress, "datagen: %d/%d examples (%d%%), %.1fs, ETA %.1fs\n", i+1, n, (i+1)*100/n, el.Seconds(), eta.Seconds())
		}
	}
	return counts, longest, nil
}

// write runs gen on a temporary file next to path and renames it to path
// when gen succeeds; for "-" it buffers and copies to stdout.
func write(path string, stdout io.Writer, gen func(io.Writer) ([3]int, error)) ([3]int, error) {
	if path == "-" {
		var b bytes.Buffer
		counts, err := gen(&b)
		if err != nil {
			return counts, err
		}
		_, err = stdout.Write(b.Bytes())
		return counts, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return [3]int{}, err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	counts, err := gen(bw)
	if err != nil {
		return counts, err
	}
	if err := bw.Flush(); err != nil {
		return counts, err
	}
	if err := f.Chmod(0o644); err != nil {
		return counts, err
	}
	if err := f.Sync(); err != nil {
		return counts, err
	}
	if err := f.Close(); err != nil {
		return counts, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return counts, err
	}
	ok = true
	return counts, nil
}

// verifier lays completions out as the decoder writes them and checks them.
type verifier struct {
	tok    *tokenizer.Tokenizer
	res    *compiler.Result
	valid  *jsonschema.Schema
	prompt *templates.Extraction
}

func newVerifier(schemaPath, tokPath string) (*verifier, error) {
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	doc, err := schema.Load(schemaPath)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	tok, err := tokenizer.Load(tokPath)
	if err != nil {
		return nil, err // names the file: "tokenizer: PATH: ..."
	}
	res, err := compiler.Compile(doc, tok, compiler.Options{})
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", schemaPath, err)
	}
	valid, err := validator(doc)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", schemaPath, err)
	}
	x, err := templates.NewExtraction(raw)
	if err != nil {
		return nil, err
	}
	return &verifier{tok: tok, res: res, valid: valid, prompt: x}, nil
}

// validator compiles doc with the reference validator, formats asserted.
func validator(doc *schema.Document) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(noLoader{})
	c.DefaultDraft(libDraft(doc.Draft))
	const url = "mem://schema.json"
	if err := c.AddResource(url, doc.Root.Interface()); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("datagen loads no remote schemas (%s)", u)
}

func libDraft(d schema.Draft) *jsonschema.Draft {
	switch d {
	case schema.Draft4:
		return jsonschema.Draft4
	case schema.Draft6:
		return jsonschema.Draft6
	case schema.Draft7:
		return jsonschema.Draft7
	case schema.Draft2019:
		return jsonschema.Draft2019
	}
	return jsonschema.Draft2020
}

// record lays out and verifies one sample; ntok is the length of its text
// in tokens, BOS included.
func (v *verifier) record(s dataset.Sample) (r dataset.Record, ntok int, err error) {
	val, err := schema.ParseJSON(s.Profile.JSON(), fmt.Sprintf("example %d", s.Index))
	if err != nil {
		return r, 0, err
	}
	completion := lang.Format(val, v.res.Layout, v.res.Order)
	if err := v.res.Accept(val, v.tok); err != nil {
		return r, 0, fmt.Errorf("the decoder cannot write it: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(completion))
	if err != nil {
		return r, 0, fmt.Errorf("completion is not JSON: %w", err)
	}
	if err := v.valid.Validate(inst); err != nil {
		return r, 0, fmt.Errorf("completion does not validate: %w", err)
	}
	var back dataset.Profile
	dec := json.NewDecoder(bytes.NewReader(completion))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil || !reflect.DeepEqual(back, s.Profile) {
		return r, 0, fmt.Errorf("completion %s does not decode to the generated profile %s", completion, s.Profile.JSON())
	}
	ex := v.prompt.Example(s.Input, string(completion))
	whole := v.tok.Encode(ex.Text, tokenizer.Default)
	prompt := v.tok.Encode(ex.Prompt, tokenizer.Default)
	if len(whole) < len(prompt) || !slices.Equal(whole[:len(prompt)], prompt) ||
		!slices.Equal(whole[len(prompt):], v.tok.Encode(ex.Completion, tokenizer.Continuation)) {
		return r, 0, errors.New("the text does not tokenize as the prompt followed by the completion as the decoder writes it")
	}
	return dataset.Record{
		ID: s.Index, Split: s.Split, Template: s.Template, Input: s.Input,
		Prompt: ex.Prompt, Completion: ex.Completion, Text: ex.Text,
	}, len(whole), nil
}
