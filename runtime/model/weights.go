package model

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/safetensors"
)

// WeightSpec is one weight: its Hugging Face name and shape.
type WeightSpec struct {
	Name  string
	Shape []int
	Norm  bool // an RMSNorm scale (initialized to 1 when random)
}

// The per-layer weights, in the order Specs lists them.
const (
	wAttnNorm = iota
	wQ
	wK
	wV
	wO
	wMLPNorm
	wGate
	wUp
	wDown
	weightsPerLayer
)

// Specs lists the weights of a configuration in a fixed order: the
// embedding, each layer's nine weights, the final norm and (unless tied)
// the LM head.
func (c *Config) Specs() []WeightSpec {
	d, q, kv, inter := c.HiddenSize, c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim, c.IntermediateSize
	specs := []WeightSpec{{Name: "model.embed_tokens.weight", Shape: []int{c.VocabSize, d}}}
	for i := range c.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", i)
		specs = append(specs,
			WeightSpec{Name: p + "input_layernorm.weight", Shape: []int{d}, Norm: true},
			WeightSpec{Name: p + "self_attn.q_proj.weight", Shape: []int{q, d}},
			WeightSpec{Name: p + "self_attn.k_proj.weight", Shape: []int{kv, d}},
			WeightSpec{Name: p + "self_attn.v_proj.weight", Shape: []int{kv, d}},
			WeightSpec{Name: p + "self_attn.o_proj.weight", Shape: []int{d, q}},
			WeightSpec{Name: p + "post_attention_layernorm.weight", Shape: []int{d}, Norm: true},
			WeightSpec{Name: p + "mlp.gate_proj.weight", Shape: []int{inter, d}},
			WeightSpec{Name: p + "mlp.up_proj.weight", Shape: []int{inter, d}},
			WeightSpec{Name: p + "mlp.down_proj.weight", Shape: []int{d, inter}},
		)
	}
	specs = append(specs, WeightSpec{Name: "model.norm.weight", Shape: []int{d}, Norm: true})
	if !c.TieWordEmbeddings {
		specs = append(specs, WeightSpec{Name: "lm_head.weight", Shape: []int{c.VocabSize, d}})
	}
	return specs
}

// Weights are a model's weights as GoMLX tensors, in the order of
// Config.Specs. DType is the storage type of the matrices (Float32 or
// BFloat16); norms are always Float32.
type Weights struct {
	Config  *Config
	DType   dtypes.DType
	Tensors []*tensors.Tensor
}

// Finalize frees the tensors' memory (host and device).
func (w *Weights) Finalize() {
	for _, t := range w.Tensors {
		if t != nil {
			t.FinalizeAll()
		}
	}
	w.Tensors = nil
}

func checkDType(d dtypes.DType) error {
	if d != dtypes.Float32 && d != dtypes.BFloat16 {
		return fmt.Errorf("weight dtype %s is not supported (Float32 or BFloat16)", d)
	}
	return nil
}

// LoadWeights reads every weight of cfg from a safetensors set by its
// Hugging Face name, checks its shape and converts it to dtype (norms to
// Float32). When backend is not nil the tensors are moved to its device 0
// and their host copies freed. Errors name the tensor.
func LoadWeights(cfg *Config, set *safetensors.Set, dtype dtypes.DType, backend backends.Backend) (*Weights, error) {
	if err := checkDType(dtype); err != nil {
		return nil, err
	}
	specs := cfg.Specs()
	// Check presence and shapes of everything before converting anything.
	for _, s := range specs {
		info, ok := set.Info(s.Name)
		if !ok {
			return nil, fmt.Errorf("%s: tensor %s is missing (a %s checkpoint needs it)", set.Dir, s.Name, cfg.Architecture)
		}
		if !slices.Equal(info.Shape, s.Shape) {
			return nil, fmt.Errorf("%s: tensor %s has shape %v, the config needs %v", set.Dir, s.Name, info.Shape, s.Shape)
		}
		if !info.DType.IsFloat() {
			return nil, fmt.Errorf("%s: tensor %s has dtype %s, a float type (bf16, f16, f32) is needed", set.Dir, s.Name, info.DType)
		}
	}
	w := &Weights{Config: cfg, DType: dtype}
	for _, s := range specs {
		st, err := set.Tensor(s.Name)
		if err != nil {
			w.Finalize()
			return nil, err
		}
		target := dtype
		if s.Norm {
			target = dtypes.Float32
		}
		t, err := toTensor(st, target)
		if err != nil {
			w.Finalize()
			return nil, fmt.Errorf("%s: tensor %s: %w", set.Dir, s.Name, err)
		}
		if backend != nil {
			if err := t.MaterializeOnDevice(backend, false, 0); err != nil {
				w.Finalize()
				return nil, fmt.Errorf("tensor %s to device: %w", s.Name, err)
			}
			t.FinalizeLocal()
		}
		w.Tensors = append(w.Tensors, t)
	}
	return w, nil
}

// toTensor converts safetensors data to a host tensor of the given dtype.
func toTensor(st safetensors.Tensor, target dtypes.DType) (*tensors.Tensor, error) {
	t := tensors.FromShape(shapes.Make(target, st.Shape...))
	var err error
	if target == dtypes.BFloat16 && st.DType == safetensors.BF16 {
		err = t.MutableBytes(func(b []byte) { copy(b, st.Data) })
		return t, err
	}
	v, cerr := st.Float32s()
	if cerr != nil {
		return nil, cerr
	}
	switch target {
	case dtypes.Float32:
		err = t.MutableBytes(func(b []byte) {
			out, _ := safetensors.FromFloat32(safetensors.F32, v)
			copy(b, out)
		})
	case dtypes.BFloat16:
		err = t.MutableBytes(func(b []byte) {
			out, _ := safetensors.FromFloat32(safetensors.BF16, v)
			copy(b, out)
		})
	}
	return t, err
}

// RandomWeights draws weights on the device in one program: matrices
// from N(0, std²) stored as dtype, norm scales 1. The same seed gives the
// same weights on the same backend.
func RandomWeights(backend backends.Backend, cfg *Config, dtype dtypes.DType, seed int64, std float64) (*Weights, error) {
	if err := checkDType(dtype); err != nil {
		return nil, err
	}
	specs := cfg.Specs()
	exec, err := NewExec(backend, func(g *Graph) []*Node {
		state := RNGStateFromSeedForGraph(g, seed)
		out := make([]*Node, len(specs))
		for i, s := range specs {
			if s.Norm {
				out[i] = Ones(g, shapes.Make(dtypes.Float32, s.Shape...))
				continue
			}
			var v *Node
			state, v = RandomNormal(state, shapes.Make(dtypes.Float32, s.Shape...))
			out[i] = ConvertDType(MulScalar(v, std), dtype)
		}
		return out
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	ts, err := exec.Exec()
	if err != nil {
		return nil, fmt.Errorf("random weights: %w", err)
	}
	return &Weights{Config: cfg, DType: dtype, Tensors: ts}, nil
}
