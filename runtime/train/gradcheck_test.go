package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/model"
)

// microBatch is two sequences of 9 and 6 tokens (padding in the second
// row), loss from position 3.
func microBatch(vocab int) Batch {
	r := rand.New(rand.NewPCG(7, 7))
	var seqs []Sequence
	for _, n := range []int{9, 6} {
		s := Sequence{Start: 3}
		for range n {
			s.Tokens = append(s.Tokens, int32(r.IntN(vocab)))
		}
		seqs = append(seqs, s)
	}
	return MakeBatch(seqs, 4)
}

// gradients returns the trainer's analytic gradients of the mean loss on
// b (no dropout) and the loss.
func gradients(t *testing.T, tr *Trainer, b Batch) ([][]float32, float64) {
	t.Helper()
	e, err := tr.exec("gradcheck", tr.stepGraph(false, false))
	if err != nil {
		t.Fatal(err)
	}
	args := tr.args(tensors.FromFlatDataAndDimensions(b.Tokens, b.B, b.T),
		tensors.FromFlatDataAndDimensions(b.Labels, b.B, b.T), tensors.FromFlatDataAndDimensions(b.Mask, b.B, b.T),
		float32(1/float64(b.Targets)), tr.RNG)
	outs, err := e.Exec(args...)
	if err != nil {
		t.Fatal(err)
	}
	p := len(tr.Names)
	grads := make([][]float32, p)
	for i := range p {
		grads[i] = floats(t, outs[i])
	}
	loss := float64(tensors.ToScalar[float32](outs[p])) / float64(b.Targets)
	tr.RNG = outs[p+1]
	return grads, loss
}

// setParams replaces the trainer's parameters by host values.
func setParams(tr *Trainer, vals [][]float32) {
	for i, v := range vals {
		tr.Params[i] = tensors.FromFlatDataAndDimensions(append([]float32(nil), v...), tr.Shapes[i]...)
	}
}

// TestGradientCheck compares the LoRA gradients (and, with -full, the
// gradients of every weight) with central finite differences of the loss
// on a micro config in float32: along a random direction over all
// parameters, and coordinate by coordinate for the largest gradients of
// each kind of tensor. The base is NF4 in the LoRA case, so the check
// covers the dequantized path too.
func TestGradientCheck(t *testing.T) {
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "lora-nf4", true: "full"}[full]
		t.Run(name, func(t *testing.T) {
			cfg := microConfig()
			quant, std := model.NF4, 0.3
			if full {
				quant = model.Dense
			}
			base := randomWeights(t, cfg, dtypes.Float32, quant, 3, std)
			opts := DefaultOptions()
			opts.R, opts.Alpha, opts.Dropout, opts.Full = 4, 8, 0, full
			tr, err := New(testBackend(), base, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Finalize()
			// B is zero at initialization, which makes A's gradient zero:
			// give B values.
			r := rand.New(rand.NewPCG(1, 2))
			vals := make([][]float32, len(tr.Params))
			for i := range tr.Params {
				vals[i] = floats(t, tr.Params[i])
				if !full {
					for j := range vals[i] {
						vals[i][j] = float32(r.NormFloat64() * 0.05)
					}
				}
			}
			setParams(tr, vals)
			b := microBatch(cfg.VocabSize)
			grads, loss0 := gradients(t, tr, b)
			lossAt := func(delta func(i, j int) float32) float64 {
				pert := make([][]float32, len(vals))
				for i := range vals {
					pert[i] = append([]float32(nil), vals[i]...)
					for j := range pert[i] {
						pert[i][j] += delta(i, j)
					}
				}
				setParams(tr, pert)
				l, err := tr.EvalLoss([]Batch{b})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			if l := lossAt(func(int, int) float32 { return 0 }); math.Abs(l-loss0) > 1e-5 {
				t.Fatalf("eval loss %g, training loss %g", l, loss0)
			}
			// Along a random unit direction.
			num, gd := checkDirectional(t, r, vals, grads, lossAt)
			t.Logf("loss %.4f; directional derivative: finite differences %.6g, gradient %.6g", loss0, num, gd)
			checkCoordinates(t, tr.Names, grads, lossAt, func(i int) bool { return i%3 == 0 || i == len(grads)-1 })
		})
	}
}
