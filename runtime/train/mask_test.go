package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/gen/userprofile"
	"github.com/schemac-dev/schemac/runtime/dataset"
	"github.com/schemac-dev/schemac/runtime/mask"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

// profileRecords are n examples with short prompts and UserProfile
// completions laid out as the decoder writes them (about 60 tokens).
func profileRecords(t testing.TB, n int) []dataset.Record {
	t.Helper()
	names := []string{"Ada Lovelace", "Bob Stone", "Cy Young"}
	roles := []userprofile.PrimaryRole{userprofile.PrimaryRoleBackendEngineer, userprofile.PrimaryRoleDataScientist}
	var out []dataset.Record
	for i := range n {
		v := userprofile.UserProfile{FullName: names[i%len(names)], YearsOfExperience: int64(1 + i), Skills: []string{"Go", "SQL"}[:1+i%2], PrimaryRole: roles[i%len(roles)]}
		if i%2 == 1 {
			e := "a@b.io"
			v.Email = &e
		}
		text, err := v.Text()
		if err != nil {
			t.Fatal(err)
		}
		prompt := fmt.Sprintf("%s, %d years.\nExtracted JSON:\n", v.FullName, v.YearsOfExperience)
		out = append(out, dataset.Record{ID: 100 + i, Split: dataset.Train, Prompt: prompt, Completion: string(text), Text: prompt + string(text)})
	}
	return out
}

func profileTable(t testing.TB, tok *tokenizer.Tokenizer) *mask.Table {
	t.Helper()
	tab, err := userprofile.TableFor(tok.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestMaskedLoss: at the same parameters (random nonzero LoRA factors),
// the masked evaluation loss of a batch equals a host reference — the
// log-softmax over the tokens the UserProfile table allows in the state
// the completion has reached (mask.Table.Allowed), from Trainer.Logits —
// and the unmasked one equals the full log-softmax, both within 1e-4; the
// masked loss is strictly smaller. A training step (no dropout) reports
// the same masked loss before it updates; checkpoints record the masked
// loss and refuse to resume without it.
func TestMaskedLoss(t *testing.T) {
	start := time.Now()
	tok := loadTokenizer(t)
	tab := profileTable(t, tok)
	recs := profileRecords(t, 2)
	seqs, _, _, err := TokenizeMasked(tok, recs, 0, false, tab)
	if err != nil {
		t.Fatal(err)
	}
	plain, _, _ := Tokenize(tok, recs, 0, false)
	for i := range seqs {
		if fmt.Sprint(seqs[i].Tokens) != fmt.Sprint(plain[i].Tokens) || plain[i].MaskRows != nil {
			t.Fatal("TokenizeMasked tokenizes differently from Tokenize")
		}
	}
	batch := MakeBatch(seqs, 16)

	cfg := tinyConfig(t)
	base := randomWeights(t, cfg, dtypes.Float32, model.Dense, 7, 0.1)
	defer base.Finalize()
	opts := DefaultOptions()
	opts.R, opts.Dropout, opts.Steps, opts.WarmupRatio, opts.LR, opts.Targets = 4, 0, 1, 0, 1e-2, []string{"q_proj", "down_proj"}
	masked := opts
	masked.MaskTable, masked.MaskName = tab, "userprofile"
	trainers := map[bool]*Trainer{}
	r := rand.New(rand.NewPCG(3, 4))
	bs := map[string][]float32{} // the same random B factors for both
	for _, m := range []bool{false, true} {
		o := opts
		if m {
			o = masked
		}
		tr, err := New(testBackend(), base, o)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Finalize()
		for i, n := range tr.Names {
			if !strings.HasSuffix(n, model.LoRAB) {
				continue
			}
			if bs[n] == nil {
				v := make([]float32, tr.Shapes[i][0]*tr.Shapes[i][1])
				for k := range v {
					v[k] = float32(r.NormFloat64() * 0.05)
				}
				bs[n] = v
			}
			tr.Params[i].FinalizeAll()
			tr.Params[i] = tensors.FromFlatDataAndDimensions(bs[n], tr.Shapes[i]...)
		}
		trainers[m] = tr
	}

	lossU, err := trainers[false].EvalLoss([]Batch{batch})
	if err != nil {
		t.Fatal(err)
	}
	lossM, err := trainers[true].EvalLoss([]Batch{batch})
	if err != nil {
		t.Fatal(err)
	}

	// The host reference.
	refU, refM, n, restricted := 0.0, 0.0, 0, 0
	for _, s := range seqs {
		logits, err := trainers[false].Logits(s.Tokens)
		if err != nil {
			t.Fatal(err)
		}
		state := tab.Start()
		inCompletion := false
		for j := s.Start - 1; j+1 < len(s.Tokens); j++ {
			label := int(s.Tokens[j+1])
			inCompletion = inCompletion || j+1 >= s.Start
			lseAll, lseAllowed := logSumExp(logits[j], nil), logSumExp(logits[j], func(k int) bool { return tab.Allowed(state, k) })
			if !tab.Allowed(state, label) {
				t.Fatalf("position %d: label %d not allowed", j, label)
			}
			x := float64(logits[j][label])
			refU += lseAll - x
			refM += lseAllowed - x
			n++
			if lseAllowed < lseAll-1e-6 {
				restricted++
			}
			if label != tok.EOS() {
				if state, err = tab.Next(state, label); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	refU /= float64(n)
	refM /= float64(n)
	t.Logf("%d targets (%d with a restricted softmax): loss unmasked %.6f (host %.6f), masked %.6f (host %.6f)", n, restricted, lossU, refU, lossM, refM)
	if n != batch.Targets || restricted == 0 {
		t.Fatalf("%d targets, batch has %d; %d restricted", n, batch.Targets, restricted)
	}
	if math.Abs(lossU-refU) > 1e-4 || math.Abs(lossM-refM) > 1e-4 {
		t.Errorf("graph loss differs from the host reference: unmasked %g vs %g, masked %g vs %g", lossU, refU, lossM, refM)
	}
	if !(lossM < lossU) {
		t.Errorf("masked loss %g not below the unmasked %g", lossM, lossU)
	}

	// A training step reports the masked loss at the parameters before it.
	res, err := trainers[true].TrainStep([]Batch{batch})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Loss-lossM) > 1e-4 || math.IsNaN(res.GradNorm) || !(res.GradNorm > 0) {
		t.Errorf("masked train step: loss %g (eval %g), grad norm %g", res.Loss, lossM, res.GradNorm)
	}
	after, err := trainers[true].EvalLoss([]Batch{batch})
	if err != nil || !(after < lossM) {
		t.Errorf("masked loss after a step %g (before %g), error %v", after, lossM, err)
	}
	// Unmasked batches are refused by a masked trainer.
	if _, err := trainers[true].EvalLoss([]Batch{MakeBatch(plain, 16)}); err == nil || !strings.Contains(err.Error(), "TokenizeMasked") {
		t.Errorf("unmasked batch, masked trainer: error %v", err)
	}

	// Checkpoints: resume needs the same masking.
	ckpt := filepath.Join(t.TempDir(), CheckpointFile)
	if err := trainers[true].SaveCheckpoint(ckpt); err != nil {
		t.Fatal(err)
	}
	if err := trainers[false].LoadCheckpoint(ckpt); err == nil || !strings.Contains(err.Error(), "masked by userprofile") {
		t.Errorf("resuming a masked run unmasked: error %v", err)
	}
	again, err := New(testBackend(), base, masked)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Finalize()
	if err := again.LoadCheckpoint(ckpt); err != nil || again.Step != 1 {
		t.Errorf("resuming a masked run masked: step %d, error %v", again.Step, err)
	}
	t.Logf("%v", time.Since(start).Round(time.Millisecond))
}

// logSumExp of the logits where keep (nil: all), in float64.
func logSumExp(x []float32, keep func(int) bool) float64 {
	mx := math.Inf(-1)
	for k, v := range x {
		if keep == nil || keep(k) {
			mx = math.Max(mx, float64(v))
		}
	}
	s := 0.0
	for k, v := range x {
		if keep == nil || keep(k) {
			s += math.Exp(float64(v) - mx)
		}
	}
	return mx + math.Log(s)
}

// TestMaskRefusesCompletion: a completion the table refuses (not the
// schema's shape, or cut before its end) is an error naming the record;
// the loss positions of a valid one get rows (the EOS position an
// accepting, odd one), the prompt's none, also with full-text loss.
func TestMaskRefusesCompletion(t *testing.T) {
	tok := loadTokenizer(t)
	tab := profileTable(t, tok)
	good := profileRecords(t, 1)[0]
	for _, c := range []struct{ name, completion, want string }{
		{"other shape", `{"name": "Ada"}`, "token not allowed"},
		{"cut short", good.Completion[:len(good.Completion)-1], "ends before the value is complete"},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := good
			bad.ID, bad.Completion, bad.Text = 42, c.completion, good.Prompt+c.completion
			_, _, _, err := TokenizeMasked(tok, []dataset.Record{good, bad}, 0, false, tab)
			var ce *CompletionError
			if !errors.As(err, &ce) || ce.ID != 42 || !strings.Contains(err.Error(), "record id 42") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a CompletionError for record id 42 (%s)", err, c.want)
			}
			t.Log(err)
		})
	}
	for _, full := range []bool{false, true} {
		seqs, _, _, err := TokenizeMasked(tok, []dataset.Record{good}, 0, full, tab)
		if err != nil {
			t.Fatal(err)
		}
		s := seqs[0]
		p := len(tok.Encode(good.Prompt, tokenizer.Default))
		for j, r := range s.MaskRows {
			inside := j >= p-1 && j < len(s.Tokens)-1
			if inside != (r >= 0) {
				t.Fatalf("full %v: position %d (prompt %d, %d tokens) has row %d", full, j, p, len(s.Tokens), r)
			}
		}
		if last := s.MaskRows[len(s.Tokens)-2]; last%2 != 1 {
			t.Errorf("the EOS position has row %d, not an accepting one", last)
		}
		b := MakeBatch(seqs, 16)
		for j := range b.MaskRows {
			if b.MaskRows[j] >= 0 && b.Mask[j] != 1 {
				t.Fatalf("batch position %d has a row outside the loss", j)
			}
		}
	}
	// Cut inside the completion: the last position predicts nothing.
	seqs, trunc, _, err := TokenizeMasked(tok, []dataset.Record{good}, 20, false, tab)
	if err != nil || trunc != 1 || len(seqs[0].MaskRows) != 20 || seqs[0].MaskRows[19] != -1 || seqs[0].MaskRows[18] < 0 {
		t.Fatalf("truncated: %v, %d truncated, error %v", seqs, trunc, err)
	}
}
