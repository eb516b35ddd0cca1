package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/gen/userprofile"
	"github.com/schemac-dev/schemac/runtime/dataset"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/train"
)

// writeProfileData writes n records with short prompts and UserProfile
// completions laid out as the decoder writes them (every fifth is
// validation).
func writeProfileData(t *testing.T, n int) string {
	t.Helper()
	var b bytes.Buffer
	for i := range n {
		v := userprofile.UserProfile{FullName: fmt.Sprintf("Person %d", i), YearsOfExperience: int64(i % 7),
			Skills: []string{"Go"}, PrimaryRole: userprofile.PrimaryRoleDevOpsEngineer}
		text, err := v.Text()
		if err != nil {
			t.Fatal(err)
		}
		prompt := fmt.Sprintf("Person %d, DevOps, %d years.\nExtracted JSON:\n", i, i%7)
		split := dataset.Train
		if i%5 == 4 {
			split = dataset.Validation
		}
		b.Write(dataset.Record{ID: i, Split: split, Prompt: prompt, Completion: string(text), Text: prompt + string(text)}.MarshalLine())
	}
	p := filepath.Join(t.TempDir(), "profiles.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMaskLoss trains with -mask-loss end to end (gradient accumulation,
// checkpoints, evaluation, the adapter), compares its first loss with an
// unmasked run's (the masked softmax covers far fewer tokens: lower),
// refuses to resume the masked run without -mask-loss, and resumes it
// with.
func TestMaskLoss(t *testing.T) {
	data := writeProfileData(t, 10)
	args := append(small, "-data", data, "-quant", "f32", "-accum", "2", "-save-every", "1", "-eval-every", "1")
	out := t.TempDir()
	code, stdout, stderr := runCmd(t, append(args, "-o", out, "-steps", "2", "-mask-loss")...)
	if code != ExitOK {
		t.Fatalf("-mask-loss: exit %d: %s", code, stderr)
	}
	var masked, plain map[string]any
	if err := json.Unmarshal([]byte(stdout), &masked); err != nil || masked["steps"] != 2.0 || masked["eval_loss"] == nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	code, stdout, stderr = runCmd(t, append(args, "-o", t.TempDir(), "-steps", "1")...)
	if code != ExitOK || json.Unmarshal([]byte(stdout), &plain) != nil {
		t.Fatalf("unmasked: exit %d: %s", code, stderr)
	}
	t.Logf("first loss masked %.4f, unmasked %.4f; masked eval loss %.4f", masked["first_loss"], plain["first_loss"], masked["eval_loss"])
	if !(masked["first_loss"].(float64) < plain["first_loss"].(float64)) {
		t.Errorf("masked first loss %v not below the unmasked %v", masked["first_loss"], plain["first_loss"])
	}
	code, _, stderr = runCmd(t, append(args, "-o", out, "-steps", "3", "-resume")...)
	if code != ExitFailure || !strings.Contains(stderr, "masked by userprofile") {
		t.Fatalf("resume without -mask-loss: exit %d, %s", code, stderr)
	}
	code, _, stderr = runCmd(t, append(args, "-o", out, "-steps", "3", "-resume", "-mask-loss")...)
	if code != ExitOK || !strings.Contains(stderr, "step 3/3") {
		t.Fatalf("resume with -mask-loss: exit %d, %s", code, stderr)
	}
	if log, err := train.ReadLog(out); err != nil || len(log.Steps) != 3 {
		t.Fatalf("log %+v, %v", log, err)
	}
	cfg, _ := model.NamedConfig("random:tiny")
	a, err := model.ReadAdapter(out, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
}

// TestMaskLossErrors: completions the schema refuses are bad data naming
// the record; an unknown -schema, a tokenizer the tables were not compiled
// for, and a model of another vocabulary size are refused before training.
func TestMaskLossErrors(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCmd(t, append(small, "-data", writeData(t, 5), "-o", out, "-steps", "1", "-mask-loss")...)
	if code != ExitBadData || !strings.Contains(stderr, "-mask-loss with schema userprofile") || !strings.Contains(stderr, "record id 0") || !strings.Contains(stderr, "token not allowed") {
		t.Fatalf("refused completion: exit %d, %s", code, stderr)
	}
	data := writeProfileData(t, 5)
	code, _, stderr = runCmd(t, append(small, "-data", data, "-o", out, "-mask-loss", "-schema", "nope")...)
	if code != ExitFailure || !strings.Contains(stderr, `-schema "nope"`) || !strings.Contains(stderr, "functioncall, invoice, supportticket, userprofile") {
		t.Fatalf("unknown schema: exit %d, %s", code, stderr)
	}

	// A tokenizer that differs from the tables' (one flag of <unk>).
	text, err := os.ReadFile(tokenizerPath)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(other, bytes.Replace(text, []byte(`"lstrip": false`), []byte(`"lstrip": true`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(t, append(small, "-data", data, "-o", out, "-mask-loss", "-tokenizer", other)...)
	if code != ExitFailure || !strings.Contains(stderr, "-mask-loss: schema userprofile") || !strings.Contains(stderr, "recompile the schema for this tokenizer") {
		t.Fatalf("other tokenizer: exit %d, %s", code, stderr)
	}

	// A model with a larger vocabulary than the tables'.
	cfg, _ := model.NamedConfig("random:tiny")
	cfg.VocabSize = 32768
	dir := t.TempDir()
	cj, err := train.HFConfigJSON(cfg, "float32")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cj, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(t, "-model", dir, "-data", data, "-o", out, "-mask-loss")
	if code != ExitFailure || !strings.Contains(stderr, "vocabulary of 32000 tokens") || !strings.Contains(stderr, "the model 32768") {
		t.Fatalf("other vocabulary size: exit %d, %s", code, stderr)
	}
}
