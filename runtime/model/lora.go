package model

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/safetensors"
)

// Adapter is a PEFT LoRA adapter (adapter_config.json +
// adapter_model.safetensors): for each adapted module (a weight name
// without ".weight", e.g. model.layers.0.self_attn.q_proj) the factors
// A [r, in] and B [out, r]; the update of W is Scale·B·A.
type Adapter struct {
	Dir     string
	R       int
	Alpha   float64
	Scale   float64 // Alpha/R, or Alpha/√R with use_rslora
	Targets []string
	A, B    map[string]safetensors.Tensor // by module
	files   *safetensors.Set
}

type peftConfig struct {
	PeftType          string          `json:"peft_type"`
	R                 int             `json:"r"`
	LoraAlpha         *float64        `json:"lora_alpha"`
	TargetModules     json.RawMessage `json:"target_modules"`
	UseRSLoRA         bool            `json:"use_rslora"`
	UseDoRA           bool            `json:"use_dora"`
	Bias              string          `json:"bias"`
	FanInFanOut       bool            `json:"fan_in_fan_out"`
	ModulesToSave     json.RawMessage `json:"modules_to_save"`
	RankPattern       map[string]any  `json:"rank_pattern"`
	AlphaPattern      map[string]any  `json:"alpha_pattern"`
	LayersToTransform json.RawMessage `json:"layers_to_transform"`
}

// The file names of a PEFT adapter directory.
const (
	AdapterConfigFile  = "adapter_config.json"
	AdapterWeightsFile = "adapter_model.safetensors"
)

// ReadAdapter reads a PEFT LoRA adapter and checks it against cfg: every
// tensor must be the A or B factor of a layer projection of this model,
// with this model's sizes. Errors name the file and the tensor. Close
// releases the mapped weights.
func ReadAdapter(dir string, cfg *Config) (*Adapter, error) {
	cpath := filepath.Join(dir, AdapterConfigFile)
	text, err := os.ReadFile(cpath)
	if err != nil {
		return nil, fmt.Errorf("adapter: %w", err)
	}
	var pc peftConfig
	if err := json.Unmarshal(text, &pc); err != nil {
		return nil, fmt.Errorf("%s: %w", cpath, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", cpath, fmt.Sprintf(format, args...))
	}
	switch {
	case pc.PeftType != "LORA":
		return nil, bad("peft_type %q is not supported (LORA)", pc.PeftType)
	case pc.R <= 0:
		return nil, bad("r = %d: must be positive", pc.R)
	case pc.LoraAlpha == nil:
		return nil, bad("lora_alpha missing")
	case pc.UseDoRA:
		return nil, bad("use_dora is not supported")
	case pc.Bias != "" && pc.Bias != "none":
		return nil, bad("bias %q is not supported (none)", pc.Bias)
	case pc.FanInFanOut:
		return nil, bad("fan_in_fan_out is not supported")
	case isSet(pc.ModulesToSave):
		return nil, bad("modules_to_save is not supported")
	case len(pc.RankPattern) > 0 || len(pc.AlphaPattern) > 0:
		return nil, bad("rank_pattern/alpha_pattern are not supported")
	case isSet(pc.LayersToTransform):
		return nil, bad("layers_to_transform is not supported")
	}
	a := &Adapter{Dir: dir, R: pc.R, Alpha: *pc.LoraAlpha, A: map[string]safetensors.Tensor{}, B: map[string]safetensors.Tensor{}}
	a.Scale = a.Alpha / float64(a.R)
	if pc.UseRSLoRA {
		a.Scale = a.Alpha / math.Sqrt(float64(a.R))
	}
	var targetRE *regexp.Regexp
	if err := json.Unmarshal(pc.TargetModules, &a.Targets); err != nil {
		var pattern string
		if json.Unmarshal(pc.TargetModules, &pattern) != nil {
			return nil, bad("target_modules must be a list of names or a pattern")
		}
		if targetRE, err = regexp.Compile("^(?:" + pattern + ")$"); err != nil {
			return nil, bad("target_modules pattern: %v", err)
		}
	}
	slices.Sort(a.Targets)

	wpath := filepath.Join(dir, AdapterWeightsFile)
	set, err := safetensors.OpenFiles(dir, wpath)
	if err != nil {
		return nil, err
	}
	a.files = set
	shapes := map[string][]int{}
	for _, s := range cfg.Specs() {
		if s.Linear {
			shapes[strings.TrimSuffix(s.Name, ".weight")] = s.Shape
		}
	}
	for _, name := range set.Names() {
		module, factor, ok := parsePEFTName(name)
		shape, known := shapes[module]
		if !ok || !known {
			a.Close()
			return nil, fmt.Errorf("%s: tensor %s: not a LoRA factor of a layer projection of this %d-layer %s", AdapterWeightsFile, name, cfg.NumLayers, cfg.Architecture)
		}
		leaf := module[strings.LastIndex(module, ".")+1:]
		if targetRE != nil && !targetRE.MatchString(module) && !targetRE.MatchString(leaf) {
			a.Close()
			return nil, fmt.Errorf("%s: tensor %s: module not matched by target_modules", AdapterWeightsFile, name)
		}
		if targetRE == nil && !slices.Contains(a.Targets, leaf) && !slices.Contains(a.Targets, module) {
			a.Close()
			return nil, fmt.Errorf("%s: tensor %s: %s is not in target_modules %v", AdapterWeightsFile, name, leaf, a.Targets)
		}
		t, err := set.Tensor(name)
		if err != nil {
			a.Close()
			return nil, err
		}
		want := []int{a.R, shape[1]} // A [r, in]
		if factor == "B" {
			want = []int{shape[0], a.R} // B [out, r]
		}
		if !slices.Equal(t.Shape, want) {
			a.Close()
			return nil, fmt.Errorf("%s: tensor %s has shape %v, this base model with r=%d needs %v (an adapter for another base?)", AdapterWeightsFile, name, t.Shape, a.R, want)
		}
		if !t.DType.IsFloat() {
			a.Close()
			return nil, fmt.Errorf("%s: tensor %s has dtype %s", AdapterWeightsFile, name, t.DType)
		}
		if factor == "A" {
			a.A[module] = t
		} else {
			a.B[module] = t
		}
	}
	if len(a.A) == 0 {
		a.Close()
		return nil, fmt.Errorf("%s: no LoRA factors", wpath)
	}
	for m := range a.A {
		if _, ok := a.B[m]; !ok {
			a.Close()
			return nil, fmt.Errorf("%s: module %s has lora_A but no lora_B", AdapterWeightsFile, m)
		}
	}
	for m := range a.B {
		if _, ok := a.A[m]; !ok {
			a.Close()
			return nil, fmt.Errorf("%s: module %s has lora_B but no lora_A", AdapterWeightsFile, m)
		}
	}
	return a, nil
}

// parsePEFTName splits "base_model.model.MODULE.lora_A[.ADAPTER].weight".
func parsePEFTName(name string) (module, factor string, ok bool) {
	rest, found := strings.CutPrefix(name, "base_model.model.")
	if !found {
		return "", "", false
	}
	rest, found = strings.CutSuffix(rest, ".weight")
	if !found {
		return "", "", false
	}
	for _, f := range []string{"A", "B"} {
		if i := strings.LastIndex(rest, ".lora_"+f); i >= 0 {
			tail := rest[i+len(".lora_"+f):]
			if tail == "" || (strings.HasPrefix(tail, ".") && !strings.Contains(tail[1:], ".")) {
				return rest[:i], f, true
			}
		}
	}
	return "", "", false
}

// Close releases the adapter's mapped file.
func (a *Adapter) Close() error {
	if a.files == nil {
		return nil
	}
	err := a.files.Close()
	a.files = nil
	return err
}

// Modules lists the adapted modules, sorted.
func (a *Adapter) Modules() []string {
	var ms []string
	for m := range a.A {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	return ms
}

// AddLoRA applies an adapter to the weights: unmerged, the factors join
// the weights (in the weights' dtype) and each adapted projection adds
// Scale·(x·Aᵀ)·Bᵀ beside the base (dense or NF4); merged, W+Scale·B·A
// replaces W on the device (dense weights only). Build the Model after.
func (w *Weights) AddLoRA(backend backends.Backend, a *Adapter, merge bool) error {
	if w.LoRAScale != 0 {
		return fmt.Errorf("weights already carry an adapter")
	}
	if w.Stacked() {
		return fmt.Errorf("adding a LoRA adapter to stacked weights: add it before Weights.Stack")
	}
	if merge && w.Quant != Dense {
		return fmt.Errorf("merging a LoRA adapter into %s weights is not supported: load bf16 weights or apply it unmerged", w.Quant)
	}
	toDevice := func(t safetensors.Tensor, dtype dtypes.DType) (*tensors.Tensor, error) {
		tt, err := toTensor(t, dtype)
		if err != nil {
			return nil, fmt.Errorf("adapter tensor %s: %w", t.Name, err)
		}
		if err := tt.MaterializeOnDevice(backend, false, 0); err != nil {
			return nil, err
		}
		tt.FinalizeLocal()
		return tt, nil
	}
	if !merge {
		for _, m := range a.Modules() {
			ta, err := toDevice(a.A[m], w.DType)
			if err != nil {
				return err
			}
			tb, err := toDevice(a.B[m], w.DType)
			if err != nil {
				return err
			}
			w.add(m+LoRAA, ta)
			w.add(m+LoRAB, tb)
		}
		w.LoRAScale = a.Scale
		return nil
	}
	merger, err := NewExec(backend, func(base, fa, fb *Node) *Node {
		delta := DotGeneral(fb, []int{1}, nil, fa, []int{0}, nil) // B·A [out, in], float32
		return ConvertDType(Add(ConvertDType(base, dtypes.Float32), MulScalar(delta, a.Scale)), base.DType())
	})
	if err != nil {
		return err
	}
	defer merger.Finalize()
	for _, m := range a.Modules() {
		i := w.index(m + ".weight")
		if i < 0 {
			return fmt.Errorf("merging LoRA: weight %s.weight not found", m)
		}
		ta, err := toDevice(a.A[m], dtypes.Float32)
		if err != nil {
			return err
		}
		tb, err := toDevice(a.B[m], dtypes.Float32)
		if err != nil {
			return err
		}
		merged, err := merger.Exec1(w.Tensors[i], ta, tb)
		ta.FinalizeAll()
		tb.FinalizeAll()
		if err != nil {
			return fmt.Errorf("merging LoRA into %s: %w", m, err)
		}
		w.Tensors[i].FinalizeAll()
		w.Tensors[i] = merged
	}
	return nil
}

// RandomAdapter is an adapter of rank r with random factors (A and B from
// N(0, 0.01²), alpha 16) on the seven layer projections of cfg, held in
// memory: the same tensors, shapes and program as a trained adapter, for
// benchmarks (cmd/extract -adapter random:R). The same seed gives the same
// factors.
func RandomAdapter(cfg *Config, r int, seed uint64) (*Adapter, error) {
	if r <= 0 {
		return nil, fmt.Errorf("random adapter: rank %d must be positive", r)
	}
	a := &Adapter{Dir: fmt.Sprintf("random:%d", r), R: r, Alpha: 16, A: map[string]safetensors.Tensor{}, B: map[string]safetensors.Tensor{}}
	a.Scale = a.Alpha / float64(r)
	rng := rand.New(rand.NewPCG(seed, 0xada))
	factor := func(name string, shape ...int) (safetensors.Tensor, error) {
		v := make([]float32, shape[0]*shape[1])
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.01)
		}
		data, err := safetensors.FromFloat32(safetensors.F32, v)
		return safetensors.Tensor{TensorInfo: safetensors.TensorInfo{Name: name, DType: safetensors.F32, Shape: shape}, Data: data}, err
	}
	for _, s := range cfg.Specs() {
		if !s.Linear {
			continue
		}
		m := strings.TrimSuffix(s.Name, ".weight")
		leaf := m[strings.LastIndex(m, ".")+1:]
		if !slices.Contains(a.Targets, leaf) {
			a.Targets = append(a.Targets, leaf)
		}
		fa, err := factor(m+".lora_A", r, s.Shape[1])
		if err != nil {
			return nil, err
		}
		fb, err := factor(m+".lora_B", s.Shape[0], r)
		if err != nil {
			return nil, err
		}
		a.A[m], a.B[m] = fa, fb
	}
	slices.Sort(a.Targets)
	return a, nil
}
