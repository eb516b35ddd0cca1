package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/runtime/gpudecode"
)

const (
	fixture = "../../../testdata/fixtures/tiny-mistral"
	lora    = "../../../testdata/fixtures/tiny-mistral-lora"
	tokPath = "../../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"
)

func TestMain(m *testing.M) {
	os.Setenv("GOMLX_BACKEND", "go") // never XLA in tests
	os.Exit(m.Run())
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndBadInput(t *testing.T) {
	if _, err := os.Stat(fixture); err != nil {
		t.Skip("fixture absent: run testdata/fixtures/make_reference.py")
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no model", nil, 1, "-model is required"},
		{"bad quant", []string{"-model", fixture, "-quant", "q8"}, 1, `-quant "q8"`},
		{"bad schema", []string{"-model", fixture, "-schema", "nope"}, 1, "userprofile"},
		{"merge nf4", []string{"-model", fixture, "-adapter", lora, "-merge", "-quant", "nf4"}, 1, "not supported"},
		{"merge without adapter", []string{"-model", fixture, "-merge"}, 1, "-merge needs -adapter"},
		{"double quant of bf16", []string{"-model", fixture, "-double-quant"}, 1, "-double-quant needs -quant nf4"},
		{"bad random adapter", []string{"-model", fixture, "-tokenizer", tokPath, "-adapter", "random:0"}, 1, "random:R with a positive rank"},
		{"missing dir", []string{"-model", filepath.Join(t.TempDir(), "none")}, 2, "config"},
		{"unknown random", []string{"-model", "random:llama-70b"}, 2, "random:mistral-7b"},
		{"missing tokenizer", []string{"-model", fixture}, 2, "tokenizer.json"},
		{"missing weights", []string{"-model", t.TempDir()}, 2, "config.json"},
		{"stray argument", []string{"-model", fixture, "extra"}, 1, "unexpected arguments"},
		{"unknown backend", []string{"-model", fixture, "-tokenizer", tokPath, "-prompt", "x", "-backend", "nope"}, 2, `backend "nope"`},
		{"bad engine", []string{"-model", fixture, "-engine", "tensorrt"}, 1, `-engine "tensorrt": auto, xla or cuda`},
		{"cuda engine on the CPU", []string{"-model", fixture, "-tokenizer", tokPath, "-prompt", "x", "-engine", "cuda"}, 2, "-engine cuda: the backend is not XLA on a CUDA GPU"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
	// A bad engine option in the environment is a usage error before any
	// work, whichever engine would run, not a silent fall-back to XLA.
	t.Run("bad engine option", func(t *testing.T) {
		t.Setenv(gpudecode.OptionsEnv, "NF4Rows=four")
		code, _, stderr := runCLI("-model", fixture, "-tokenizer", tokPath, "-prompt", "x", "-max", "2")
		if code != 1 || !strings.Contains(stderr, gpudecode.OptionsEnv) || !strings.Contains(stderr, `"four" is not an integer`) {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	// An adapter for another base is refused before the weights load.
	dir := t.TempDir()
	cfg, _ := os.ReadFile(filepath.Join(lora, "adapter_config.json"))
	os.WriteFile(filepath.Join(dir, "adapter_config.json"), cfg, 0o644)
	os.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), []byte("not safetensors"), 0o644)
	code, _, stderr := runCLI("-model", fixture, "-tokenizer", tokPath, "-adapter", dir, "-prompt", "x")
	if code != 2 || !strings.Contains(stderr, "adapter_model.safetensors") {
		t.Errorf("bad adapter: exit %d, %q", code, stderr)
	}
}

// TestExtract runs the fixture model with its adapter, NF4: the output is
// a valid prefix of a UserProfile value; the random model does not finish
// within -max, which is exit 2 with the prefix on stdout.
func TestExtract(t *testing.T) {
	if _, err := os.Stat(fixture); err != nil {
		t.Skip("fixture absent: run testdata/fixtures/make_reference.py")
	}
	code, stdout, stderr := runCLI("-model", fixture, "-tokenizer", tokPath, "-adapter", lora, "-quant", "nf4",
		"-prompt", "Jane Doe, jane@example.com, seven years of Go.", "-max", "12", "-v")
	if code != 2 || !strings.Contains(stderr, "no complete value within -max 12") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stdout, "{\n  \"full_name\": \"") {
		t.Errorf("stdout %q", stdout)
	}
	if !strings.Contains(stderr, "forced") {
		t.Errorf("no statistics on stderr: %q", stderr)
	}
	if !strings.Contains(stderr, "decode step: XLA programs (the backend is not XLA on a CUDA GPU)") {
		t.Errorf("-engine auto on the CPU does not say which step it runs: %q", stderr)
	}
}

// TestBenchRandomAdapter: -bench on random weights with a random adapter
// (-adapter random:R) prints the table with both rows.
func TestBenchRandomAdapter(t *testing.T) {
	code, stdout, stderr := runCLI("-model", "random:tiny", "-tokenizer", tokPath, "-quant", "nf4", "-adapter", "random:4",
		"-bench", "1", "-max", "24", "-bench-prompt", "16")
	if code != 0 || !strings.Contains(stdout, "unconstrained") || !strings.Contains(stdout, "constrained") || !strings.Contains(stdout, "weights") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
