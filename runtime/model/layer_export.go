package model

import (
	"fmt"
	"strings"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
)

// This file exports BatchLogits in pieces — the embedding, one decoder
// layer, the head — for training that keeps only each layer's input and
// recomputes the layer when it differentiates it (runtime/train). The
// pieces are those BatchLogits is made of (batchEmbed, batchLayer,
// rmsNorm and tlinear of graph_export.go), so the layers chained compute
// BatchLogits' function exactly.

// LayerPrefix is the name prefix of decoder layer li's weights
// ("model.layers.LI.").
func LayerPrefix(li int) string { return fmt.Sprintf("model.layers.%d.", li) }

// Names of the weights outside the layers.
const (
	EmbedName = "model.embed_tokens.weight"
	NormName  = "model.norm.weight"
	HeadName  = "lm_head.weight"
)

// HeadWeightName is the name of the LM head's matrix: lm_head.weight, or
// the embedding when the configuration ties them.
func (c *Config) HeadWeightName() string {
	if c.TieWordEmbeddings {
		return EmbedName
	}
	return HeadName
}

// BatchEmbed returns the hidden states [B·T, D] (float32, row b·T+t) of
// token ids tokens [B, T] (int32): rows of the embedding embed [V, D].
func BatchEmbed(embed, tokens *Node) *Node { return batchEmbed(embed, tokens) }

// BatchLayer applies one decoder layer to the hidden states x [B·T, D]
// (float32) of batch sequences of T tokens each, every one starting at
// position 0; it returns the layer's output [B·T, D] float32. The layer's
// tensors are given by their names relative to the layer (the names of
// w.Names without LayerPrefix: "input_layernorm.weight",
// "self_attn.q_proj.weight" or its NF4 pair, …) with their nodes in the
// same order: the graph is the same for every layer, so one program serves
// them all. w supplies the configuration, the dtype and the quantization
// (not its tensors). lora (nil: none) holds factors of modules named
// relative to the layer too ("self_attn.q_proj"), and its Input sees those
// names.
func BatchLayer(w *Weights, names []string, nodes []*Node, x *Node, batch int, lora *LoRANodes) *Node {
	if len(nodes) != len(names) {
		panic(fmt.Errorf("model.BatchLayer: %d nodes for %d names", len(nodes), len(names)))
	}
	n := x.Shape().Dimensions[0]
	if batch <= 0 || n%batch != 0 {
		panic(fmt.Errorf("model.BatchLayer: %d rows are not %d sequences", n, batch))
	}
	// Bound as layer 0's weights (the shapes of every layer).
	p := LayerPrefix(0)
	gw := &graphWeights{cfg: w.Config, w: w, nodes: map[string]*Node{}, shapes: map[string][]int{}}
	for i, name := range names {
		if strings.HasPrefix(name, "model.") {
			panic(fmt.Errorf("model.BatchLayer: %s is not a name relative to the layer", name))
		}
		gw.nodes[p+name] = nodes[i]
	}
	for _, s := range w.Config.Specs() {
		gw.shapes[s.Name] = s.Shape
	}
	var l *LoRANodes
	if lora != nil {
		l = &LoRANodes{A: map[string]*Node{}, B: map[string]*Node{}, Scale: lora.Scale, MLPDType: lora.MLPDType}
		for m, a := range lora.A {
			l.A[p+m] = a
		}
		for m, b := range lora.B {
			l.B[p+m] = b
		}
		if in := lora.Input; in != nil {
			l.Input = func(module string, x *Node) *Node { return in(strings.TrimPrefix(module, p), x) }
		}
	}
	c := newBatchTables(w.Config, x.Graph(), batch, n/batch)
	return batchLayer(gw, p, x, c, l)
}

// BatchHead is the final norm (scale norm [D]) and the LM head (head
// [V, D]) of hidden states x [n, D] float32: the logits [n, V] float32.
func BatchHead(w *Weights, norm, head, x *Node) *Node {
	return tlinear(rmsNorm(x, norm, w.Config.RMSNormEps), head)
}
