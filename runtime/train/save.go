package train

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/safetensors"
)

// PEFTConfig is the adapter_config.json Hugging Face peft writes for a
// LoRA adapter of a causal LM: the fields every peft release since 0.9
// knows (newer ones warn about or reject keys they do not know), with
// their defaults.
type PEFTConfig struct {
	PeftType            string         `json:"peft_type"`
	TaskType            string         `json:"task_type"`
	BaseModelNameOrPath string         `json:"base_model_name_or_path"`
	R                   int            `json:"r"`
	LoraAlpha           float64        `json:"lora_alpha"`
	LoraDropout         float64        `json:"lora_dropout"`
	TargetModules       []string       `json:"target_modules"`
	Bias                string         `json:"bias"`
	FanInFanOut         bool           `json:"fan_in_fan_out"`
	InferenceMode       bool           `json:"inference_mode"`
	InitLoraWeights     bool           `json:"init_lora_weights"`
	UseRSLoRA           bool           `json:"use_rslora"`
	UseDoRA             bool           `json:"use_dora"`
	ModulesToSave       []string       `json:"modules_to_save"`
	LayersToTransform   []int          `json:"layers_to_transform"`
	LayersPattern       []string       `json:"layers_pattern"`
	RankPattern         map[string]any `json:"rank_pattern"`
	AlphaPattern        map[string]any `json:"alpha_pattern"`
	Revision            *string        `json:"revision"`
	AutoMapping         any            `json:"auto_mapping"`
	MegatronConfig      any            `json:"megatron_config"`
	MegatronCore        string         `json:"megatron_core"`
	LoftqConfig         map[string]any `json:"loftq_config"`
}

// PEFTName is the tensor name peft gives a LoRA factor of module:
// base_model.model.MODULE.lora_A.weight (factor "A" or "B").
func PEFTName(module, factor string) string {
	return "base_model.model." + module + ".lora_" + factor + ".weight"
}

// hostFloats copies a (device) tensor to the host.
func hostFloats(t *tensors.Tensor) ([]float32, error) { return tensors.CopyFlatData[float32](t) }

// SaveAdapter writes the LoRA factors as a PEFT adapter in dir
// (adapter_config.json and adapter_model.safetensors, float32, peft's
// tensor names), each file atomically. base names the base model in the
// config (base_model_name_or_path).
func (t *Trainer) SaveAdapter(dir, base string) error {
	if t.Opts.Full {
		return fmt.Errorf("full-parameter training has no adapter: use SaveModel")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	w := safetensors.NewWriter()
	w.Metadata = map[string]string{"format": "pt"}
	for i, n := range t.Names {
		v, err := hostFloats(t.Params[i])
		if err != nil {
			return fmt.Errorf("reading %s: %w", n, err)
		}
		module, factor := strings.TrimSuffix(n, model.LoRAA), "A"
		if strings.HasSuffix(n, model.LoRAB) {
			module, factor = strings.TrimSuffix(n, model.LoRAB), "B"
		}
		if err := w.AddFloat32(PEFTName(module, factor), safetensors.F32, t.Shapes[i], v); err != nil {
			return err
		}
	}
	targets := slices.Clone(t.Opts.Targets)
	slices.Sort(targets)
	pc := PEFTConfig{
		PeftType: "LORA", TaskType: "CAUSAL_LM", BaseModelNameOrPath: base, R: t.Opts.R, LoraAlpha: t.Opts.Alpha,
		LoraDropout: t.Opts.Dropout, TargetModules: targets, Bias: "none", InferenceMode: true, InitLoraWeights: true,
		RankPattern: map[string]any{}, AlphaPattern: map[string]any{}, MegatronCore: "megatron.core", LoftqConfig: map[string]any{},
	}
	text, err := json.MarshalIndent(pc, "", "  ")
	if err != nil {
		return err
	}
	if err := writeSafetensors(w, filepath.Join(dir, model.AdapterWeightsFile)); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, model.AdapterConfigFile), append(text, '\n'))
}

// writeFileAtomic writes data to a temporary file in path's directory and
// renames it over path.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeSafetensors writes a safetensors file atomically, readable by all
// (the writer's temporary file is private).
func writeSafetensors(w *safetensors.Writer, path string) error {
	if err := w.WriteFile(path); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}

// HFConfigJSON is a config.json for cfg that ParseConfig reads back and
// transformers loads.
func HFConfigJSON(cfg *model.Config, dtype string) ([]byte, error) {
	mt := "mistral"
	if cfg.Architecture == "LlamaForCausalLM" {
		mt = "llama"
	}
	m := map[string]any{
		"architectures": []string{cfg.Architecture}, "model_type": mt, "hidden_size": cfg.HiddenSize,
		"num_hidden_layers": cfg.NumLayers, "num_attention_heads": cfg.NumHeads, "num_key_value_heads": cfg.NumKVHeads,
		"head_dim": cfg.HeadDim, "intermediate_size": cfg.IntermediateSize, "vocab_size": cfg.VocabSize,
		"max_position_embeddings": cfg.MaxPositionEmbeddings, "rms_norm_eps": cfg.RMSNormEps, "rope_theta": cfg.RopeTheta,
		"tie_word_embeddings": cfg.TieWordEmbeddings, "hidden_act": "silu", "bos_token_id": cfg.BOSTokenID,
		"eos_token_id": cfg.EOSTokenID, "torch_dtype": dtype,
	}
	if cfg.SlidingWindow > 0 {
		m["sliding_window"] = cfg.SlidingWindow
	} else {
		m["sliding_window"] = nil
	}
	text, err := json.MarshalIndent(m, "", "  ")
	return append(text, '\n'), err
}

// SaveModel writes the trained weights of full-parameter training as a
// Hugging Face checkpoint in dir: config.json and model.safetensors
// (float32, or bf16 when asked), atomically.
func (t *Trainer) SaveModel(dir string, bf16 bool) error {
	if !t.Opts.Full {
		return fmt.Errorf("LoRA training saves an adapter: use SaveAdapter")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dt, name := safetensors.F32, "float32"
	if bf16 {
		dt, name = safetensors.BF16, "bfloat16"
	}
	w := safetensors.NewWriter()
	w.Metadata = map[string]string{"format": "pt"}
	for i, n := range t.Names {
		v, err := hostFloats(t.Params[i])
		if err != nil {
			return fmt.Errorf("reading %s: %w", n, err)
		}
		if err := w.AddFloat32(n, dt, t.Shapes[i], v); err != nil {
			return err
		}
	}
	text, err := HFConfigJSON(t.Base.Config, name)
	if err != nil {
		return err
	}
	if err := writeSafetensors(w, filepath.Join(dir, "model.safetensors")); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "config.json"), text)
}

// CheckpointFile is the name of the training checkpoint in the output
// directory.
const CheckpointFile = "checkpoint.safetensors"

const checkpointFormat = "schemac-train-checkpoint/1"

// checkpointMeta is the JSON in the checkpoint's metadata.
type checkpointMeta struct {
	Format   string   `json:"format"`
	Step     int      `json:"step"`
	Options  Options  `json:"options"`
	Names    []string `json:"names"`
	Schedule string   `json:"schedule"`
	MaskLoss string   `json:"mask_loss,omitempty"` // Options.maskDesc: the table that masked the loss
}

// SaveCheckpoint writes everything a resumed run needs — parameters,
// AdamW moments, the dropout random state, the step count and the
// options — to one safetensors file, atomically (a temporary file renamed
// over path), so an interrupted write leaves the previous checkpoint.
func (t *Trainer) SaveCheckpoint(path string) error {
	w := safetensors.NewWriter()
	for i, n := range t.Names {
		for _, kind := range []struct {
			prefix string
			ts     []*tensors.Tensor
		}{{"param/", t.Params}, {"adam_m/", t.M}, {"adam_v/", t.V}} {
			v, err := hostFloats(kind.ts[i])
			if err != nil {
				return fmt.Errorf("reading %s%s: %w", kind.prefix, n, err)
			}
			if err := w.AddFloat32(kind.prefix+n, safetensors.F32, t.Shapes[i], v); err != nil {
				return err
			}
		}
	}
	rng, err := tensors.CopyFlatData[uint64](t.RNG)
	if err != nil {
		return err
	}
	raw := make([]byte, 8*len(rng))
	for i, x := range rng {
		binary.LittleEndian.PutUint64(raw[8*i:], x)
	}
	if err := w.Add("rng", safetensors.U64, []int{len(rng)}, raw); err != nil {
		return err
	}
	meta, err := json.Marshal(checkpointMeta{Format: checkpointFormat, Step: t.Step, Options: t.Opts, Names: t.Names, Schedule: t.Schedule, MaskLoss: t.Opts.maskDesc()})
	if err != nil {
		return err
	}
	w.Metadata = map[string]string{"schemac": string(meta), "step": strconv.Itoa(t.Step)}
	return w.WriteFile(path)
}

// LoadCheckpoint restores a checkpoint written by SaveCheckpoint into a
// trainer made with the same options over the same base. Errors name the
// file.
func (t *Trainer) LoadCheckpoint(path string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint %s: %s", path, fmt.Sprintf(format, args...))
	}
	var meta checkpointMeta
	if err := json.Unmarshal([]byte(f.Metadata()["schemac"]), &meta); err != nil || meta.Format != checkpointFormat {
		return bad("not a schemac training checkpoint")
	}
	o, m := t.Opts, meta.Options
	if o.Full != m.Full || o.R != m.R || o.Alpha != m.Alpha || o.Seed != m.Seed || !slices.Equal(o.Targets, m.Targets) || !slices.Equal(t.Names, meta.Names) {
		return bad("written by a run with other settings (full %v, r %d, alpha %g, seed %d, targets %v; this run: full %v, r %d, alpha %g, seed %d, targets %v)",
			m.Full, m.R, m.Alpha, m.Seed, m.Targets, o.Full, o.R, o.Alpha, o.Seed, o.Targets)
	}
	if d := o.maskDesc(); d != meta.MaskLoss {
		return bad("written by a run with %s; this run: %s", maskLabel(meta.MaskLoss), maskLabel(d))
	}
	load := func(name string, shape []int) (*tensors.Tensor, error) {
		st, err := f.Tensor(name)
		if err != nil {
			return nil, bad("%v", err)
		}
		if !slices.Equal(st.Shape, shape) || st.DType != safetensors.F32 {
			return nil, bad("tensor %s is %s%v, want F32%v", name, st.DType, st.Shape, shape)
		}
		v, err := st.Float32s()
		if err != nil {
			return nil, bad("%v", err)
		}
		return tensors.FromFlatDataAndDimensions(v, shape...), nil
	}
	n := len(t.Names)
	params, ms, vs := make([]*tensors.Tensor, n), make([]*tensors.Tensor, n), make([]*tensors.Tensor, n)
	for i, name := range t.Names {
		if params[i], err = load("param/"+name, t.Shapes[i]); err != nil {
			return err
		}
		if ms[i], err = load("adam_m/"+name, t.Shapes[i]); err != nil {
			return err
		}
		if vs[i], err = load("adam_v/"+name, t.Shapes[i]); err != nil {
			return err
		}
	}
	st, err := f.Tensor("rng")
	if err != nil || st.DType != safetensors.U64 || !slices.Equal(st.Shape, RNGStateShape.Dimensions) {
		return bad("rng state missing or malformed")
	}
	rng := tensors.FromShape(RNGStateShape)
	if RNGStateShape.DType != dtypes.Uint64 {
		return bad("this GoMLX's random state is %s, not Uint64", RNGStateShape.DType)
	}
	if err := rng.MutableBytes(func(b []byte) { copy(b, st.Data) }); err != nil {
		return err
	}
	for _, ts := range [][]*tensors.Tensor{t.Params, t.M, t.V} {
		for _, x := range ts {
			x.FinalizeAll()
		}
	}
	t.RNG.FinalizeAll()
	t.Params, t.M, t.V, t.RNG, t.Step, t.Schedule = params, ms, vs, rng, meta.Step, meta.Schedule
	return nil
}

// SaveWeights writes dense weights (e.g. a base with an adapter merged by
// Weights.AddLoRA) as a Hugging Face checkpoint in dir: config.json and
// model.safetensors in bf16, atomically.
func SaveWeights(w *model.Weights, dir string) error {
	if w.Quant != model.Dense || w.LoRAScale != 0 {
		return fmt.Errorf("saving weights: dense weights without unmerged factors needed")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	shapeOf := map[string][]int{}
	for _, s := range w.Config.Specs() {
		shapeOf[s.Name] = s.Shape
	}
	out := safetensors.NewWriter()
	out.Metadata = map[string]string{"format": "pt"}
	for i, n := range w.Names {
		t := w.Tensors[i]
		var err error
		switch t.DType() {
		case dtypes.BFloat16:
			var data []byte
			err = t.ConstBytes(func(b []byte) { data = append([]byte(nil), b...) })
			if err == nil {
				err = out.Add(n, safetensors.BF16, shapeOf[n], data)
			}
		case dtypes.Float32:
			var v []float32
			if v, err = hostFloats(t); err == nil {
				err = out.AddFloat32(n, safetensors.BF16, shapeOf[n], v)
			}
		default:
			err = fmt.Errorf("dtype %s", t.DType())
		}
		if err != nil {
			return fmt.Errorf("saving %s: %w", n, err)
		}
	}
	text, err := HFConfigJSON(w.Config, "bfloat16")
	if err != nil {
		return err
	}
	if err := writeSafetensors(out, filepath.Join(dir, "model.safetensors")); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "config.json"), text)
}

func maskLabel(desc string) string {
	if desc == "" {
		return "the full softmax (no masked loss)"
	}
	return "the loss masked by " + desc
}
