package model

import (
	"fmt"
	"slices"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/nf4"
	"github.com/schemac-dev/schemac/runtime/safetensors"
)

// WeightSpec is one weight: its Hugging Face name and shape.
type WeightSpec struct {
	Name   string
	Shape  []int
	Norm   bool // an RMSNorm scale (initialized to 1 when random)
	Linear bool // a projection inside a layer: quantized by NF4, adapted by LoRA
}

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
			WeightSpec{Name: p + "self_attn.q_proj.weight", Shape: []int{q, d}, Linear: true},
			WeightSpec{Name: p + "self_attn.k_proj.weight", Shape: []int{kv, d}, Linear: true},
			WeightSpec{Name: p + "self_attn.v_proj.weight", Shape: []int{kv, d}, Linear: true},
			WeightSpec{Name: p + "self_attn.o_proj.weight", Shape: []int{d, q}, Linear: true},
			WeightSpec{Name: p + "post_attention_layernorm.weight", Shape: []int{d}, Norm: true},
			WeightSpec{Name: p + "mlp.gate_proj.weight", Shape: []int{inter, d}, Linear: true},
			WeightSpec{Name: p + "mlp.up_proj.weight", Shape: []int{inter, d}, Linear: true},
			WeightSpec{Name: p + "mlp.down_proj.weight", Shape: []int{d, inter}, Linear: true},
		)
	}
	specs = append(specs, WeightSpec{Name: "model.norm.weight", Shape: []int{d}, Norm: true})
	if !c.TieWordEmbeddings {
		specs = append(specs, WeightSpec{Name: "lm_head.weight", Shape: []int{c.VocabSize, d}})
	}
	return specs
}

// Weights are a model's weights as GoMLX tensors, each with its name:
// the Hugging Face name of a dense weight; NAME+NF4Packed and
// NAME+NF4Absmax for an NF4 matrix; MODULE+LoRAA and MODULE+LoRAB for the
// two LoRA factors of a module (MODULE is the weight name without
// ".weight"). DType is the storage and compute type of the matrices
// (Float32 or BFloat16); norms are always Float32.
type Weights struct {
	Config    *Config
	DType     dtypes.DType
	Names     []string
	Tensors   []*tensors.Tensor
	Quant     Quant   // how the layer projections are stored
	LoRAScale float64 // alpha/r of the adapter whose factors are present
}

// Suffixes of the names of the tensors of an NF4 matrix and of LoRA factors.
const (
	NF4Packed = ".nf4_packed" // [n/2] uint8
	NF4Absmax = ".nf4_absmax" // [n/64] float32
	// After Weights.DoubleQuantize, NF4Absmax is replaced by these three.
	NF4AbsmaxQ     = ".nf4_absmax_q"     // [n/64] int8
	NF4AbsmaxScale = ".nf4_absmax_scale" // [⌈n/64/256⌉] float32
	NF4AbsmaxMean  = ".nf4_absmax_mean"  // [1] float32
	LoRAA          = ".lora_A"           // [r, in]
	LoRAB          = ".lora_B"           // [out, r]
)

// Quant is how the layer projections are stored.
type Quant string

// The storage kinds of the layer projections.
const (
	Dense Quant = ""    // in the weights' DType
	NF4   Quant = "nf4" // 4-bit NormalFloat, dequantized in the graph
)

func (w *Weights) add(name string, t *tensors.Tensor) {
	w.Names = append(w.Names, name)
	w.Tensors = append(w.Tensors, t)
}

// index returns the position of a named tensor, or -1.
func (w *Weights) index(name string) int {
	for i, n := range w.Names {
		if n == name {
			return i
		}
	}
	return -1
}

// Bytes is the storage of all tensors.
func (w *Weights) Bytes() int64 {
	var n int64
	for _, t := range w.Tensors {
		n += int64(t.Shape().Memory())
	}
	return n
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

// LoadOptions say how LoadWeights stores the weights.
type LoadOptions struct {
	DType   dtypes.DType     // Float32 or BFloat16 (default)
	Quant   Quant            // Dense or NF4 for the layer projections
	Backend backends.Backend // when set, tensors move to its device 0 and host copies are freed
}

// LoadWeights reads every weight of cfg from a safetensors set by its
// Hugging Face name, checks its shape and converts it (norms to Float32,
// layer projections to NF4 when asked). Errors name the tensor.
func LoadWeights(cfg *Config, set *safetensors.Set, opts LoadOptions) (*Weights, error) {
	dtype, backend := opts.DType, opts.Backend
	if dtype == dtypes.InvalidDType {
		dtype = dtypes.BFloat16
	}
	if err := checkDType(dtype); err != nil {
		return nil, err
	}
	if opts.Quant != Dense && opts.Quant != NF4 {
		return nil, fmt.Errorf("quantization %q is not supported (nf4, or none)", opts.Quant)
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
	w := &Weights{Config: cfg, DType: dtype, Quant: opts.Quant}
	for _, s := range specs {
		st, err := set.Tensor(s.Name)
		if err != nil {
			w.Finalize()
			return nil, err
		}
		var names []string
		var ts []*tensors.Tensor
		if opts.Quant == NF4 && s.Linear {
			v, err := st.Float32s()
			if err == nil {
				var q *nf4.Quantized
				if q, err = nf4.Quantize(s.Name, v, s.Shape); err == nil {
					p, a := q.Tensors()
					names, ts = []string{s.Name + NF4Packed, s.Name + NF4Absmax}, []*tensors.Tensor{p, a}
				}
			}
			if err != nil {
				w.Finalize()
				return nil, fmt.Errorf("%s: %w", set.Dir, err)
			}
		} else {
			target := dtype
			if s.Norm {
				target = dtypes.Float32
			}
			t, err := toTensor(st, target)
			if err != nil {
				w.Finalize()
				return nil, fmt.Errorf("%s: tensor %s: %w", set.Dir, s.Name, err)
			}
			names, ts = []string{s.Name}, []*tensors.Tensor{t}
		}
		for i, t := range ts {
			if backend != nil {
				if err := t.MaterializeOnDevice(backend, false, 0); err != nil {
					w.Finalize()
					return nil, fmt.Errorf("tensor %s to device: %w", names[i], err)
				}
				t.FinalizeLocal()
			}
			w.add(names[i], t)
		}
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

// RandomWeights draws weights on the device: matrices from N(0, std²)
// stored as dtype, norm scales 1. The same seed gives the same weights on
// the same backend. One small program per distinct shape runs once per
// tensor, threading the random state (a 7B model has seven shapes; one
// program with all 291 outputs compiles far slower).
//
// With quant NF4 the layer projections are random NF4 tensors (uniform
// 4-bit indices, absmax 3·std): the same bytes per weight and the same
// program shape as a quantized checkpoint, for benchmarks.
func RandomWeights(backend backends.Backend, cfg *Config, dtype dtypes.DType, quant Quant, seed int64, std float64) (*Weights, error) {
	if err := checkDType(dtype); err != nil {
		return nil, err
	}
	state, err := RNGStateFromSeed(seed)
	if err != nil {
		return nil, err
	}
	type kind struct {
		shape     string
		norm, nf4 bool
	}
	execs := map[kind]*Exec{}
	defer func() {
		for _, e := range execs {
			e.Finalize()
		}
	}()
	w := &Weights{Config: cfg, DType: dtype, Quant: quant}
	for _, s := range cfg.Specs() {
		k := kind{fmt.Sprint(s.Shape), s.Norm, quant == NF4 && s.Linear}
		exec, ok := execs[k]
		if !ok {
			shape, n := s.Shape, 1
			for _, d := range shape {
				n *= d
			}
			exec, err = NewExec(backend, func(state *Node) []*Node {
				g := state.Graph()
				switch {
				case k.norm:
					return []*Node{state, Ones(g, shapes.Make(dtypes.Float32, shape...))}
				case k.nf4:
					newState, bytes := RandomIntN(state, 256, shapes.Make(dtypes.Int32, n/2))
					return []*Node{newState, ConvertDType(bytes, dtypes.Uint8),
						BroadcastToDims(Scalar(g, dtypes.Float32, 3*std), n/nf4.BlockSize)}
				default:
					newState, v := RandomNormal(state, shapes.Make(dtypes.Float32, shape...))
					return []*Node{newState, ConvertDType(MulScalar(v, std), dtype)}
				}
			})
			if err != nil {
				w.Finalize()
				return nil, err
			}
			execs[k] = exec
		}
		outs, err := exec.Exec(state)
		if err != nil {
			w.Finalize()
			return nil, fmt.Errorf("random %s: %w", s.Name, err)
		}
		state.FinalizeAll()
		state = outs[0]
		if k.nf4 {
			w.add(s.Name+NF4Packed, outs[1])
			w.add(s.Name+NF4Absmax, outs[2])
		} else {
			w.add(s.Name, outs[1])
		}
	}
	state.FinalizeAll()
	return w, nil
}
