package train

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/model"
)

// randomBatch is a batch of random sequences of the given lengths, loss
// from position 2 (padding in the shorter rows).
func randomBatch(vocab int, seed uint64, lengths ...int) Batch {
	r := rand.New(rand.NewPCG(seed, 9))
	var seqs []Sequence
	for _, n := range lengths {
		s := Sequence{Start: 2}
		for range n {
			s.Tokens = append(s.Tokens, int32(r.IntN(vocab)))
		}
		seqs = append(seqs, s)
	}
	return MakeBatch(seqs, 4)
}

func targets(micro []Batch) int {
	n := 0
	for _, b := range micro {
		n += b.Targets
	}
	return n
}

// oneProgramGradients are the gradients of the mean loss over the
// micro-batches by the one-program graph (stepGraph), and the mean loss.
func oneProgramGradients(t *testing.T, tr *Trainer, micro []Batch) ([][]float32, float64) {
	t.Helper()
	e, err := tr.exec("test_grads", tr.stepGraph(false, false))
	if err != nil {
		t.Fatal(err)
	}
	inv := float32(1 / float64(targets(micro)))
	var grads [][]float32
	sum := 0.0
	for _, b := range micro {
		maskArgs, err := tr.maskArgs(b)
		if err != nil {
			t.Fatal(err)
		}
		outs, err := e.Exec(tr.args(append([]any{tensors.FromFlatDataAndDimensions(b.Tokens, b.B, b.T),
			tensors.FromFlatDataAndDimensions(b.Labels, b.B, b.T), tensors.FromFlatDataAndDimensions(b.Mask, b.B, b.T),
			inv, tr.RNG}, maskArgs...)...)...)
		if err != nil {
			t.Fatal(err)
		}
		p := len(tr.Names)
		for i := range p {
			g := floats(t, outs[i])
			if grads == nil || len(grads) <= i {
				grads = append(grads, g)
			} else {
				for j := range g {
					grads[i][j] += g[j]
				}
			}
		}
		sum += float64(tensors.ToScalar[float32](outs[p]))
		for _, o := range outs {
			o.FinalizeAll()
		}
	}
	return grads, sum / float64(targets(micro))
}

// layeredGradients are the same by the layered programs (layerGrads),
// with the dropout states keys (nil: none).
func layeredGradients(t *testing.T, tr *Trainer, micro []Batch, keys [][]*tensors.Tensor) ([][]float32, float64) {
	t.Helper()
	var maskArgs [][]any
	for _, b := range micro {
		m, err := tr.maskArgs(b)
		if err != nil {
			t.Fatal(err)
		}
		maskArgs = append(maskArgs, m)
	}
	gs, sum, err := tr.layerGrads(micro, maskArgs, float32(1/float64(targets(micro))), keys)
	if err != nil {
		t.Fatal(err)
	}
	grads := make([][]float32, len(gs))
	for i, g := range gs {
		grads[i] = floats(t, g)
		g.FinalizeAll()
	}
	return grads, sum / float64(targets(micro))
}

// relDiff is max |a−b| over max |b| of all tensors.
func relDiff(a, b [][]float32) float64 {
	d, m := 0.0, 0.0
	for i := range b {
		d = math.Max(d, maxAbsDiff(a[i], b[i]))
		for _, v := range b[i] {
			m = math.Max(m, math.Abs(float64(v)))
		}
	}
	return d / m
}

// TestLayeredMatchesOneProgram: the layered step (layer programs, each
// layer recomputed in its backward program) and the one-program step
// compute the same gradients, losses and AdamW updates, without dropout,
// over two micro-batches of gradient accumulation and two optimizer
// steps (one with the masked loss, the slowest case): LoRA over an NF4 base, full-parameter training, and LoRA with the
// loss masked by the UserProfile table (the tiny config, real vocabulary).
// Everything is float32; the gradients agree within 1e-5 of their largest
// magnitude, losses and gradient norms within 1e-5 relative, and the
// parameters after the steps within 1e-6 absolute (lr 1e-3: AdamW moves
// each value by up to about 1e-3 a step).
func TestLayeredMatchesOneProgram(t *testing.T) {
	type tcase struct {
		name  string
		cfg   *model.Config
		quant model.Quant
		full  bool
		micro func(t *testing.T) []Batch
		opts  func(o *Options)
		steps int
	}
	micro := func(*testing.T) []Batch {
		v := microConfig().VocabSize
		return []Batch{randomBatch(v, 1, 9, 6), randomBatch(v, 2, 7, 11, 5)}
	}
	cases := []tcase{
		{name: "lora-nf4", cfg: microConfig(), quant: model.NF4, micro: micro, steps: 2},
		{name: "full", cfg: microConfig(), full: true, micro: micro, steps: 2},
		{name: "lora-mask-loss", cfg: tinyConfig(t), micro: func(t *testing.T) []Batch {
			tok := loadTokenizer(t)
			seqs, _, _, err := TokenizeMasked(tok, profileRecords(t, 3), 0, false, profileTable(t, tok))
			if err != nil {
				t.Fatal(err)
			}
			return []Batch{MakeBatch(seqs[:1], 16), MakeBatch(seqs[1:], 16)}
		}, opts: func(o *Options) {
			tok := loadTokenizer(t)
			o.MaskTable, o.MaskName, o.Targets = profileTable(t, tok), "userprofile", []string{"q_proj", "v_proj", "down_proj"}
		}, steps: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := randomWeights(t, c.cfg, dtypes.Float32, c.quant, 3, 0.3)
			if !c.full {
				defer base.Finalize()
			}
			opts := DefaultOptions()
			opts.R, opts.Alpha, opts.Dropout, opts.Full, opts.LR, opts.Steps, opts.WarmupRatio = 4, 8, 0, c.full, 1e-3, 2, 0
			if c.opts != nil {
				c.opts(&opts)
			}
			mk := func(one bool) *Trainer {
				o := opts
				o.OneProgram = one
				w := base
				if c.full { // each trainer owns its weights
					w = randomWeights(t, c.cfg, dtypes.Float32, c.quant, 3, 0.3)
				}
				tr, err := New(testBackend(), w, o)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(tr.Finalize)
				if !c.full {
					randomizeB(t, tr)
				}
				return tr
			}
			one, layered := mk(true), mk(false)
			mb := c.micro(t)
			gOne, lOne := oneProgramGradients(t, one, mb)
			gLay, lLay := layeredGradients(t, layered, mb, nil)
			rd := relDiff(gLay, gOne)
			t.Logf("%d tensors: loss %.7f (one program %.7f), gradients differ by %.2g of the largest", len(gOne), lLay, lOne, rd)
			if rd > 1e-5 || math.Abs(lLay-lOne) > 1e-5*math.Abs(lOne) {
				t.Errorf("gradients differ by %g of the largest, loss %g vs %g", rd, lLay, lOne)
			}
			for step := range c.steps {
				rOne, err := one.TrainStep(mb)
				if err != nil {
					t.Fatal(err)
				}
				rLay, err := layered.TrainStep(mb)
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for i := range one.Params {
					worst = math.Max(worst, maxAbsDiff(floats(t, layered.Params[i]), floats(t, one.Params[i])))
				}
				t.Logf("step %d: loss %.7f / %.7f, grad norm %.7f / %.7f, parameters differ by %.2g", step+1, rLay.Loss, rOne.Loss, rLay.GradNorm, rOne.GradNorm, worst)
				if math.Abs(rLay.Loss-rOne.Loss) > 1e-5*math.Abs(rOne.Loss) || math.Abs(rLay.GradNorm-rOne.GradNorm) > 1e-5*rOne.GradNorm || worst > 1e-6 {
					t.Errorf("step %d: layered loss %g norm %g, one program loss %g norm %g; parameters differ by %g",
						step+1, rLay.Loss, rLay.GradNorm, rOne.Loss, rOne.GradNorm, worst)
				}
			}
			if ms := layered.MemStats(); ms.Peak <= ms.Resident || ms.PeakName == "" {
				t.Errorf("memory estimate %+v", ms)
			}
		})
	}
}

// TestLayeredDropoutGradient checks that a layer's recomputation in its
// backward program draws the dropout masks of its forward program: with
// dropout 0.3 and the per-layer random states fixed, the layered
// gradients (LoRA over an NF4 base, two micro-batches) match central
// finite differences of the layered loss — which, with other masks in
// the backward pass, they would not — along a random direction and at
// the largest gradient of a few tensors. The masks do act: the loss
// differs from the one without dropout, and other states give other
// losses.
func TestLayeredDropoutGradient(t *testing.T) {
	cfg := microConfig()
	base := randomWeights(t, cfg, dtypes.Float32, model.NF4, 3, 0.3)
	defer base.Finalize()
	opts := DefaultOptions()
	opts.R, opts.Alpha, opts.Dropout = 4, 8, 0.3
	tr, err := New(testBackend(), base, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Finalize()
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([][]float32, len(tr.Params))
	for i := range tr.Params {
		vals[i] = floats(t, tr.Params[i])
		for j := range vals[i] {
			vals[i][j] = float32(r.NormFloat64() * 0.1)
		}
	}
	setParams(tr, vals)
	mb := []Batch{randomBatch(cfg.VocabSize, 1, 9, 6), randomBatch(cfg.VocabSize, 2, 7, 11, 5)}
	drawKeys := func() [][]*tensors.Tensor {
		var keys [][]*tensors.Tensor
		for range mb {
			k, err := tr.layerKeys()
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
		return keys
	}
	keys := drawKeys()
	grads, loss0 := layeredGradients(t, tr, mb, keys)
	lossAt := func(delta func(i, j int) float32) float64 {
		pert := make([][]float32, len(vals))
		for i := range vals {
			pert[i] = append([]float32(nil), vals[i]...)
			for j := range pert[i] {
				pert[i][j] += delta(i, j)
			}
		}
		setParams(tr, pert)
		_, l := layeredGradients(t, tr, mb, keys)
		return l
	}
	if l := lossAt(func(int, int) float32 { return 0 }); l != loss0 {
		t.Fatalf("the same states give losses %g and %g", loss0, l)
	}
	plain, err := tr.EvalLoss(mb)
	if err != nil {
		t.Fatal(err)
	}
	_, other := layeredGradients(t, tr, mb, drawKeys())
	t.Logf("loss %.5f with dropout, %.5f with other masks, %.5f without", loss0, other, plain)
	if math.Abs(plain-loss0) < 1e-4 || math.Abs(other-loss0) < 1e-4 {
		t.Errorf("dropout has no effect: %g with masks, %g with other masks, %g without", loss0, other, plain)
	}
	num, gd := checkDirectional(t, r, vals, grads, lossAt)
	t.Logf("directional derivative: finite differences %.6g, gradient %.6g", num, gd)
	checkCoordinates(t, tr.Names, grads, lossAt, func(i int) bool { return i%5 == 0 })
	for _, k := range keys {
		finalizeAll(k)
	}
}

// TestBF16MLP trains over a bf16 NF4 base with the MLP activations kept in
// bf16: the layered and one-program steps still compute the same
// gradients (layer inputs saved in f32, so that the two differ only in
// program boundaries), and the option is in effect: the loss moves by
// bf16 rounding, not more.
func TestBF16MLP(t *testing.T) {
	cfg := microConfig()
	base := randomWeights(t, cfg, dtypes.BFloat16, model.NF4, 3, 0.3)
	defer base.Finalize()
	mb := []Batch{randomBatch(cfg.VocabSize, 1, 9, 6), randomBatch(cfg.VocabSize, 2, 7, 11, 5)}
	mk := func(one, bf16 bool) *Trainer {
		o := DefaultOptions()
		o.R, o.Alpha, o.Dropout, o.Steps, o.WarmupRatio = 4, 8, 0, 1, 0
		o.OneProgram, o.BF16MLP, o.SaveInputs = one, bf16, "f32"
		tr, err := New(testBackend(), base, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tr.Finalize)
		randomizeB(t, tr)
		return tr
	}
	gOne, lOne := oneProgramGradients(t, mk(true, true), mb)
	gLay, lLay := layeredGradients(t, mk(false, true), mb, nil)
	if rd := relDiff(gLay, gOne); rd > 1e-5 || math.Abs(lLay-lOne) > 1e-5*math.Abs(lOne) {
		t.Errorf("bf16 MLP: layered vs one program: gradients differ by %g of the largest, loss %g vs %g", rd, lLay, lOne)
	}
	_, lF32 := layeredGradients(t, mk(false, false), mb, nil)
	t.Logf("loss %.6f with bf16 MLP activations, %.6f with float32", lLay, lF32)
	if d := math.Abs(lLay-lF32) / lF32; d == 0 || d > 1e-2 {
		t.Errorf("bf16 MLP activations move the loss by %g relative: want (0, 1e-2]", d)
	}
}

// randomizeB gives the LoRA B factors of tr (zero at initialization)
// random values, so that every gradient is nonzero.
func randomizeB(t *testing.T, tr *Trainer) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 6))
	for i, n := range tr.Names {
		if strings.HasSuffix(n, model.LoRAB) {
			v := floats(t, tr.Params[i])
			for j := range v {
				v[j] = float32(r.NormFloat64() * 0.05)
			}
			tr.Params[i].FinalizeAll()
			tr.Params[i] = tensors.FromFlatDataAndDimensions(v, tr.Shapes[i]...)
		}
	}
}
