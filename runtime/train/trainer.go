package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/mask"
	"github.com/schemac-dev/schemac/runtime/model"
)

// DefaultTargets are the projections LoRA adapts (the article's recipe).
var DefaultTargets = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

// Options are the hyperparameters of a Trainer.
type Options struct {
	Full    bool     // train every weight (float32, dense) instead of LoRA factors
	R       int      // LoRA rank
	Alpha   float64  // LoRA alpha: the update is (Alpha/R)·B·A
	Dropout float64  // LoRA dropout on the input of the LoRA path
	Targets []string // adapted projections by leaf name (q_proj, …); nil: DefaultTargets

	LR          float64 // peak learning rate
	WeightDecay float64 // AdamW's decoupled weight decay
	Beta1       float64
	Beta2       float64
	Eps         float64
	MaxGradNorm float64 // global-norm clipping; 0: none
	WarmupRatio float64 // linear warmup over ceil(WarmupRatio·Steps) steps, then constant
	Steps       int     // optimizer steps of the run (for the warmup)

	Seed int64 // LoRA initialization and dropout

	// MaskTable, when set, masks the loss with a schema's token table: at
	// every loss position inside the completion the softmax covers only
	// the tokens the table allows in the state the completion has reached
	// (EOS only in accepting states); other positions keep the full
	// softmax. The batches must carry MaskRows (TokenizeMasked with the
	// same table). The table's vocabulary must be the model's. It is not
	// saved; checkpoints record MaskName and the table's size, and resume
	// only with the same.
	MaskTable *mask.Table `json:"-"`
	MaskName  string      `json:",omitempty"` // names MaskTable (e.g. the schema) in checkpoints

	// OneProgram runs each micro-batch as one program (forward and
	// backward of the whole model): GoMLX's autodiff then keeps every
	// layer's activations on the device. By default (false) a micro-batch
	// is layered: the programs of layered.go keep only the layers' inputs
	// and recompute each layer in its backward pass.
	OneProgram bool `json:",omitempty"`
	// SaveInputs is the dtype of the layer inputs the layered step keeps
	// for the backward pass: "f32", "bf16", or "" for bf16 when the base
	// computes in bf16 (a bf16 or NF4 base with LoRA), else f32. With
	// bf16 every layer sees its input rounded to bf16 (a bf16 model's
	// residual stream is in bf16 too), in the forward pass and its
	// recomputation alike; half the memory of f32.
	SaveInputs string `json:",omitempty"`
	// BF16MLP keeps the MLP's gate, up and SiLU(gate)·up activations in
	// the base's compute dtype when it is bf16 (model.LoRANodes.MLPDType),
	// as transformers and peft do over a bf16 base: half the memory of the
	// largest activations of a layer, at bf16 rounding of them.
	BF16MLP bool `json:",omitempty"`
}

// DefaultOptions are the article's QLoRA recipe: r 64, alpha 16, dropout
// 0.1 on q/k/v/o/gate/up/down, AdamW lr 2e-4 (betas 0.9/0.999, eps 1e-8,
// weight decay 0.001), global-norm clipping at 0.3, constant schedule with
// 3% warmup.
func DefaultOptions() Options {
	return Options{R: 64, Alpha: 16, Dropout: 0.1, LR: 2e-4, WeightDecay: 0.001, Beta1: 0.9, Beta2: 0.999,
		Eps: 1e-8, MaxGradNorm: 0.3, WarmupRatio: 0.03, Seed: 42}
}

// LR is the learning rate of optimizer step s (0-based): Hugging Face's
// get_constant_schedule_with_warmup with ceil(WarmupRatio·Steps) warmup
// steps, s/warmup during the warmup (so step 0 has rate 0), then LR.
func (o *Options) LRAt(s int) float64 {
	warm := o.WarmupSteps()
	if s < warm {
		return o.LR * float64(s) / float64(warm)
	}
	return o.LR
}

// WarmupSteps is ceil(WarmupRatio·Steps).
func (o *Options) WarmupSteps() int { return int(math.Ceil(o.WarmupRatio * float64(o.Steps))) }

func (o *Options) check() error {
	switch {
	case !o.Full && o.R <= 0:
		return fmt.Errorf("LoRA rank r = %d: must be positive", o.R)
	case !o.Full && !(o.Alpha > 0):
		return fmt.Errorf("LoRA alpha %g: must be positive", o.Alpha)
	case o.Dropout < 0 || o.Dropout >= 1:
		return fmt.Errorf("dropout %g: must be in [0, 1)", o.Dropout)
	case !(o.LR >= 0) || o.WeightDecay < 0 || o.Beta1 < 0 || o.Beta1 >= 1 || o.Beta2 < 0 || o.Beta2 >= 1 || !(o.Eps > 0):
		return fmt.Errorf("optimizer settings lr %g, weight decay %g, betas %g/%g, eps %g out of range", o.LR, o.WeightDecay, o.Beta1, o.Beta2, o.Eps)
	case o.MaxGradNorm < 0 || o.WarmupRatio < 0 || o.WarmupRatio > 1:
		return fmt.Errorf("max grad norm %g / warmup ratio %g out of range", o.MaxGradNorm, o.WarmupRatio)
	}
	if o.SaveInputs != "" && o.SaveInputs != "f32" && o.SaveInputs != "bf16" {
		return fmt.Errorf("saved layer inputs %q: f32, bf16 or empty", o.SaveInputs)
	}
	for _, t := range o.Targets {
		if !slices.Contains(DefaultTargets, t) {
			return fmt.Errorf("LoRA target %q is not a layer projection (%s)", t, strings.Join(DefaultTargets, ", "))
		}
	}
	return nil
}

// Trainer holds the trainable parameters (LoRA factors, or with Full
// every weight) with their AdamW state and the dropout random state, all
// on the device, beside the frozen base weights. An optimizer step runs
// each micro-batch layer by layer, recomputing each layer in the backward
// pass (layered.go), then one program applies AdamW; with
// Options.OneProgram each micro-batch is one program instead.
type Trainer struct {
	Backend backends.Backend
	Base    *model.Weights // frozen base (LoRA); with Full only its names and config are used
	Opts    Options

	Names  []string // trainable tensors: MODULE+model.LoRAA / model.LoRAB, or the weight names (Full)
	Shapes [][]int
	Params []*tensors.Tensor // float32
	M, V   []*tensors.Tensor // AdamW moments
	RNG    *tensors.Tensor   // dropout random state
	Step   int               // optimizer steps done

	// Schedule names the data order the steps so far followed (set by
	// Loop, saved in checkpoints): a resumed run must follow the same.
	Schedule string

	execs map[string]*Exec

	maskRows *tensors.Tensor // Opts.MaskTable's rows on the device (model.MaskRowsEOS), or nil
	maskN    int32           // rows in maskRows

	lay *layout // the layered step's tensors (nil with OneProgram)
	mem memTracker
}

// New makes a Trainer over base weights. For LoRA the factors are
// initialized as PEFT does (A uniform in ±1/√in, kaiming_uniform with
// a=√5; B zero), from Opts.Seed. With Full the weights must be dense
// float32: they become the trainable parameters (the Trainer owns them).
func New(backend backends.Backend, base *model.Weights, opts Options) (*Trainer, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if opts.Targets == nil {
		opts.Targets = DefaultTargets
	}
	t := &Trainer{Backend: backend, Base: base, Opts: opts, execs: map[string]*Exec{}}
	cfg := base.Config
	if base.LoRAScale != 0 {
		return nil, errors.New("train: the base weights already carry a LoRA adapter")
	}
	var maskRows *tensors.Tensor
	if opts.MaskTable != nil {
		var err error
		if maskRows, err = model.MaskRowsEOS(opts.MaskTable, cfg.VocabSize); err != nil {
			return nil, fmt.Errorf("masked loss: %w", err)
		}
	}
	if opts.Full {
		if base.DType != dtypes.Float32 || base.Quant != model.Dense {
			return nil, fmt.Errorf("full-parameter training needs dense float32 weights, not %s %s", base.DType, quantName(base.Quant))
		}
		shapeOf := map[string][]int{}
		for _, s := range cfg.Specs() {
			shapeOf[s.Name] = s.Shape
		}
		t.Names = slices.Clone(base.Names)
		t.Params = slices.Clone(base.Tensors)
		for _, n := range t.Names {
			t.Shapes = append(t.Shapes, shapeOf[n])
		}
	} else {
		r := rand.New(rand.NewPCG(uint64(opts.Seed), 0x10a))
		for _, s := range cfg.Specs() {
			if !s.Linear || !slices.Contains(opts.Targets, leaf(s.Name)) {
				continue
			}
			module := strings.TrimSuffix(s.Name, ".weight")
			out, in := s.Shape[0], s.Shape[1]
			a := make([]float32, opts.R*in)
			bound := 1 / math.Sqrt(float64(in))
			for i := range a {
				a[i] = float32((2*r.Float64() - 1) * bound)
			}
			t.Names = append(t.Names, module+model.LoRAA, module+model.LoRAB)
			t.Shapes = append(t.Shapes, []int{opts.R, in}, []int{out, opts.R})
			t.Params = append(t.Params, tensors.FromFlatDataAndDimensions(a, opts.R, in),
				tensors.FromFlatDataAndDimensions(make([]float32, out*opts.R), out, opts.R))
		}
		if len(t.Names) == 0 {
			return nil, fmt.Errorf("no layer projection matches the LoRA targets %v", opts.Targets)
		}
	}
	for _, s := range t.Shapes {
		n := 1
		for _, d := range s {
			n *= d
		}
		t.M = append(t.M, tensors.FromFlatDataAndDimensions(make([]float32, n), s...))
		t.V = append(t.V, tensors.FromFlatDataAndDimensions(make([]float32, n), s...))
	}
	if !opts.OneProgram {
		var err error
		if t.lay, err = newLayout(t); err != nil {
			return nil, err
		}
	}
	rng, err := RNGStateFromSeed(opts.Seed)
	if err != nil {
		return nil, err
	}
	t.RNG = rng
	if maskRows != nil {
		if err := maskRows.MaterializeOnDevice(backend, false, 0); err != nil {
			return nil, fmt.Errorf("masked loss: %w", err)
		}
		maskRows.FinalizeLocal()
		t.maskRows, t.maskN = maskRows, int32(maskRows.Shape().Dimensions[0])
	}
	return t, nil
}

// maskDesc describes the masked loss for checkpoints ("" when none).
func (o *Options) maskDesc() string {
	if o.MaskTable == nil {
		return ""
	}
	tb := o.MaskTable
	return fmt.Sprintf("%s (%d states, %d rows, %d tokens)", o.MaskName, tb.NumStates, tb.NumRows(), tb.VocabSize)
}

// maskArgs are the extra inputs of a masked loss for batch b: the device
// rows and the batch's row indices [B, T] (none without Opts.MaskTable).
func (t *Trainer) maskArgs(b Batch) ([]any, error) {
	if t.maskRows == nil {
		return nil, nil
	}
	if len(b.MaskRows) != b.B*b.T {
		return nil, errors.New("the loss is masked (Options.MaskTable) but the batch has no mask rows: tokenize with TokenizeMasked")
	}
	for _, r := range b.MaskRows {
		if r >= t.maskN {
			return nil, fmt.Errorf("batch mask row %d out of range (the table has %d): tokenized with another table?", r, t.maskN)
		}
	}
	return []any{t.maskRows, tensors.FromFlatDataAndDimensions(b.MaskRows, b.B, b.T)}, nil
}

func quantName(q model.Quant) string {
	if q == model.Dense {
		return "dense"
	}
	return string(q)
}

// leaf is the last component of a module or weight name without ".weight".
func leaf(name string) string {
	name = strings.TrimSuffix(name, ".weight")
	return name[strings.LastIndex(name, ".")+1:]
}

// Scale is the LoRA scale alpha/r.
func (t *Trainer) Scale() float64 { return t.Opts.Alpha / float64(t.Opts.R) }

// NumTrainable is the number of trainable values.
func (t *Trainer) NumTrainable() int64 {
	var n int64
	for _, s := range t.Shapes {
		k := int64(1)
		for _, d := range s {
			k *= int64(d)
		}
		n += k
	}
	return n
}

// Finalize frees the programs and the trainer's tensors (not the base
// weights, unless Full, where they are the parameters).
func (t *Trainer) Finalize() {
	for k, e := range t.execs {
		e.Finalize()
		delete(t.execs, k)
	}
	for _, ts := range [][]*tensors.Tensor{t.Params, t.M, t.V} {
		for _, x := range ts {
			if x != nil {
				x.FinalizeAll()
			}
		}
	}
	t.Params, t.M, t.V = nil, nil, nil
	if t.RNG != nil {
		t.RNG.FinalizeAll()
		t.RNG = nil
	}
	if t.maskRows != nil {
		t.maskRows.FinalizeAll()
		t.maskRows = nil
	}
}

// baseTensors are the frozen inputs of every program: none with Full.
func (t *Trainer) baseTensors() []*tensors.Tensor {
	if t.Opts.Full {
		return nil
	}
	return t.Base.Tensors
}

// logitsGraph builds the logits [B·T, V] from the trainable parameters and
// the base weights; with train, dropout draws from *rng.
func (t *Trainer) logitsGraph(params, base []*Node, tokens *Node, rng **Node, train bool) *Node {
	if t.Opts.Full {
		return model.BatchLogits(t.Base, params, tokens, nil)
	}
	lora := &model.LoRANodes{A: map[string]*Node{}, B: map[string]*Node{}, Scale: t.Scale(), MLPDType: t.mlpDType()}
	for i, n := range t.Names {
		if m, ok := strings.CutSuffix(n, model.LoRAA); ok {
			lora.A[m] = params[i]
		} else if m, ok := strings.CutSuffix(n, model.LoRAB); ok {
			lora.B[m] = params[i]
		}
	}
	if train {
		lora.Input = t.dropout(rng)
	}
	return model.BatchLogits(t.Base, base, tokens, lora)
}

// nllSum is the summed negative log-likelihood of labels [B, T] under
// logits [B·T, V], over the positions where mask [B, T] is 1.
func nllSum(logits, labels, mask *Node) *Node {
	g := logits.Graph()
	n := logits.Shape().Dimensions[0]
	mx := StopGradient(ReduceAndKeep(logits, ReduceMax, -1))
	lse := Add(Reshape(mx, n), Log(ReduceSum(Exp(Sub(logits, mx)), -1)))
	idx := Concatenate([]*Node{Iota(g, shapes.Make(dtypes.Int32, n, 1), 0), Reshape(labels, n, 1)}, -1)
	picked := Gather(logits, idx) // [n]
	return ReduceAllSum(Mul(Sub(lse, picked), Reshape(mask, n)))
}

// maskedNLLSum is nllSum with the softmax of each position restricted to
// the tokens its row allows: rowIdx [B, T] int32 indexes rows
// (model.MaskRowsEOS, on the device), -1 for the full softmax. The label
// of a masked position must be allowed there (TokenizeMasked sees to it).
func maskedNLLSum(logits, labels, mask, rows, rowIdx *Node) *Node {
	n, v := logits.Shape().Dimensions[0], logits.Shape().Dimensions[1]
	allowed := model.AllowedTokens(rows, Reshape(rowIdx, n), v)
	return nllSum(Where(allowed, logits, Infinity(logits.Graph(), logits.DType(), -1)), labels, mask)
}

// loss is maskedNLLSum when the trainer masks the loss (rows and rowIdx
// given), else nllSum.
func loss(logits, labels, mask, rows, rowIdx *Node) *Node {
	if rows == nil {
		return nllSum(logits, labels, mask)
	}
	return maskedNLLSum(logits, labels, mask, rows, rowIdx)
}

// The step programs. Inputs, in order: params; m, v (apply); acc (acc);
// base weights; tokens [B,T] int32, labels [B,T] int32, mask [B,T]
// float32, invCount (1/targets of the whole step), rng; lr, bc1, bc2
// (apply); with Opts.MaskTable, mask rows and row indices [B,T] int32.
// Outputs: with apply params', m', v', nllSum, gradNorm, rng';
// else acc' (the summed gradients of nllSum·invCount), nllSum, rng'.
func (t *Trainer) stepGraph(acc, apply bool) func(inputs []*Node) []*Node {
	return func(inputs []*Node) []*Node {
		p := len(t.Names)
		take := func(k int) []*Node { s := inputs[:k]; inputs = inputs[k:]; return s }
		params := take(p)
		var m, v, accIn []*Node
		if apply {
			m, v = take(p), take(p)
		}
		if acc {
			accIn = take(p)
		}
		base := take(len(t.baseTensors()))
		tokens, labels, mask, invCount, rng := inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]
		var rows, rowIdx *Node
		if t.maskRows != nil {
			k := 5
			if apply {
				k = 8
			}
			rows, rowIdx = inputs[k], inputs[k+1]
		}
		logits := t.logitsGraph(params, base, tokens, &rng, true)
		sum := loss(logits, labels, mask, rows, rowIdx)
		grads := Gradient(Mul(sum, invCount), params...)
		if acc {
			for i := range grads {
				grads[i] = Add(accIn[i], grads[i])
			}
		}
		if !apply {
			return append(grads, sum, rng)
		}
		lr, bc1, bc2 := inputs[5], inputs[6], inputs[7]
		newP, newM, newV, norm := t.adamW(params, m, v, grads, lr, bc1, bc2)
		out := append(append(newP, newM...), newV...)
		return append(out, sum, norm, rng)
	}
}

// adamW clips the gradients to a global norm and applies torch's AdamW:
// p ← p·(1−lr·wd); m ← β1·m+(1−β1)·g; v ← β2·v+(1−β2)·g²;
// p ← p − (lr/bc1)·m/(√v/√bc2 + eps). It returns the norm before clipping.
func (t *Trainer) adamW(params, m, v, grads []*Node, lr, bc1, bc2 *Node) (newP, newM, newV []*Node, norm *Node) {
	norm = gradNorm(grads)
	newP, newM, newV = t.adamWUpdate(params, m, v, grads, lr, bc1, bc2, norm)
	return newP, newM, newV, norm
}

// gradNorm is the global norm of the gradients.
func gradNorm(grads []*Node) *Node {
	sq := ScalarZero(grads[0].Graph(), dtypes.Float32)
	for _, gr := range grads {
		sq = Add(sq, ReduceAllSum(Square(gr)))
	}
	return Sqrt(sq)
}

// adamWUpdate is adamW given the global gradient norm (of all the
// gradients, maybe more than these).
func (t *Trainer) adamWUpdate(params, m, v, grads []*Node, lr, bc1, bc2, norm *Node) (newP, newM, newV []*Node) {
	o := t.Opts
	g := lr.Graph()
	clip := ScalarOne(g, dtypes.Float32)
	if o.MaxGradNorm > 0 {
		clip = Min(clip, Div(Scalar(g, dtypes.Float32, o.MaxGradNorm), AddScalar(norm, 1e-6)))
	}
	decay := OneMinus(MulScalar(lr, o.WeightDecay))
	stepSize := Div(lr, bc1)
	sqrtBC2 := Sqrt(bc2)
	for i, p := range params {
		gr := Mul(grads[i], clip)
		mi := Add(MulScalar(m[i], o.Beta1), MulScalar(gr, 1-o.Beta1))
		vi := Add(MulScalar(v[i], o.Beta2), MulScalar(Square(gr), 1-o.Beta2))
		denom := AddScalar(Div(Sqrt(vi), sqrtBC2), o.Eps)
		pi := Sub(Mul(p, decay), Mul(stepSize, Div(mi, denom)))
		newP, newM, newV = append(newP, pi), append(newM, mi), append(newV, vi)
	}
	return newP, newM, newV
}

func (t *Trainer) exec(key string, build func(inputs []*Node) []*Node) (*Exec, error) {
	if e, ok := t.execs[key]; ok {
		return e, nil
	}
	e, err := NewExec(t.Backend, build)
	if err != nil {
		return nil, err
	}
	e = e.WithName("train_" + key).SetMaxCache(maxPrograms)
	t.execs[key] = e
	return e, nil
}

// maxPrograms bounds the programs each kind of step compiles (one per
// batch shape; batches are padded to a multiple of the pad length).
const maxPrograms = 64

// StepResult is what one optimizer step reports.
type StepResult struct {
	Loss     float64 // mean token loss over the step's targets
	GradNorm float64 // global gradient norm before clipping
	LR       float64
	Targets  int // tokens the loss covered
	Tokens   int // tokens that are not padding
}

func donate(t *tensors.Tensor, b backends.Backend) (any, error) {
	return DonateTensorBuffer(t, b, 0)
}

// TrainStep runs one optimizer step over the micro-batches (gradient
// accumulation: the loss is the mean over all their targets).
func (t *Trainer) TrainStep(micro []Batch) (StepResult, error) {
	var res StepResult
	if len(micro) == 0 {
		return res, errors.New("train step: no micro-batches")
	}
	for _, b := range micro {
		res.Targets += b.Targets
		res.Tokens += b.Real
	}
	if res.Targets == 0 {
		return res, errors.New("train step: no token to compute the loss on")
	}
	inv := float32(1 / float64(res.Targets))
	res.LR = t.Opts.LRAt(t.Step)
	// Every batch is checked before the first program runs (and changes
	// the random state).
	maskArgs := make([][]any, len(micro))
	for i, b := range micro {
		var err error
		if maskArgs[i], err = t.maskArgs(b); err != nil {
			return res, fmt.Errorf("train step %d: %w", t.Step+1, err)
		}
	}
	var err error
	if t.lay != nil {
		err = t.trainStepLayered(micro, maskArgs, inv, &res)
	} else {
		err = t.trainStepOne(micro, maskArgs, inv, &res)
	}
	if err != nil {
		return res, fmt.Errorf("train step %d: %w", t.Step+1, err)
	}
	t.Step++
	res.Loss /= float64(res.Targets)
	return res, nil
}

// trainStepOne is TrainStep with one program per micro-batch; res.Loss
// gets the loss sum.
func (t *Trainer) trainStepOne(micro []Batch, maskArgs [][]any, inv float32, res *StepResult) error {
	var acc []*tensors.Tensor
	defer func() {
		for _, a := range acc {
			a.FinalizeAll()
		}
	}()
	sum := 0.0
	for i, b := range micro {
		apply, hasAcc := i == len(micro)-1, i > 0
		key := fmt.Sprintf("step_acc%v_apply%v", hasAcc, apply)
		a := t.newArgs(tensorBytes(acc))
		// Parameters and moments are donated only by the program that
		// replaces them.
		a.tensors(apply, t.Params...)
		if apply {
			a.tensors(true, t.M...).tensors(true, t.V...)
		}
		if hasAcc {
			a.tensors(true, acc...)
			acc = nil
		}
		a.tensors(false, t.baseTensors()...).add(tensors.FromFlatDataAndDimensions(b.Tokens, b.B, b.T),
			tensors.FromFlatDataAndDimensions(b.Labels, b.B, b.T),
			tensors.FromFlatDataAndDimensions(b.Mask, b.B, b.T), inv).tensors(true, t.RNG)
		if apply {
			s := float64(t.Step + 1)
			a.add(float32(res.LR), float32(1-math.Pow(t.Opts.Beta1, s)), float32(1-math.Pow(t.Opts.Beta2, s)))
		}
		a.add(maskArgs[i]...)
		outs, err := t.run(key, t.stepGraph(hasAcc, apply), a)
		if err != nil {
			return err
		}
		p := len(t.Names)
		if apply {
			t.Params, t.M, t.V = outs[:p], outs[p:2*p], outs[2*p:3*p]
			sum += float64(tensors.ToScalar[float32](outs[3*p]))
			res.GradNorm = float64(tensors.ToScalar[float32](outs[3*p+1]))
			outs[3*p].FinalizeAll()
			outs[3*p+1].FinalizeAll()
			t.RNG = outs[3*p+2]
		} else {
			acc = outs[:p]
			sum += float64(tensors.ToScalar[float32](outs[p]))
			outs[p].FinalizeAll()
			t.RNG = outs[p+1]
		}
	}
	res.Loss = sum
	return nil
}

// EvalLoss is the mean token loss over batches, without dropout (masked
// as in training with Opts.MaskTable).
func (t *Trainer) EvalLoss(batches []Batch) (float64, error) {
	e, err := t.exec("eval", func(inputs []*Node) []*Node {
		p, nb := len(t.Names), len(t.baseTensors())
		tokens, labels, mask := inputs[p+nb], inputs[p+nb+1], inputs[p+nb+2]
		var rows, rowIdx *Node
		if t.maskRows != nil {
			rows, rowIdx = inputs[p+nb+3], inputs[p+nb+4]
		}
		return []*Node{loss(t.logitsGraph(inputs[:p], inputs[p:p+nb], tokens, nil, false), labels, mask, rows, rowIdx)}
	})
	if err != nil {
		return 0, err
	}
	sum, n := 0.0, 0
	for _, b := range batches {
		if b.Targets == 0 {
			continue
		}
		maskArgs, err := t.maskArgs(b)
		if err != nil {
			return 0, fmt.Errorf("evaluation: %w", err)
		}
		args := t.args(append([]any{tensors.FromFlatDataAndDimensions(b.Tokens, b.B, b.T),
			tensors.FromFlatDataAndDimensions(b.Labels, b.B, b.T), tensors.FromFlatDataAndDimensions(b.Mask, b.B, b.T)}, maskArgs...)...)
		out, err := e.Exec1(args...)
		if err != nil {
			return 0, fmt.Errorf("evaluation: %w", err)
		}
		sum += float64(tensors.ToScalar[float32](out))
		out.FinalizeAll()
		n += b.Targets
	}
	if n == 0 {
		return math.NaN(), nil
	}
	return sum / float64(n), nil
}

func (t *Trainer) args(rest ...any) []any {
	var args []any
	for _, x := range t.Params {
		args = append(args, x)
	}
	for _, x := range t.baseTensors() {
		args = append(args, x)
	}
	return append(args, rest...)
}

// Logits returns the logits [len(tokens), V] of one sequence as the
// training graph computes them without dropout.
func (t *Trainer) Logits(tokens []int32) ([][]float32, error) {
	e, err := t.exec("logits", func(inputs []*Node) []*Node {
		p, nb := len(t.Names), len(t.baseTensors())
		return []*Node{t.logitsGraph(inputs[:p], inputs[p:p+nb], inputs[p+nb], nil, false)}
	})
	if err != nil {
		return nil, err
	}
	out, err := e.Exec1(t.args(tensors.FromFlatDataAndDimensions(tokens, 1, len(tokens)))...)
	if err != nil {
		return nil, err
	}
	defer out.FinalizeAll()
	flat, err := tensors.CopyFlatData[float32](out)
	if err != nil {
		return nil, err
	}
	v := t.Base.Config.VocabSize
	rows := make([][]float32, len(tokens))
	for i := range rows {
		rows[i] = flat[i*v : (i+1)*v : (i+1)*v]
	}
	return rows, nil
}

// mlpDType is the dtype of the MLP activations (Options.BF16MLP), or
// dtypes.InvalidDType for the default, float32.
func (t *Trainer) mlpDType() dtypes.DType {
	if t.Opts.BF16MLP && t.Base.DType == dtypes.BFloat16 {
		return dtypes.BFloat16
	}
	return dtypes.InvalidDType
}
