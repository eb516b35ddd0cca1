package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/runtime/dataset"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/safetensors"
	"github.com/schemac-dev/schemac/runtime/train"
)

const tokenizerPath = "../../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"

func TestMain(m *testing.M) {
	// Everything runs on the pure-Go backend: nothing may fall through to XLA.
	os.Setenv("GOMLX_BACKEND", "go")
	os.Exit(m.Run())
}

// writeData writes n short records (about 30 tokens each; every fifth is
// validation) and extra lines to a JSONL file.
func writeData(t *testing.T, n int, extra ...string) string {
	t.Helper()
	var b bytes.Buffer
	for i := range n {
		prompt := fmt.Sprintf("Person %d is a developer.\nExtracted JSON:\n", i)
		completion := fmt.Sprintf(`{"full_name": "Person %d", "email": null, "years_of_experience": %d, "skills": ["Go", "SQL", "C"], "primary_role": "Data Scientist"}`, i, i%20)
		split := dataset.Train
		if i%5 == 4 {
			split = dataset.Validation
		}
		b.Write(dataset.Record{ID: i, Split: split, Prompt: prompt, Completion: completion, Text: prompt + completion}.MarshalLine())
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	p := filepath.Join(t.TempDir(), "data.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(append([]string{"-tokenizer", tokenizerPath}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// small are the flags that keep a run of random:tiny short on a CPU.
var small = []string{"-model", "random:tiny", "-batch", "2", "-r", "4", "-pad", "16", "-max-len", "64", "-lr", "1e-2"}

func TestUsageErrors(t *testing.T) {
	data := writeData(t, 5)
	out := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", out}, "-data is required"},
		{[]string{"-data", data}, "-o is required"},
		{[]string{"-data", data, "-o", out, "-quant", "int8"}, `-quant "int8"`},
		{[]string{"-data", data, "-o", out, "-full", "-quant", "nf4"}, "-full trains float32"},
		{[]string{"-data", data, "-o", out, "-quant", "bf16", "-double-quant"}, "-double-quant needs -quant nf4"},
		{[]string{"-data", data, "-o", out, "-quant", "f32", "-bf16-mlp"}, "-bf16-mlp needs a bf16"},
		{[]string{"-data", data, "-o", out, "-loss", "some"}, `-loss "some"`},
		{[]string{"-data", data, "-o", out, "-model", "random:huge"}, `unknown model "random:huge"`},
		{[]string{"-data", data, "-o", out, "-model", "/nonexistent"}, "/nonexistent"},
		{[]string{"-data", "/nonexistent.jsonl", "-o", out}, "/nonexistent.jsonl"},
		{[]string{"-data", data, "-o", out, "-merge-into", out + "/m"}, "-merge-into needs a dense base"},
		{[]string{"-data", data, "-o", out, "-batch", "0"}, "must be positive"},
	} {
		code, _, stderr := runCmd(t, c.args...)
		if code != ExitFailure || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 1 and %q", c.args, code, stderr, c.want)
		}
	}
}

func TestBadData(t *testing.T) {
	data := writeData(t, 10, `{"prompt": "x"`, `{"prompt":"a","completion":"b","split":"dev"}`)
	code, _, stderr := runCmd(t, append(small, "-data", data, "-o", t.TempDir(), "-steps", "1")...)
	if code != ExitBadData || !strings.Contains(stderr, "data.jsonl:11: ") || !strings.Contains(stderr, "-skip-bad") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := runCmd(t, append(small, "-data", data, "-o", t.TempDir(), "-steps", "1", "-skip-bad")...)
	if code != ExitOK || !strings.Contains(stderr, "data.jsonl:11: not a data record") || !strings.Contains(stderr, "data.jsonl:12: unknown split") || !strings.Contains(stderr, "skipped") {
		t.Fatalf("-skip-bad: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// Everything cut away by -max-len.
	code, _, stderr = runCmd(t, "-model", "random:tiny", "-data", data, "-o", t.TempDir(), "-max-len", "4", "-skip-bad")
	if code != ExitBadData || !strings.Contains(stderr, "no training example") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// TestCompletionsValidated: a completion that parses as a record but
// breaks the schema's contract (a required field missing, an age below
// its minimum) is a bad line naming file, line and record; -skip-bad
// skips it, -validate=false trains on it.
func TestCompletionsValidated(t *testing.T) {
	noEmail := `{"id":901,"prompt":"Q\n","completion":"{\"full_name\": \"Ann Lee\"}"}`
	negative := `{"id":902,"prompt":"Q\n","completion":"{\"full_name\": \"Ann Lee\", \"email\": null, \"years_of_experience\": -3, \"skills\": [\"Go\", \"SQL\", \"C\"], \"primary_role\": \"Data Scientist\"}"}`
	data := writeData(t, 10, noEmail, negative)
	code, _, stderr := runCmd(t, append(small, "-data", data, "-o", t.TempDir(), "-steps", "1")...)
	if code != ExitBadData || !strings.Contains(stderr, "data.jsonl:11: record id 901: the completion does not validate") || !strings.Contains(stderr, "-validate=false") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCmd(t, append(small, "-data", data, "-o", t.TempDir(), "-steps", "1", "-skip-bad")...)
	if code != ExitOK || !strings.Contains(stderr, "data.jsonl:11: record id 901") || !strings.Contains(stderr, "data.jsonl:12: record id 902") {
		t.Fatalf("-skip-bad: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCmd(t, append(small, "-data", data, "-o", t.TempDir(), "-steps", "1", "-validate=false")...)
	if code != ExitOK || strings.Contains(stderr, "does not validate") {
		t.Fatalf("-validate=false: exit %d, stderr %q", code, stderr)
	}
}

// TestTrainResumeAdapter trains 3 steps with checkpoints, resumes to 5,
// and loads the adapter with model.ReadAdapter; the log has one entry per
// step and a second run into the same directory without -resume is
// refused.
func TestTrainResumeAdapter(t *testing.T) {
	data := writeData(t, 20)
	out := t.TempDir()
	args := append(small, "-data", data, "-o", out, "-save-every", "1", "-eval-every", "2")
	code, stdout, stderr := runCmd(t, append(args, "-steps", "3")...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "step 3/3") || !strings.Contains(stderr, "tokens/s") || !strings.Contains(stderr, "ETA") {
		t.Errorf("progress: %s", stderr)
	}
	var summary map[string]any
	if err := json.Unmarshal([]byte(stdout), &summary); err != nil || summary["steps"] != 3.0 {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	code, _, stderr = runCmd(t, append(args, "-steps", "5")...)
	if code != ExitFailure || !strings.Contains(stderr, "-resume") {
		t.Fatalf("rerun without -resume: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCmd(t, append(args, "-steps", "5", "-resume", "-batch", "3")...)
	if code != ExitFailure || !strings.Contains(stderr, "resume with the same settings") {
		t.Fatalf("resume with another -batch: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCmd(t, append(args, "-steps", "5", "-resume")...)
	if code != ExitOK || !strings.Contains(stderr, "resuming at step 3") || !strings.Contains(stderr, "step 5/5") {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	log, err := train.ReadLog(out)
	if err != nil || len(log.Steps) != 5 || log.Steps[4].Step != 5 || log.Steps[3].EvalLoss == nil {
		t.Fatalf("log %+v, %v", log, err)
	}
	cfg, _ := model.NamedConfig("random:tiny")
	a, err := model.ReadAdapter(out, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.R != 4 || a.Alpha != 16 || len(a.Modules()) != 7*cfg.NumLayers {
		t.Errorf("adapter r %d alpha %g, %d modules", a.R, a.Alpha, len(a.Modules()))
	}
	var pc map[string]any
	text, _ := os.ReadFile(filepath.Join(out, model.AdapterConfigFile))
	if json.Unmarshal(text, &pc) != nil || pc["task_type"] != "CAUSAL_LM" || pc["peft_type"] != "LORA" {
		t.Errorf("adapter_config.json: %s", text)
	}
	if st, err := os.Stat(filepath.Join(out, "loss.png")); err != nil || st.Size() < 100 {
		t.Errorf("loss.png: %v", err)
	}
}

// TestEpochsAccumFullLoss: without -steps, one epoch of 16 train
// sequences in micro-batches of 2 accumulated by 2 is 4 steps.
func TestEpochsAccumFullLoss(t *testing.T) {
	data := writeData(t, 20)
	code, stdout, stderr := runCmd(t, append(small, "-data", data, "-o", t.TempDir(), "-epochs", "1", "-accum", "2", "-loss", "full")...)
	var summary map[string]any
	if code != ExitOK || json.Unmarshal([]byte(stdout), &summary) != nil || summary["steps"] != 4.0 {
		t.Fatalf("exit %d, summary %q, stderr %s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "4 steps of 2×2 sequences") {
		t.Errorf("stderr %s", stderr)
	}
}

// TestFullAndMerge: -full writes a checkpoint that model.ReadConfig and
// LoadWeights read; -merge-into writes the base with the adapter merged.
func TestFullAndMerge(t *testing.T) {
	data := writeData(t, 10)
	backend, err := simplego.New("parallelism=-1")
	if err != nil {
		t.Fatal(err)
	}
	load := func(dir string) *model.Weights {
		cfg, err := model.ReadConfig(dir)
		if err != nil {
			t.Fatal(err)
		}
		set, err := safetensors.OpenModel(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		w, err := model.LoadWeights(cfg, set, model.LoadOptions{DType: dtypes.Float32})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	out := t.TempDir()
	code, _, stderr := runCmd(t, append(small, "-data", data, "-o", out, "-steps", "2", "-full")...)
	if code != ExitOK {
		t.Fatalf("-full: exit %d: %s", code, stderr)
	}
	load(out).Finalize()

	out2, merged := t.TempDir(), filepath.Join(t.TempDir(), "merged")
	code, _, stderr = runCmd(t, append(small, "-data", data, "-o", out2, "-steps", "2", "-quant", "f32", "-merge-into", merged)...)
	if code != ExitOK {
		t.Fatalf("-merge-into: exit %d: %s", code, stderr)
	}
	w := load(merged)
	defer w.Finalize()
	if _, err := model.New(backend, w); err != nil {
		t.Fatal(err)
	}
}

// TestBench: -bench runs without data, prints one JSON line with
// tokens/s and the memory estimate (here without XLA's figures), on the
// layered step and with -one-program.
func TestBench(t *testing.T) {
	for _, extra := range [][]string{nil, {"-one-program", "-accum", "2"}} {
		code, stdout, stderr := runCmd(t, append([]string{"-model", "random:tiny", "-bench", "1", "-batch", "1", "-max-len", "16", "-r", "4"}, extra...)...)
		var res BenchResult
		if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil {
			t.Fatalf("%v: exit %d, stdout %q, stderr %s", extra, code, stdout, stderr)
		}
		if !(res.TokensPS > 0) || res.Steps != 1 || res.Seq != 16 || res.PeakBytes <= res.ResidentBytes || res.BaseBytes == 0 ||
			res.PeakProgram == "" || len(res.Programs) == 0 || !strings.Contains(stderr, "device memory estimate") {
			t.Errorf("%v: %+v\n%s", extra, res, stderr)
		}
		if want := map[bool]string{false: "layered", true: "one-program"}[extra != nil]; res.Path != want {
			t.Errorf("path %s, want %s", res.Path, want)
		}
	}
	// -double-quant (the default with nf4) stores the NF4 absmax values
	// in fewer bytes
	base := map[bool]int64{}
	for _, dq := range []bool{false, true} {
		args := []string{"-model", "random:tiny", "-bench", "1", "-batch", "1", "-max-len", "16", "-r", "4"}
		if !dq {
			args = append(args, "-double-quant=false")
		}
		code, stdout, stderr := runCmd(t, args...)
		var res BenchResult
		if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil {
			t.Fatalf("-double-quant %v: exit %d, stdout %q, stderr %s", dq, code, stdout, stderr)
		}
		base[dq] = res.BaseBytes
	}
	if !(base[true] < base[false]) {
		t.Errorf("base bytes %d with -double-quant, %d without", base[true], base[false])
	}
	// on the CPU, -measure-memory says it cannot measure and runs anyway
	code, stdout, stderr := runCmd(t, "-model", "random:tiny", "-bench", "1", "-batch", "1", "-max-len", "16", "-r", "4", "-measure-memory")
	var res BenchResult
	if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil || !strings.Contains(stderr, "not measured") || res.MeasuredPeakBytes != 0 {
		t.Errorf("-measure-memory on the CPU: exit %d, measured %d, stderr %s", code, res.MeasuredPeakBytes, stderr)
	}
	// -memory-limit caps XLA's CUDA allocator: refused elsewhere, with
	// -measure-memory, or when not positive
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-memory-limit", "10"}, "-memory-limit needs the XLA CUDA backend"},
		{[]string{"-memory-limit", "10", "-measure-memory"}, "exclude each other"},
		{[]string{"-memory-limit", "-1"}, "-memory-limit must be positive"},
		{[]string{"-sample-memory", "-measure-memory"}, "-sample-memory excludes"},
	} {
		args := append([]string{"-model", "random:tiny", "-bench", "1", "-batch", "1", "-max-len", "16", "-r", "4"}, tc.args...)
		if code, _, stderr := runCmd(t, args...); code != ExitFailure || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %s; want %q", tc.args, code, stderr, tc.want)
		}
	}
	code, stdout, stderr = runCmd(t, "-model", "random:tiny", "-bench", "1", "-batch", "1", "-max-len", "16", "-r", "4", "-sample-memory")
	if code != ExitOK || json.Unmarshal([]byte(stdout), &res) != nil || !strings.Contains(stderr, "-sample-memory needs the XLA CUDA backend") || res.MeasuredPeakBytes != 0 {
		t.Errorf("-sample-memory on the CPU: exit %d, measured %d, stderr %s", code, res.MeasuredPeakBytes, stderr)
	}
	if code, _, stderr := runCmd(t, "-bench", "1", "-mask-loss"); code != ExitFailure || !strings.Contains(stderr, "no -mask-loss") {
		t.Errorf("-bench -mask-loss: exit %d, %s", code, stderr)
	}
}
