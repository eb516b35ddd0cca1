package model

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"weak"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"

	"github.com/schemac-dev/schemac/runtime/nf4"
)

// This file exports what training (runtime/train) needs from the model's
// graph: the logits of a batch of sequences, built from weight nodes with
// LoRA factors given as separate nodes (so that they can be differentiated)
// and an optional transformation of the LoRA input (dropout). It uses the
// same pieces as Forward (embedding, rmsNorm, RoPE tables, the causal and
// sliding-window mask, proj, head), so training and inference compute the
// same function.

// LoRANodes are LoRA factors as graph nodes: for each adapted module (a
// weight name without ".weight") A [r, in] and B [out, r]; the update of
// the module's output is Scale·(Input(x)·Aᵀ)·Bᵀ. Input (nil: identity) sees
// the module's input x [n, in] float32, e.g. to apply dropout.
type LoRANodes struct {
	A, B  map[string]*Node
	Scale float64
	Input func(module string, x *Node) *Node
	// MLPDType, when set (not dtypes.InvalidDType), is the dtype of the
	// MLP's gate and up outputs and of SiLU(gate)·up, the largest
	// activations of a layer: the weights' dtype (bf16) halves their
	// memory, as a bf16 model in transformers keeps them (the LoRA update
	// is added in that dtype, as peft does over a bf16 base). Unset, they
	// are float32.
	MLPDType dtypes.DType
}

// BatchLogits returns the logits [B·T, V] (float32, row b·T+t) of token ids
// tokens [B, T] (int32), each row of tokens a sequence starting at position
// 0 (right padding is harmless: attention is causal). nodes are the weights
// in the order of w.Names (only w's names, config, dtype and quantization
// are used, not its tensors); lora (nil: none) adds factors that are not
// among them.
func BatchLogits(w *Weights, nodes []*Node, tokens *Node, lora *LoRANodes) *Node {
	if len(nodes) != len(w.Names) {
		panic(fmt.Errorf("model.BatchLogits: %d weight nodes for %d names", len(nodes), len(w.Names)))
	}
	gw := bindWeights(w, nodes)
	x := batchDecoder(gw, tokens, lora)
	return tlinear(rmsNorm(x, gw.get("model.norm.weight"), gw.cfg.RMSNormEps), gw.lmHead())
}

// batchDecoder is decoder for a batch [B, T] of sequences: the projections
// run on all B·T rows at once, attention per sequence. It returns the
// final hidden states [B·T, D] before the final norm.
func batchDecoder(w *graphWeights, tokens *Node, lora *LoRANodes) *Node {
	b, t := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	x := batchEmbed(w.embed(), tokens)
	c := newBatchTables(w.cfg, tokens.Graph(), b, t)
	for li := range w.cfg.NumLayers {
		x = batchLayer(w, LayerPrefix(li), x, c, lora)
	}
	return x
}

// batchEmbed is the embedding of tokens [B, T] (int32): rows of embed
// [V, D] as float32 [B·T, D].
func batchEmbed(embed, tokens *Node) *Node {
	n := tokens.Shape().Dimensions[0] * tokens.Shape().Dimensions[1]
	x := Gather(embed, InsertAxes(Reshape(tokens, n), -1)) // [n, D]
	return ConvertDType(x, dtypes.Float32)
}

// batchTables are what every layer of a batch of B sequences of T tokens
// shares: the RoPE tables per row [B·T, hd] and the attention mask [T, T].
type batchTables struct {
	b, t           int
	cos, sin, mask *Node
}

func newBatchTables(cfg *Config, g *Graph, b, t int) *batchTables {
	n, hd := b*t, cfg.HeadDim
	positions := Iota(g, shapes.Make(dtypes.Int32, t), 0)
	cos, sin := ropeTables(cfg, positions) // [t, hd]
	return &batchTables{b: b, t: t,
		cos:  Reshape(BroadcastToDims(InsertAxes(cos, 0), b, t, hd), n, hd),
		sin:  Reshape(BroadcastToDims(InsertAxes(sin, 0), b, t, hd), n, hd),
		mask: attentionMask(cfg, positions, positions), // [t, t]
	}
}

// batchProj applies the module (a weight name without ".weight") to
// x [n, in] in a batch graph: the dense or dequantized NF4 weight, an
// adapter among the weights, and lora's factors for the module.
func batchProj(w *graphWeights, x *Node, module string, lora *LoRANodes) *Node {
	return batchProjAs(w, x, module, lora, dtypes.Float32)
}

// batchProjAs is batchProj with the output in dtype.
func batchProjAs(w *graphWeights, x *Node, module string, lora *LoRANodes, dtype dtypes.DType) *Node {
	name := module + ".weight"
	wt, ok := w.nodes[name]
	if !ok {
		wt = nf4.Dequantize(w.get(name+NF4Packed), w.absmax(name), w.shapes[name], w.w.DType)
	}
	y := tlinearAs(x, wt, dtype)
	if a, ok := w.nodes[module+LoRAA]; ok { // an adapter among the weights
		y = Add(y, MulScalar(tlinearAs(tlinear(x, a), w.get(module+LoRAB), dtype), w.w.LoRAScale))
	}
	if lora == nil {
		return y
	}
	a, ok := lora.A[module]
	if !ok {
		return y
	}
	in := x
	if lora.Input != nil {
		in = lora.Input(module, x)
	}
	return Add(y, ConvertDType(MulScalar(tlinear(tlinear(in, a), lora.B[module]), lora.Scale), dtype))
}

// batchLayer is the decoder layer whose weights have the name prefix p
// applied to the hidden states x [B·T, D] (float32).
func batchLayer(w *graphWeights, p string, x *Node, c *batchTables, lora *LoRANodes) *Node {
	cfg := w.cfg
	b, t, hd := c.b, c.t, cfg.HeadDim
	n := b * t
	h := rmsNorm(x, w.get(p+"input_layernorm.weight"), cfg.RMSNormEps)
	q := Reshape(batchProj(w, h, p+"self_attn.q_proj", lora), n, cfg.NumHeads, hd)
	k := Reshape(batchProj(w, h, p+"self_attn.k_proj", lora), n, cfg.NumKVHeads, hd)
	v := Reshape(batchProj(w, h, p+"self_attn.v_proj", lora), n, cfg.NumKVHeads, hd)
	q, k = ropeNoSlice(q, c.cos, c.sin), ropeNoSlice(k, c.cos, c.sin)
	a := batchAttention(cfg, Reshape(q, b, t, cfg.NumHeads, hd), Reshape(k, b, t, cfg.NumKVHeads, hd),
		Reshape(v, b, t, cfg.NumKVHeads, hd), c.mask, w.w.DType)
	x = Add(x, batchProj(w, a, p+"self_attn.o_proj", lora))
	h = rmsNorm(x, w.get(p+"post_attention_layernorm.weight"), cfg.RMSNormEps)
	act := dtypes.Float32
	if lora != nil && lora.MLPDType != dtypes.InvalidDType {
		act = lora.MLPDType
	}
	gate := batchProjAs(w, h, p+"mlp.gate_proj", lora, act)
	up := batchProjAs(w, h, p+"mlp.up_proj", lora, act)
	return Add(x, batchProj(w, Mul(Mul(gate, Sigmoid(gate)), up), p+"mlp.down_proj", lora))
}

// batchAttention is attention for q [B, T, H, hd] over k, v [B, T, KV, hd]
// (float32) with mask [T, T]; it returns [B·T, H·hd] float32. Query head h
// serves key/value head h / group, as in attention. The two products run
// in dtype (the weights' compute type, as attention does over a cache in
// that type, and as a bf16 model in transformers does); the softmax runs in
// float32.
func batchAttention(cfg *Config, q, k, v, mask *Node, dtype dtypes.DType) *Node {
	b, t := q.Shape().Dimensions[0], q.Shape().Dimensions[1]
	kvh, grp, hd := cfg.NumKVHeads, cfg.GroupSize(), cfg.HeadDim
	q = Reshape(q, b, t, kvh, grp, hd)
	q = TransposeAllAxes(q, 0, 2, 3, 1, 4) // [B, KV, G, T, hd]
	q = Reshape(q, b, kvh, grp*t, hd)
	k = TransposeAllAxes(k, 0, 2, 1, 3) // [B, KV, T, hd]
	v = TransposeAllAxes(v, 0, 2, 1, 3)
	if dtype != q.DType() {
		q, k, v = ConvertDType(q, dtype), ConvertDType(k, dtype), ConvertDType(v, dtype)
	}
	scores := dotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}) // [B, KV, G*T, T]
	if scores.DType() != dtypes.Float32 {
		scores = ConvertDType(scores, dtypes.Float32)
	}
	scores = MulScalar(Reshape(scores, b, kvh, grp, t, t), 1/math.Sqrt(float64(hd)))
	m := BroadcastToDims(Reshape(mask, 1, 1, 1, t, t), b, kvh, grp, t, t)
	scores = Where(m, scores, Scalar(scores.Graph(), dtypes.Float32, -math.MaxFloat32))
	probs := Reshape(Softmax(scores, -1), b, kvh, grp*t, t)
	if probs.DType() != v.DType() {
		probs = ConvertDType(probs, v.DType())
	}
	out := dotGeneral(probs, []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1}) // [B, KV, G*T, hd]
	if out.DType() != dtypes.Float32 {
		out = ConvertDType(out, dtypes.Float32)
	}
	out = TransposeAllAxes(Reshape(out, b, kvh, grp, t, hd), 0, 3, 1, 2, 4) // [B, T, KV, G, hd]
	return Reshape(out, b*t, cfg.NumHeads*hd)
}

// ropeNoSlice is rope without Slice, whose gradient needs Pad, which
// simplego lacks: rotate_half's halves are swapped and negated by a 2×2
// product on the axis that tells them apart, which is exact (each output
// is ±1 times one input plus zeros), so the values are rope's bit for bit.
func ropeNoSlice(x, cos, sin *Node) *Node {
	n, h, hd := x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[2]
	halves := Reshape(x, n, h, 2, hd/2)
	swap := Const(x.Graph(), [][]float32{{0, 1}, {-1, 0}})        // rot[0] = -x[1], rot[1] = x[0]
	rot := dotGeneral(halves, []int{2}, nil, swap, []int{0}, nil) // [n, h, hd/2, 2]
	rot = Reshape(TransposeAllAxes(rot, 0, 1, 3, 2), n, h, hd)    // [n, h, hd]
	cos, sin = InsertAxes(cos, 1), InsertAxes(sin, 1)             // [n, 1, hd]
	return Add(Mul(x, cos), Mul(rot, sin))
}

// tlinear is linear with dotGeneral (the same product, a usable gradient).
func tlinear(x, w *Node) *Node { return tlinearAs(x, w, dtypes.Float32) }

// tlinearAs is tlinear with the product returned in dtype.
func tlinearAs(x, w *Node, dtype dtypes.DType) *Node {
	if x.DType() != w.DType() {
		x = ConvertDType(x, w.DType())
	}
	y := dotGeneral(x, []int{1}, nil, w, []int{1}, nil)
	if y.DType() != dtype {
		y = ConvertDType(y, dtype)
	}
	return y
}

// dotAxes are the axes of a DotGeneral built by dotGeneral.
type dotAxes struct{ lc, lb, rc, rb []int }

// dotRegistry holds the axes of the products built by dotGeneral, for
// their gradient. Weak keys: a graph's nodes are not kept alive by it.
var dotRegistry sync.Map // weak.Pointer[Node] → dotAxes

// dotGeneral is DotGeneral whose gradient is two DotGenerals. GoMLX
// v0.26's gradient of DotGeneral multiplies broadcast operands and reduces
// (for x [n, in]·wᵀ it materializes [n, out, in], and in bf16 it sums in
// bf16), which is neither affordable for a 7B model nor accurate.
func dotGeneral(lhs *Node, lc, lb []int, rhs *Node, rc, rb []int) *Node {
	y := DotGeneral(lhs, lc, lb, rhs, rc, rb)
	if y.Type() == NodeTypeDotGeneral {
		dotRegistry.Store(weak.Make(y), dotAxes{lc, lb, rc, rb})
	}
	return y
}

// crossAxes are the axes of a rank-r operand that are neither contracted
// nor batch, in order.
func crossAxes(rank int, contract, batch []int) []int {
	var out []int
	for a := range rank {
		if !slices.Contains(contract, a) && !slices.Contains(batch, a) {
			out = append(out, a)
		}
	}
	return out
}

// dotOperandGrad is the gradient of one operand ("this") of
// y = DotGeneral(this, tc, tb, other, oc, ob) (or with the operands
// swapped: the output's cross axes of this come first when thisFirst),
// given v = ∂L/∂y: contract v with other over other's cross axes, then put
// the axes back in this operand's order.
func dotOperandGrad(v, this *Node, tc, tb []int, other *Node, oc, ob []int, thisFirst bool) *Node {
	nb := len(tb)
	tCross := crossAxes(this.Rank(), tc, tb)
	oCross := crossAxes(other.Rank(), oc, ob)
	// Axes of v: batch, then the lhs's cross axes, then the rhs's.
	vOther := make([]int, len(oCross))
	start := nb + len(tCross)
	if !thisFirst {
		start = nb
	}
	for i := range vOther {
		vOther[i] = start + i
	}
	vBatch := make([]int, nb)
	for i := range vBatch {
		vBatch[i] = i
	}
	// The product's axes: batch, this's cross axes (v's remaining axes, in
	// order), then other's contracted axes in increasing order.
	g := DotGeneral(v, vOther, vBatch, other, oCross, ob)
	sortedOC := slices.Sorted(slices.Values(oc))
	perm := make([]int, this.Rank())
	for i, a := range tb {
		perm[a] = i
	}
	for j, a := range tCross {
		perm[a] = nb + j
	}
	for k, a := range tc {
		perm[a] = nb + len(tCross) + slices.Index(sortedOC, oc[k])
	}
	identity := true
	for i, p := range perm {
		identity = identity && i == p
	}
	if !identity {
		g = TransposeAllAxes(g, perm...)
	}
	return g
}

func init() {
	// Products built by dotGeneral get a gradient made of products.
	original := VJPRegistration[NodeTypeDotGeneral]
	VJPRegistration[NodeTypeDotGeneral] = func(node *Node, vs []*Node, outputShape shapes.Shape) []*Node {
		ax, ok := dotRegistry.Load(weak.Make(node))
		if !ok || outputShape.Rank() != 0 {
			return original(node, vs, outputShape)
		}
		d := ax.(dotAxes)
		lhs, rhs, v := node.Inputs()[0], node.Inputs()[1], vs[0]
		return []*Node{
			dotOperandGrad(v, lhs, d.lc, d.lb, rhs, d.rc, d.rb, true),
			dotOperandGrad(v, rhs, d.rc, d.rb, lhs, d.lc, d.lb, false),
		}
	}
	// GoMLX v0.26 defines no gradient for Rsqrt, which rmsNorm uses:
	// d x^(-1/2) / dx = -½·x^(-3/2) = -½·y³.
	if _, ok := VJPRegistration[NodeTypeRsqrt]; !ok {
		VJPRegistration[NodeTypeRsqrt] = func(node *Node, v []*Node, _ shapes.Shape) []*Node {
			return []*Node{Mul(v[0], MulScalar(Mul(node, Square(node)), -0.5))}
		}
	}
}
