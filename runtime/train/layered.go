package train

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/model"
)

// The layered step (the default): a micro-batch runs as several programs
// instead of one, so that the device holds one layer's activations at a
// time, not every layer's (gradient checkpointing at layer boundaries):
//
//   - keys (with dropout): the step's random state → a new state and one
//     state per layer, which the layer's forward and its recomputation
//     both draw their dropout masks from;
//   - embed: tokens [B, T] → x₀ [B, T, D];
//   - layer forward, one program for every layer (its tensors are
//     inputs): x_l → x_{l+1}; only the layer inputs x_l are kept;
//   - head: x_L → the loss sum and dL/dx_L (the loss scaled by 1/targets
//     of the whole step, masked with Options.MaskTable);
//   - layer backward, layers in reverse order: x_l, dL/dx_{l+1} → dL/dx_l
//     and the gradients of the layer's trainable tensors, by GoMLX's
//     autodiff of Σ y·dy over the layer recomputed from x_l (for layer 0
//     without dL/dx₀ unless the embedding is trained);
//   - embed backward (Full only): dL/dx₀ → the embedding's gradient.
//
// Gradients accumulate on the device over the micro-batches (each program
// adds its gradients to the sums so far, donated); then one program
// computes their global norm and one program per layer clips and applies
// AdamW to the layer's parameters (Trainer.adamWUpdate, as the
// one-program step does).

// layout says where the layered programs find their tensors.
type layout struct {
	rel   []string // names relative to the layer of the frozen layer tensors (LoRA: the base's; Full: none)
	base  [][]int  // [layer][k]: index in Base.Tensors of rel[k]
	trel  []string // names relative to the layer of the trainable layer tensors
	train [][]int  // [layer][k]: index in Names of trel[k]
	// Outside the layers: indices in Base.Tensors (LoRA) or Names (Full).
	embed, norm, head int
}

// newLayout matches the base's and the trainable tensors' names to the
// layers; every layer must have the same tensors.
func newLayout(t *Trainer) (*layout, error) {
	cfg := t.Base.Config
	lay := &layout{embed: -1, norm: -1, head: -1}
	split := func(names []string) (rel []string, idx [][]int, rest map[string]int, err error) {
		idx = make([][]int, cfg.NumLayers)
		rest = map[string]int{}
		pos := map[string]int{}
		for i, n := range names {
			pos[n] = i
		}
		for _, n := range names {
			if r, ok := strings.CutPrefix(n, model.LayerPrefix(0)); ok {
				rel = append(rel, r)
			}
		}
		used := 0
		for li := range cfg.NumLayers {
			for _, r := range rel {
				i, ok := pos[model.LayerPrefix(li)+r]
				if !ok {
					return nil, nil, nil, fmt.Errorf("layer %d has no tensor %s", li, r)
				}
				idx[li] = append(idx[li], i)
				used++
			}
		}
		for i, n := range names {
			if !strings.HasPrefix(n, "model.layers.") {
				rest[n] = i
				used++
			}
		}
		if used != len(names) {
			return nil, nil, nil, fmt.Errorf("%d tensors, %d placed in layers or outside: the layers differ", len(names), used)
		}
		return rel, idx, rest, nil
	}
	outside := func(rest map[string]int) error {
		for _, p := range []struct {
			name string
			dst  *int
		}{{model.EmbedName, &lay.embed}, {model.NormName, &lay.norm}, {cfg.HeadWeightName(), &lay.head}} {
			i, ok := rest[p.name]
			if !ok {
				return fmt.Errorf("no tensor %s", p.name)
			}
			*p.dst = i
		}
		return nil
	}
	var err error
	var rest map[string]int
	if t.Opts.Full {
		if lay.trel, lay.train, rest, err = split(t.Names); err == nil {
			err = outside(rest)
		}
	} else {
		if lay.rel, lay.base, rest, err = split(t.Base.Names); err == nil {
			err = outside(rest)
		}
		if err == nil {
			var other map[string]int
			if lay.trel, lay.train, other, err = split(t.Names); err == nil && len(other) > 0 {
				err = fmt.Errorf("LoRA factors outside the layers: %v", other)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("layered training step: %w", err)
	}
	return lay, nil
}

// dropoutOn: the LoRA path draws dropout masks in training.
func (t *Trainer) dropoutOn() bool { return !t.Opts.Full && t.Opts.Dropout > 0 }

// savedDType is the dtype of the saved layer inputs.
func (t *Trainer) savedDType() dtypes.DType {
	switch t.Opts.SaveInputs {
	case "f32":
		return dtypes.Float32
	case "bf16":
		return dtypes.BFloat16
	}
	if !t.Opts.Full && t.Base.DType == dtypes.BFloat16 {
		return dtypes.BFloat16
	}
	return dtypes.Float32
}

// layerGraph is layer l's output [B·T, D] float32 for its input x
// [B, T, D] (converted to float32); frozen and train are the layer's
// tensors in the order of layout.rel and layout.trel; with dropout, masks
// draw from *rng.
func (t *Trainer) layerGraph(frozen, train []*Node, x *Node, rng **Node) *Node {
	b, s, d := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2]
	x = Reshape(ConvertDType(x, dtypes.Float32), b*s, d)
	if t.Opts.Full {
		return model.BatchLayer(t.Base, t.lay.trel, train, x, b, nil)
	}
	lora := &model.LoRANodes{A: map[string]*Node{}, B: map[string]*Node{}, Scale: t.Scale(), MLPDType: t.mlpDType()}
	for k, n := range t.lay.trel {
		if m, ok := strings.CutSuffix(n, model.LoRAA); ok {
			lora.A[m] = train[k]
		} else if m, ok := strings.CutSuffix(n, model.LoRAB); ok {
			lora.B[m] = train[k]
		}
	}
	if rng != nil {
		lora.Input = t.dropout(rng)
	}
	return model.BatchLayer(t.Base, t.lay.rel, frozen, x, b, lora)
}

// dropout is the LoRA input transformation of training: inverted dropout
// with masks drawn from *rng (nil when there is no dropout).
func (t *Trainer) dropout(rng **Node) func(string, *Node) *Node {
	p := t.Opts.Dropout
	if t.Opts.Full || !(p > 0) {
		return nil
	}
	return func(_ string, x *Node) *Node {
		var u *Node
		*rng, u = RandomUniform(*rng, x.Shape())
		keep := GreaterOrEqual(u, Scalar(x.Graph(), u.DType(), p))
		return Where(keep, MulScalar(x, 1/(1-p)), ZerosLike(x))
	}
}

// inputs takes the inputs of a program in order.
type inputs []*Node

func (in *inputs) take(k int) []*Node {
	s := (*in)[:k:k]
	*in = (*in)[k:]
	return s
}

func (in *inputs) one() *Node { return in.take(1)[0] }

// Program keys and graphs. Inputs and outputs are listed with each.

// keysGraph: rng → rng', one state per layer.
func (t *Trainer) keysGraph(in []*Node) []*Node {
	rng := in[0]
	out := []*Node{nil}
	for range t.Base.Config.NumLayers {
		var k *Node
		rng, k = RNGStateSplit(rng)
		out = append(out, k)
	}
	out[0] = rng
	return out
}

// embedGraph: embedding, tokens [B, T] → x₀ [B, T, D] (saved dtype).
func (t *Trainer) embedGraph(in []*Node) []*Node {
	b, s := in[1].Shape().Dimensions[0], in[1].Shape().Dimensions[1]
	x := model.BatchEmbed(in[0], in[1])
	return []*Node{ConvertDType(Reshape(x, b, s, x.Shape().Dimensions[1]), t.savedDType())}
}

// layerFwdGraph: x, frozen…, train…, [key] → y (saved dtype).
func (t *Trainer) layerFwdGraph(in []*Node) []*Node {
	ins := inputs(in)
	x := ins.one()
	frozen, train := ins.take(len(t.lay.rel)), ins.take(len(t.lay.trel))
	var rng **Node
	if t.dropoutOn() {
		k := ins.one()
		rng = &k
	}
	y := t.layerGraph(frozen, train, x, rng)
	return []*Node{ConvertDType(Reshape(y, x.Shape().Dimensions...), t.savedDType())}
}

// layerBwdGraph: x, dy [B, T, D] float32, frozen…, train…, [acc…],
// [key] → [dx float32], gradients (+acc) of train.
func (t *Trainer) layerBwdGraph(acc, wantDX bool) func([]*Node) []*Node {
	return func(in []*Node) []*Node {
		ins := inputs(in)
		x, dy := ins.one(), ins.one()
		frozen, train := ins.take(len(t.lay.rel)), ins.take(len(t.lay.trel))
		var accIn []*Node
		if acc {
			accIn = ins.take(len(t.lay.trel))
		}
		var rng **Node
		if t.dropoutOn() {
			k := ins.one()
			rng = &k
		}
		x32 := ConvertDType(x, dtypes.Float32)
		y := t.layerGraph(frozen, train, x32, rng)
		b, s, d := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2]
		wrt := train
		if wantDX {
			wrt = append([]*Node{x32}, train...)
		}
		grads := Gradient(ReduceAllSum(Mul(y, Reshape(dy, b*s, d))), wrt...)
		var out []*Node
		if wantDX {
			out = append(out, grads[0])
			grads = grads[1:]
		}
		for i, g := range grads {
			if acc {
				g = Add(accIn[i], g)
			}
			out = append(out, g)
		}
		return out
	}
}

// headGraph: x_L, norm, head, labels, mask, invCount, [rows, rowIdx],
// [acc of norm, head (Full)] → loss sum, dL/dx_L float32 [B, T, D],
// [gradients (+acc) of norm, head (Full)].
func (t *Trainer) headGraph(acc bool) func([]*Node) []*Node {
	return func(in []*Node) []*Node {
		ins := inputs(in)
		x, norm, head := ins.one(), ins.one(), ins.one()
		labels, mask, invCount := ins.one(), ins.one(), ins.one()
		var rows, rowIdx *Node
		if t.maskRows != nil {
			rows, rowIdx = ins.one(), ins.one()
		}
		var accIn []*Node
		if acc {
			accIn = ins.take(2)
		}
		b, s, d := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2]
		x32 := Reshape(ConvertDType(x, dtypes.Float32), b*s, d)
		sum := loss(model.BatchHead(t.Base, norm, head, x32), labels, mask, rows, rowIdx)
		wrt := []*Node{x32}
		if t.Opts.Full {
			wrt = append(wrt, norm, head)
		}
		grads := Gradient(Mul(sum, invCount), wrt...)
		out := []*Node{sum, Reshape(grads[0], b, s, d)}
		for i, g := range grads[1:] {
			if acc {
				g = Add(accIn[i], g)
			}
			out = append(out, g)
		}
		return out
	}
}

// embedBwdGraph (Full): embedding, tokens, dx₀, [acc] → its gradient (+acc).
func (t *Trainer) embedBwdGraph(acc bool) func([]*Node) []*Node {
	return func(in []*Node) []*Node {
		embed, tokens, dx := in[0], in[1], in[2]
		x := model.BatchEmbed(embed, tokens)
		g := Gradient(ReduceAllSum(Mul(x, Reshape(dx, x.Shape().Dimensions...))), embed)[0]
		if acc {
			g = Add(in[3], g)
		}
		return []*Node{g}
	}
}

// normGraph: grads… → their global norm.
func (t *Trainer) normGraph(in []*Node) []*Node { return []*Node{gradNorm(in)} }

// applyGraph: params…, m…, v…, grads… of a group of parameters, lr, bc1,
// bc2, the global gradient norm → params', m', v'.
func (t *Trainer) applyGraph(in []*Node) []*Node {
	ins := inputs(in)
	p := (len(in) - 4) / 4
	params, m, v, grads := ins.take(p), ins.take(p), ins.take(p), ins.take(p)
	lr, bc1, bc2, norm := ins.one(), ins.one(), ins.one(), ins.one()
	newP, newM, newV := t.adamWUpdate(params, m, v, grads, lr, bc1, bc2, norm)
	return append(append(newP, newM...), newV...)
}

// applyGroups are the groups of parameters AdamW updates one program at
// a time (indices in Names): each layer's, then the others (Full), so
// that an update's new values need the memory of one group, not of all
// the parameters (GoMLX does not alias donated inputs to outputs).
func (t *Trainer) applyGroups() [][]int {
	groups := slices.Clone(t.lay.train)
	if t.Opts.Full {
		groups = append(groups, []int{t.lay.embed, t.lay.norm})
		if t.lay.head != t.lay.embed {
			groups[len(groups)-1] = append(groups[len(groups)-1], t.lay.head)
		}
	}
	return groups
}

// stepTensors are the tensors of a layered step held on the device
// between programs, for the memory estimate.
type stepTensors struct {
	xs    []*tensors.Tensor // saved layer inputs
	dy    *tensors.Tensor
	grads []*tensors.Tensor // accumulated gradients, by Names (nil: none yet)
	keys  []*tensors.Tensor
}

func (s *stepTensors) bytes() int64 {
	n := tensorBytes(s.xs) + tensorBytes(s.grads) + tensorBytes(s.keys)
	if s.dy != nil {
		n += int64(s.dy.Shape().Memory())
	}
	return n
}

func tensorBytes(ts []*tensors.Tensor) int64 {
	var n int64
	for _, x := range ts {
		if x != nil && x.Shape().DType != dtypes.InvalidDType { // not a donated one
			n += int64(x.Shape().Memory())
		}
	}
	return n
}

func finalizeAll(ts []*tensors.Tensor) {
	for i, x := range ts {
		if x != nil {
			x.FinalizeAll()
			ts[i] = nil
		}
	}
}

// argList builds the arguments of a program run. It notes the memory
// held when it is made, before any of its tensors is donated: the
// resident tensors and live, the step's.
type argList struct {
	t              *Trainer
	args           []any
	err            error
	resident, live int64
}

func (t *Trainer) newArgs(live int64) *argList {
	return &argList{t: t, resident: t.residentBytes(), live: live}
}

func (a *argList) add(xs ...any) *argList { a.args = append(a.args, xs...); return a }

// tensors adds ts, donated when give (their buffers then belong to the
// program).
func (a *argList) tensors(give bool, ts ...*tensors.Tensor) *argList {
	for _, x := range ts {
		if !give {
			a.args = append(a.args, x)
			continue
		}
		d, err := donate(x, a.t.Backend)
		if err != nil && a.err == nil {
			a.err = err
		}
		a.args = append(a.args, d)
	}
	return a
}

// pick returns ts[i] for each index.
func pick(ts []*tensors.Tensor, idx []int) []*tensors.Tensor {
	out := make([]*tensors.Tensor, len(idx))
	for k, i := range idx {
		out[k] = ts[i]
	}
	return out
}

// accState is whether the gradients at idx exist (all) or not (none).
func accState(grads []*tensors.Tensor, idx []int) (bool, error) {
	n := 0
	for _, i := range idx {
		if grads[i] != nil {
			n++
		}
	}
	if n != 0 && n != len(idx) {
		return false, errors.New("layered step: gradients partly accumulated")
	}
	return n > 0 && len(idx) > 0, nil
}

// run runs program key (built by build on first use) and records its
// memory (see argList).
func (t *Trainer) run(key string, build func([]*Node) []*Node, a *argList) ([]*tensors.Tensor, error) {
	if a.err != nil {
		return nil, a.err
	}
	e, err := t.exec(key, build)
	if err != nil {
		return nil, err
	}
	outs, g, err := e.ExecWithGraph(a.args...)
	if err != nil {
		return nil, err
	}
	t.mem.observe(key, g, outs, a.resident, a.live)
	return outs, nil
}

// layerKeys draws one dropout state per layer from the trainer's state
// (none without dropout).
func (t *Trainer) layerKeys() ([]*tensors.Tensor, error) {
	if !t.dropoutOn() {
		return nil, nil
	}
	outs, err := t.run("keys", t.keysGraph, t.newArgs(0).tensors(true, t.RNG))
	if err != nil {
		return nil, err
	}
	t.RNG = outs[0]
	return outs[1:], nil
}

// layerGrads runs the forward and backward programs of every micro-batch
// and returns the gradients of the mean loss (the loss sums scaled by inv)
// by Names and the summed loss. keys[i] are micro-batch i's dropout
// states per layer (nil without dropout); they are not consumed.
func (t *Trainer) layerGrads(micro []Batch, maskArgs [][]any, inv float32, keys [][]*tensors.Tensor) (grads []*tensors.Tensor, sum float64, err error) {
	lay, nl := t.lay, t.Base.Config.NumLayers
	st := &stepTensors{grads: make([]*tensors.Tensor, len(t.Names))}
	defer func() {
		finalizeAll(st.xs)
		if st.dy != nil {
			st.dy.FinalizeAll()
		}
		if err != nil {
			finalizeAll(st.grads)
		}
	}()
	// The tensors a layer program reads: the base's and the trainable ones.
	layerIn := func(li int) (frozen, train []*tensors.Tensor) {
		if !t.Opts.Full {
			frozen = pick(t.Base.Tensors, lay.base[li])
		}
		return frozen, pick(t.Params, lay.train[li])
	}
	outside := func(i int) *tensors.Tensor {
		if t.Opts.Full {
			return t.Params[i]
		}
		return t.Base.Tensors[i]
	}
	for mb, b := range micro {
		var k []*tensors.Tensor
		if keys != nil {
			k = keys[mb]
		}
		st.keys = k
		tokens := tensors.FromFlatDataAndDimensions(b.Tokens, b.B, b.T)
		st.xs = make([]*tensors.Tensor, nl+1)
		outs, err := t.run("embed", t.embedGraph, t.newArgs(st.bytes()).tensors(false, outside(lay.embed)).add(tokens))
		if err != nil {
			return nil, 0, err
		}
		st.xs[0] = outs[0]
		for li := range nl {
			frozen, train := layerIn(li)
			a := t.newArgs(st.bytes()).tensors(false, st.xs[li]).tensors(false, frozen...).tensors(false, train...)
			if k != nil {
				a.tensors(false, k[li])
			}
			outs, err := t.run("layer_fwd", t.layerFwdGraph, a)
			if err != nil {
				return nil, 0, fmt.Errorf("layer %d: %w", li, err)
			}
			st.xs[li+1] = outs[0]
		}
		// Head and loss.
		headIdx := []int{lay.norm, lay.head}
		acc := false
		if t.Opts.Full {
			if acc, err = accState(st.grads, headIdx); err != nil {
				return nil, 0, err
			}
		}
		a := t.newArgs(st.bytes()).tensors(true, st.xs[nl]).tensors(false, outside(lay.norm), outside(lay.head)).
			add(tensors.FromFlatDataAndDimensions(b.Labels, b.B, b.T), tensors.FromFlatDataAndDimensions(b.Mask, b.B, b.T), inv).
			add(maskArgs[mb]...)
		if acc {
			a.tensors(true, pick(st.grads, headIdx)...)
		}
		st.xs[nl] = nil
		outs, err = t.run(fmt.Sprintf("head_acc%v", acc), t.headGraph(acc), a)
		if err != nil {
			return nil, 0, err
		}
		sum += float64(tensors.ToScalar[float32](outs[0]))
		outs[0].FinalizeAll()
		st.dy = outs[1]
		if t.Opts.Full {
			st.grads[lay.norm], st.grads[lay.head] = outs[2], outs[3]
		}
		// Layers backward.
		for li := nl - 1; li >= 0; li-- {
			frozen, train := layerIn(li)
			acc, err := accState(st.grads, lay.train[li])
			if err != nil {
				return nil, 0, err
			}
			wantDX := li > 0 || t.Opts.Full
			a := t.newArgs(st.bytes()).tensors(true, st.xs[li], st.dy).tensors(false, frozen...).tensors(false, train...)
			if acc {
				a.tensors(true, pick(st.grads, lay.train[li])...)
			}
			if k != nil {
				a.tensors(false, k[li])
			}
			st.xs[li], st.dy = nil, nil
			outs, err := t.run(fmt.Sprintf("layer_bwd_acc%v_dx%v", acc, wantDX), t.layerBwdGraph(acc, wantDX), a)
			if err != nil {
				return nil, 0, fmt.Errorf("layer %d backward: %w", li, err)
			}
			if wantDX {
				st.dy, outs = outs[0], outs[1:]
			}
			for j, i := range lay.train[li] {
				st.grads[i] = outs[j]
			}
		}
		if t.Opts.Full {
			acc, err := accState(st.grads, []int{lay.embed})
			if err != nil {
				return nil, 0, err
			}
			a := t.newArgs(st.bytes()).tensors(false, t.Params[lay.embed]).add(tokens).tensors(true, st.dy)
			if acc {
				a.tensors(true, st.grads[lay.embed])
			}
			st.dy = nil
			outs, err := t.run(fmt.Sprintf("embed_bwd_acc%v", acc), t.embedBwdGraph(acc), a)
			if err != nil {
				return nil, 0, err
			}
			st.grads[lay.embed] = outs[0]
		}
		st.keys = nil
	}
	for i, g := range st.grads {
		if g == nil {
			finalizeAll(st.grads)
			return nil, 0, fmt.Errorf("layered step: no gradient for %s", t.Names[i])
		}
	}
	return st.grads, sum, nil
}

// trainStepLayered is TrainStep's layered path (see the top of this file).
func (t *Trainer) trainStepLayered(micro []Batch, maskArgs [][]any, inv float32, res *StepResult) error {
	keys := make([][]*tensors.Tensor, len(micro))
	defer func() {
		for _, k := range keys {
			finalizeAll(k)
		}
	}()
	if t.dropoutOn() {
		for i := range micro {
			var err error
			if keys[i], err = t.layerKeys(); err != nil {
				return err
			}
		}
	} else {
		keys = nil
	}
	grads, sum, err := t.layerGrads(micro, maskArgs, inv, keys)
	if err != nil {
		return err
	}
	defer finalizeAll(grads)
	outs, err := t.run("grad_norm", t.normGraph, t.newArgs(tensorBytes(grads)).tensors(false, grads...))
	if err != nil {
		return err
	}
	norm := outs[0]
	defer norm.FinalizeAll()
	s := float64(t.Step + 1)
	lr, bc1, bc2 := float32(res.LR), float32(1-math.Pow(t.Opts.Beta1, s)), float32(1-math.Pow(t.Opts.Beta2, s))
	for _, idx := range t.applyGroups() {
		a := t.newArgs(tensorBytes(grads)).tensors(true, pick(t.Params, idx)...).tensors(true, pick(t.M, idx)...).
			tensors(true, pick(t.V, idx)...).tensors(true, pick(grads, idx)...).add(lr, bc1, bc2).tensors(false, norm)
		for _, i := range idx {
			grads[i] = nil
		}
		outs, err := t.run("apply", t.applyGraph, a)
		if err != nil {
			return err
		}
		for k, i := range idx {
			t.Params[i], t.M[i], t.V[i] = outs[k], outs[len(idx)+k], outs[2*len(idx)+k]
		}
	}
	res.GradNorm = float64(tensors.ToScalar[float32](norm))
	res.Loss = sum
	return nil
}
