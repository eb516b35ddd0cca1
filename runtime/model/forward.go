package model

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/mask"
	"github.com/schemac-dev/schemac/runtime/nf4"
)

// graphWeights are the weights as graph nodes, bound by name from the
// inputs of a program in the order of Weights.Names.
type graphWeights struct {
	cfg    *Config
	w      *Weights
	nodes  map[string]*Node
	shapes map[string][]int // of every weight of the config
}

func bindWeights(w *Weights, nodes []*Node) *graphWeights {
	gw := &graphWeights{cfg: w.Config, w: w, nodes: map[string]*Node{}, shapes: map[string][]int{}}
	for i, n := range w.Names {
		rest, ok := strings.CutPrefix(n, stackedPrefix)
		if !ok {
			gw.nodes[n] = nodes[i]
			continue
		}
		// A stacked tensor [L, …]: layer li's tensor is its slice li, which
		// XLA reads in place inside the consuming fusion.
		dims := nodes[i].Shape().Dimensions[1:]
		for li := range nodes[i].Shape().Dimensions[0] {
			gw.nodes[fmt.Sprintf("model.layers.%d.%s", li, rest)] = Reshape(Slice(nodes[i], AxisElem(li)), dims...)
		}
	}
	for _, s := range w.Config.Specs() {
		gw.shapes[s.Name] = s.Shape
	}
	return gw
}

func (gw *graphWeights) get(name string) *Node {
	n, ok := gw.nodes[name]
	if !ok {
		panic(fmt.Errorf("model: weight %s is not bound", name))
	}
	return n
}

// absmax is the absmax vector of the NF4 matrix name, stored as is or
// double-quantized (Weights.DoubleQuantize).
func (gw *graphWeights) absmax(name string) *Node {
	if a, ok := gw.nodes[name+NF4Absmax]; ok {
		return a
	}
	return nf4.DequantizeAbsmax(gw.get(name+NF4AbsmaxQ), gw.get(name+NF4AbsmaxScale), gw.get(name+NF4AbsmaxMean))
}

func (gw *graphWeights) embed() *Node { return gw.get("model.embed_tokens.weight") }

func (gw *graphWeights) lmHead() *Node {
	if gw.cfg.TieWordEmbeddings {
		return gw.embed()
	}
	return gw.get("lm_head.weight")
}

// proj applies the module (a weight name without ".weight") to x [n, in]:
// dense or NF4 (dequantized here) base weight, plus the LoRA update
// scale·(x·Aᵀ)·Bᵀ when the module has factors.
func (gw *graphWeights) proj(x *Node, module string) *Node {
	name := module + ".weight"
	var y *Node
	if wt, ok := gw.nodes[name]; ok {
		y = linear(x, wt)
	} else if shape := gw.shapes[name]; x.Shape().Dimensions[0] == 1 && nf4.RowTimesOK(shape) {
		y = nf4.RowTimes(x, gw.get(name+NF4Packed), gw.absmax(name), shape[0], shape[1])
	} else {
		wt := nf4.Dequantize(gw.get(name+NF4Packed), gw.absmax(name), gw.shapes[name], gw.w.DType)
		y = linear(x, wt)
	}
	if a, ok := gw.nodes[module+LoRAA]; ok {
		b := gw.get(module + LoRAB)
		y = Add(y, MulScalar(linear(linear(x, a), b), gw.w.LoRAScale))
	}
	return y
}

// linear is x·wᵀ for x [n, in] (float32) and a Hugging Face weight
// w [out, in]: the product runs in w's dtype and comes back as float32.
//
// One row (a decode step) is a multiply and a row sum in float32 instead:
// XLA emits it as one reduction that streams w once; on an H100 it was
// a little faster than the dot (Triton GEMM with split-K), 8.3–9.3 ms
// against 9.3–9.6 ms per 7B step, and cuBLAS was slower than both.
func linear(x, w *Node) *Node {
	if x.Shape().Dimensions[0] == 1 {
		out, in := w.Shape().Dimensions[0], w.Shape().Dimensions[1]
		if x.DType() != dtypes.Float32 {
			x = ConvertDType(x, dtypes.Float32)
		}
		y := ReduceSum(Mul(ConvertDType(w, dtypes.Float32), BroadcastToDims(x, out, in)), 1)
		return Reshape(y, 1, out)
	}
	if x.DType() != w.DType() {
		x = ConvertDType(x, w.DType())
	}
	y := DotGeneral(x, []int{1}, nil, w, []int{1}, nil)
	if y.DType() != dtypes.Float32 {
		y = ConvertDType(y, dtypes.Float32)
	}
	return y
}

// rmsNorm is Hugging Face's MistralRMSNorm/LlamaRMSNorm in float32.
func rmsNorm(x, scale *Node, eps float64) *Node {
	ms := ReduceAndKeep(Square(x), ReduceMean, -1)
	return Mul(Mul(x, Rsqrt(AddScalar(ms, eps))), ExpandLeftToRank(scale, x.Rank()))
}

// ropeTables returns cos and sin [n, headDim] for the positions [n]
// (int32), as Hugging Face's default rotary embedding computes them:
// inv_freq in float32, angles = position × inv_freq, duplicated halves.
func ropeTables(cfg *Config, positions *Node) (cos, sin *Node) {
	g := positions.Graph()
	half := cfg.HeadDim / 2
	inv := make([]float32, half)
	for i := range inv {
		inv[i] = float32(1 / math.Pow(cfg.RopeTheta, float64(2*i)/float64(cfg.HeadDim)))
	}
	invFreq := Const(g, inv)                                   // [half]
	pos := ConvertDType(positions, dtypes.Float32)             // [n]
	angles := Mul(InsertAxes(pos, -1), InsertAxes(invFreq, 0)) // [n, half]
	angles = Concatenate([]*Node{angles, angles}, -1)          // [n, hd]
	return Cos(angles), Sin(angles)
}

// rope applies the rotation to x [n, heads, hd] (rotate_half convention).
func rope(x, cos, sin *Node) *Node {
	hd := x.Shape().Dimensions[2]
	x1 := Slice(x, AxisRange(), AxisRange(), AxisRange(0, hd/2))
	x2 := Slice(x, AxisRange(), AxisRange(), AxisRange(hd/2, hd))
	rot := Concatenate([]*Node{Neg(x2), x1}, -1)
	cos, sin = InsertAxes(cos, 1), InsertAxes(sin, 1) // [n, 1, hd]
	return Add(Mul(x, cos), Mul(rot, sin))
}

// attentionMask is true where query i (at qpos[i]) may see key j (at
// kpos[j]): causal, and within the sliding window when there is one (the
// query and the window-1 keys before it, as transformers does).
func attentionMask(cfg *Config, qpos, kpos *Node) *Node {
	q := InsertAxes(qpos, -1) // [n, 1]
	k := InsertAxes(kpos, 0)  // [1, S]
	n, s := qpos.Shape().Dimensions[0], kpos.Shape().Dimensions[0]
	q = BroadcastToDims(q, n, s)
	k = BroadcastToDims(k, n, s)
	mask := LessOrEqual(k, q)
	if cfg.SlidingWindow > 0 {
		mask = And(mask, LessThan(Sub(q, k), Scalar(q.Graph(), q.DType(), cfg.SlidingWindow)))
	}
	return mask
}

// attention is grouped-query attention of q [n, H, hd] over keys and values
// [KV, S, hd] with mask [n, S]; it returns [n, H*hd] in float32.
func attention(cfg *Config, q, k, v, mask *Node) *Node {
	n, kvh, grp, hd := q.Shape().Dimensions[0], cfg.NumKVHeads, cfg.GroupSize(), cfg.HeadDim
	s := k.Shape().Dimensions[1]
	// Query head h serves key/value head h / group (transformers' repeat_kv).
	q = Reshape(q, n, kvh, grp, hd)
	q = TransposeAllAxes(q, 1, 2, 0, 3) // [KV, G, n, hd]
	q = Reshape(q, kvh, grp*n, hd)
	if q.DType() != k.DType() {
		q = ConvertDType(q, k.DType())
	}
	scores := DotGeneral(q, []int{2}, []int{0}, k, []int{2}, []int{0}) // [KV, G*n, S]
	scores = ConvertDType(scores, dtypes.Float32)
	scores = MulScalar(Reshape(scores, kvh, grp, n, s), 1/math.Sqrt(float64(hd)))
	m := BroadcastToDims(Reshape(mask, 1, 1, n, s), kvh, grp, n, s)
	scores = Where(m, scores, Scalar(scores.Graph(), dtypes.Float32, -math.MaxFloat32))
	probs := Softmax(scores, -1)
	probs = Reshape(probs, kvh, grp*n, s)
	if probs.DType() != v.DType() {
		probs = ConvertDType(probs, v.DType())
	}
	out := DotGeneral(probs, []int{2}, []int{0}, v, []int{1}, []int{0}) // [KV, G*n, hd]
	out = ConvertDType(out, dtypes.Float32)
	out = TransposeAllAxes(Reshape(out, kvh, grp, n, hd), 2, 0, 1, 3) // [n, KV, G, hd]
	return Reshape(out, n, cfg.NumHeads*hd)
}

// kvFunc gives a layer the keys and values to attend over, given the new
// ones [KV, n, hd]: the new ones themselves (whole-sequence forward) or a
// cache updated with them (decode step). kpos [S] are their positions.
type kvFunc func(layer int, k, v *Node) (keys, values, kpos *Node)

// decoder runs the layers on token ids [n] at positions [n] (int32) and
// returns the final hidden states [n, D] before the final norm.
func decoder(w *graphWeights, tokens, positions *Node, kv kvFunc) *Node {
	cfg := w.cfg
	n := tokens.Shape().Dimensions[0]
	x := Gather(w.embed(), InsertAxes(tokens, -1)) // [n, D]
	x = ConvertDType(x, dtypes.Float32)
	cos, sin := ropeTables(cfg, positions)
	for li := range cfg.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", li)
		h := rmsNorm(x, w.get(p+"input_layernorm.weight"), cfg.RMSNormEps)
		q := Reshape(w.proj(h, p+"self_attn.q_proj"), n, cfg.NumHeads, cfg.HeadDim)
		k := Reshape(w.proj(h, p+"self_attn.k_proj"), n, cfg.NumKVHeads, cfg.HeadDim)
		v := Reshape(w.proj(h, p+"self_attn.v_proj"), n, cfg.NumKVHeads, cfg.HeadDim)
		q, k = rope(q, cos, sin), rope(k, cos, sin)
		keys, values, kpos := kv(li, TransposeAllAxes(k, 1, 0, 2), TransposeAllAxes(v, 1, 0, 2))
		a := attention(cfg, q, keys, values, attentionMask(cfg, positions, kpos))
		x = Add(x, w.proj(a, p+"self_attn.o_proj"))
		h = rmsNorm(x, w.get(p+"post_attention_layernorm.weight"), cfg.RMSNormEps)
		gate := w.proj(h, p+"mlp.gate_proj")
		up := w.proj(h, p+"mlp.up_proj")
		x = Add(x, w.proj(Mul(Mul(gate, Sigmoid(gate)), up), p+"mlp.down_proj"))
	}
	return x
}

// head is the final norm and the LM head: hidden [n, D] → logits [n, V].
func head(w *graphWeights, x *Node) *Node {
	return linear(rmsNorm(x, w.get("model.norm.weight"), w.cfg.RMSNormEps), w.lmHead())
}

// Model is a configuration with its weights on a backend.
type Model struct {
	Config  *Config
	Weights *Weights
	Backend backends.Backend

	forward *Exec
	step    map[bool]*Exec          // by sampling (else greedy)
	kpos    map[int]*tensors.Tensor // key positions 0..L-1 on the device, per attended length

	// The constraint (constrain.go): mask rows on the device, their count,
	// the EOS id they leave to acceptance (-1: none).
	maskRows     *tensors.Tensor
	maskRowCount int
	eos          int
	maskTable    *mask.Table // the table maskRows came from

	// Progress, when set, hears about step programs that take long to
	// compile (a 7B NF4 one takes minutes on an H100): a line when one
	// has been compiling for CompileNotice, and one when it is done.
	Progress io.Writer
	compiled map[stepKey]bool // step shapes run so far

	// Stepper, when set, runs the decode steps instead of the XLA step
	// programs (stepper.go).
	Stepper Stepper
}

// CompileNotice is how long a step program compiles before Model.Progress
// hears about it.
var CompileNotice = 3 * time.Second

// stepKey is the shape of a step program.
type stepKey struct {
	n, keyLen int
	sampling  bool
}

// New binds weights to a backend.
func New(backend backends.Backend, w *Weights) (*Model, error) {
	if backend == nil || w == nil || w.Config == nil {
		return nil, fmt.Errorf("model.New: backend and weights needed")
	}
	if len(w.Tensors) != len(w.Names) {
		return nil, fmt.Errorf("model.New: %d weight tensors, %d names", len(w.Tensors), len(w.Names))
	}
	return &Model{Config: w.Config, Weights: w, Backend: backend, kpos: map[int]*tensors.Tensor{}, step: map[bool]*Exec{}, eos: -1}, nil
}

// Forward runs the whole sequence (no cache) and returns the logits of
// every position, [len(tokens), vocab] float32, as a host slice per row.
func (m *Model) Forward(tokens []int32) ([][]float32, error) {
	if err := m.checkTokens(tokens); err != nil {
		return nil, err
	}
	if m.forward == nil {
		nw := len(m.Weights.Tensors)
		exec, err := NewExec(m.Backend, func(inputs []*Node) *Node {
			w := bindWeights(m.Weights, inputs[:nw])
			toks := inputs[nw]
			positions := Iota(toks.Graph(), toks.Shape(), 0)
			kv := func(_ int, k, v *Node) (*Node, *Node, *Node) { return k, v, positions }
			return head(w, decoder(w, toks, positions, kv))
		})
		if err != nil {
			return nil, err
		}
		m.forward = exec.WithName("forward")
	}
	args := make([]any, 0, len(m.Weights.Tensors)+1)
	for _, t := range m.Weights.Tensors {
		args = append(args, t)
	}
	args = append(args, tensors.FromValue(tokens))
	out, err := m.forward.Exec1(args...)
	if err != nil {
		return nil, err
	}
	defer out.FinalizeAll()
	flat, err := tensors.CopyFlatData[float32](out)
	if err != nil {
		return nil, err
	}
	v := m.Config.VocabSize
	rows := make([][]float32, len(tokens))
	for i := range rows {
		rows[i] = flat[i*v : (i+1)*v : (i+1)*v]
	}
	return rows, nil
}

func (m *Model) checkTokens(tokens []int32) error {
	if len(tokens) == 0 {
		return fmt.Errorf("no tokens")
	}
	for i, t := range tokens {
		if t < 0 || int(t) >= m.Config.VocabSize {
			return fmt.Errorf("token %d at position %d is outside the vocabulary of %d", t, i, m.Config.VocabSize)
		}
	}
	return nil
}

// Finalize frees the compiled programs (not the weights).
func (m *Model) Finalize() {
	if m.forward != nil {
		m.forward.Finalize()
		m.forward = nil
	}
	for k, e := range m.step {
		e.Finalize()
		delete(m.step, k)
	}
	for k, t := range m.kpos {
		t.FinalizeAll()
		delete(m.kpos, k)
	}
	if m.maskRows != nil {
		m.maskRows.FinalizeAll()
		m.maskRows, m.maskRowCount, m.eos, m.maskTable = nil, 0, -1, nil
	}
}
