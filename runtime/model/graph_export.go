package model

import (
	"fmt"
	"math"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
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
	return head(gw, batchDecoder(gw, tokens, lora))
}

// batchDecoder is decoder for a batch [B, T] of sequences: the projections
// run on all B·T rows at once, attention per sequence. It returns the
// final hidden states [B·T, D] before the final norm.
func batchDecoder(w *graphWeights, tokens *Node, lora *LoRANodes) *Node {
	cfg := w.cfg
	g := tokens.Graph()
	b, t := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	n, hd := b*t, cfg.HeadDim
	x := Gather(w.embed(), InsertAxes(Reshape(tokens, n), -1)) // [n, D]
	x = ConvertDType(x, dtypes.Float32)
	positions := Iota(g, shapes.Make(dtypes.Int32, t), 0)
	cos, sin := ropeTables(cfg, positions) // [t, hd]
	cos = Reshape(BroadcastToDims(InsertAxes(cos, 0), b, t, hd), n, hd)
	sin = Reshape(BroadcastToDims(InsertAxes(sin, 0), b, t, hd), n, hd)
	mask := attentionMask(cfg, positions, positions) // [t, t]
	proj := func(x *Node, module string) *Node {
		y := w.proj(x, module)
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
		return Add(y, MulScalar(linear(linear(in, a), lora.B[module]), lora.Scale))
	}
	for li := range cfg.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", li)
		h := rmsNorm(x, w.get(p+"input_layernorm.weight"), cfg.RMSNormEps)
		q := Reshape(proj(h, p+"self_attn.q_proj"), n, cfg.NumHeads, hd)
		k := Reshape(proj(h, p+"self_attn.k_proj"), n, cfg.NumKVHeads, hd)
		v := Reshape(proj(h, p+"self_attn.v_proj"), n, cfg.NumKVHeads, hd)
		q, k = ropeNoSlice(q, cos, sin), ropeNoSlice(k, cos, sin)
		a := batchAttention(cfg, Reshape(q, b, t, cfg.NumHeads, hd), Reshape(k, b, t, cfg.NumKVHeads, hd),
			Reshape(v, b, t, cfg.NumKVHeads, hd), mask)
		x = Add(x, proj(a, p+"self_attn.o_proj"))
		h = rmsNorm(x, w.get(p+"post_attention_layernorm.weight"), cfg.RMSNormEps)
		gate := proj(h, p+"mlp.gate_proj")
		up := proj(h, p+"mlp.up_proj")
		x = Add(x, proj(Mul(Mul(gate, Sigmoid(gate)), up), p+"mlp.down_proj"))
	}
	return x
}

// batchAttention is attention for q [B, T, H, hd] over k, v [B, T, KV, hd]
// (float32) with mask [T, T]; it returns [B·T, H·hd] float32. Query head h
// serves key/value head h / group, as in attention.
func batchAttention(cfg *Config, q, k, v, mask *Node) *Node {
	b, t := q.Shape().Dimensions[0], q.Shape().Dimensions[1]
	kvh, grp, hd := cfg.NumKVHeads, cfg.GroupSize(), cfg.HeadDim
	q = Reshape(q, b, t, kvh, grp, hd)
	q = TransposeAllAxes(q, 0, 2, 3, 1, 4) // [B, KV, G, T, hd]
	q = Reshape(q, b, kvh, grp*t, hd)
	k = TransposeAllAxes(k, 0, 2, 1, 3) // [B, KV, T, hd]
	v = TransposeAllAxes(v, 0, 2, 1, 3)
	scores := DotGeneral(q, []int{3}, []int{0, 1}, k, []int{3}, []int{0, 1}) // [B, KV, G*T, T]
	scores = MulScalar(Reshape(scores, b, kvh, grp, t, t), 1/math.Sqrt(float64(hd)))
	m := BroadcastToDims(Reshape(mask, 1, 1, 1, t, t), b, kvh, grp, t, t)
	scores = Where(m, scores, Scalar(scores.Graph(), dtypes.Float32, -math.MaxFloat32))
	probs := Reshape(Softmax(scores, -1), b, kvh, grp*t, t)
	out := DotGeneral(probs, []int{3}, []int{0, 1}, v, []int{2}, []int{0, 1}) // [B, KV, G*T, hd]
	out = TransposeAllAxes(Reshape(out, b, kvh, grp, t, hd), 0, 3, 1, 2, 4)   // [B, T, KV, G, hd]
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
	rot := DotGeneral(halves, []int{2}, nil, swap, []int{0}, nil) // [n, h, hd/2, 2]
	rot = Reshape(TransposeAllAxes(rot, 0, 1, 3, 2), n, h, hd)    // [n, h, hd]
	cos, sin = InsertAxes(cos, 1), InsertAxes(sin, 1)             // [n, 1, hd]
	return Add(Mul(x, cos), Mul(rot, sin))
}

func init() {
	// GoMLX v0.26 defines no gradient for Rsqrt, which rmsNorm uses:
	// d x^(-1/2) / dx = -½·x^(-3/2) = -½·y³.
	if _, ok := VJPRegistration[NodeTypeRsqrt]; !ok {
		VJPRegistration[NodeTypeRsqrt] = func(node *Node, v []*Node, _ shapes.Shape) []*Node {
			return []*Node{Mul(v[0], MulScalar(Mul(node, Square(node)), -0.5))}
		}
	}
}
