package model

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestLayerPiecesMatchBatchLogits: BatchEmbed, BatchLayer for every layer
// (one program, fed each layer's tensors by their relative names) and
// BatchHead give BatchLogits' logits bit for bit, with LoRA factors on two
// modules, over an NF4 base and a dense one.
func TestLayerPiecesMatchBatchLogits(t *testing.T) {
	cfg := &Config{
		Architecture: "MistralForCausalLM", HiddenSize: 16, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 4, IntermediateSize: 24, VocabSize: 48, MaxPositionEmbeddings: 64,
		RMSNormEps: 1e-5, RopeTheta: 10000, SlidingWindow: 4, BOSTokenID: 1, EOSTokenID: 2,
	}
	for _, quant := range []Quant{Dense, NF4} {
		t.Run(map[Quant]string{Dense: "dense", NF4: "nf4"}[quant], func(t *testing.T) {
			w, err := RandomWeights(testBackend(), cfg, dtypes.Float32, quant, 3, 0.3)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Finalize()
			r := rand.New(rand.NewPCG(1, 1))
			random := func(dims ...int) *tensors.Tensor {
				v := make([]float32, dims[0]*dims[1])
				for i := range v {
					v[i] = float32(r.NormFloat64() * 0.1)
				}
				return tensors.FromFlatDataAndDimensions(v, dims...)
			}
			modules := []string{"self_attn.q_proj", "mlp.down_proj"}
			ins := map[string]int{"self_attn.q_proj": cfg.HiddenSize, "mlp.down_proj": cfg.IntermediateSize}
			outs := map[string]int{"self_attn.q_proj": cfg.NumHeads * cfg.HeadDim, "mlp.down_proj": cfg.HiddenSize}
			var loraA, loraB [][]*tensors.Tensor // [layer][module]
			for range cfg.NumLayers {
				var as, bs []*tensors.Tensor
				for _, m := range modules {
					as, bs = append(as, random(3, ins[m])), append(bs, random(outs[m], 3))
				}
				loraA, loraB = append(loraA, as), append(loraB, bs)
			}
			const scale = 1.5
			tokens := tensors.FromFlatDataAndDimensions([]int32{1, 5, 9, 2, 7, 40, 3, 3, 1, 11, 12, 13, 47, 0, 0, 0}, 2, 8)

			// The whole model in one graph.
			nw := len(w.Names)
			nl := len(modules) * cfg.NumLayers
			whole, err := NewExec(testBackend(), func(inputs []*Node) *Node {
				lora := &LoRANodes{A: map[string]*Node{}, B: map[string]*Node{}, Scale: scale}
				for li := range cfg.NumLayers {
					for k, m := range modules {
						lora.A[LayerPrefix(li)+m] = inputs[nw+li*len(modules)+k]
						lora.B[LayerPrefix(li)+m] = inputs[nw+nl+li*len(modules)+k]
					}
				}
				return BatchLogits(w, inputs[:nw], inputs[nw+2*nl], lora)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer whole.Finalize()
			var args []any
			for _, x := range w.Tensors {
				args = append(args, x)
			}
			for _, f := range [][][]*tensors.Tensor{loraA, loraB} {
				for _, l := range f {
					for _, x := range l {
						args = append(args, x)
					}
				}
			}
			want, err := whole.Exec1(append(args, tokens)...)
			if err != nil {
				t.Fatal(err)
			}

			// In pieces.
			index := map[string]int{}
			for i, n := range w.Names {
				index[n] = i
			}
			embed, err := NewExec(testBackend(), BatchEmbed)
			if err != nil {
				t.Fatal(err)
			}
			defer embed.Finalize()
			x, err := embed.Exec1(w.Tensors[index[EmbedName]], tokens)
			if err != nil {
				t.Fatal(err)
			}
			var local []string
			for _, n := range w.Names {
				if rel, ok := strings.CutPrefix(n, LayerPrefix(0)); ok {
					local = append(local, rel)
				}
			}
			layer, err := NewExec(testBackend(), func(inputs []*Node) *Node {
				k := len(local)
				lora := &LoRANodes{A: map[string]*Node{}, B: map[string]*Node{}, Scale: scale}
				for j, m := range modules {
					lora.A[m], lora.B[m] = inputs[k+j], inputs[k+len(modules)+j]
				}
				return BatchLayer(w, local, inputs[:k], inputs[k+2*len(modules)], 2, lora)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer layer.Finalize()
			for li := range cfg.NumLayers {
				var args []any
				for _, rel := range local {
					args = append(args, w.Tensors[index[LayerPrefix(li)+rel]])
				}
				for _, a := range loraA[li] {
					args = append(args, a)
				}
				for _, b := range loraB[li] {
					args = append(args, b)
				}
				if x, err = layer.Exec1(append(args, x)...); err != nil {
					t.Fatal(err)
				}
			}
			head, err := NewExec(testBackend(), func(norm, head, x *Node) *Node { return BatchHead(w, norm, head, x) })
			if err != nil {
				t.Fatal(err)
			}
			defer head.Finalize()
			got, err := head.Exec1(w.Tensors[index[NormName]], w.Tensors[index[cfg.HeadWeightName()]], x)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := tensors.CopyFlatData[float32](want)
			b, _ := tensors.CopyFlatData[float32](got)
			if d, i := maxAbsDiff(a, b); d != 0 {
				t.Errorf("logits differ by %g at %d", d, i)
			}
		})
	}
}
