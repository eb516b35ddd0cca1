package model

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/runtime/safetensors"
)

// mistral7bV02 is the config.json of Mistral-7B-Instruct-v0.2.
const mistral7bV02 = `{
  "architectures": ["MistralForCausalLM"],
  "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
  "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
  "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
  "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05,
  "rope_theta": 1000000.0, "sliding_window": null, "tie_word_embeddings": false,
  "torch_dtype": "bfloat16", "transformers_version": "4.36.0", "use_cache": true, "vocab_size": 32000
}`

func TestParseConfig(t *testing.T) {
	want7b, _ := NamedConfig("random:mistral-7b")
	got, err := ParseConfig([]byte(mistral7bV02))
	if err != nil {
		t.Fatal(err)
	}
	if *got != *want7b {
		t.Errorf("Mistral-7B v0.2 config:\n got %+v\nwant %+v", *got, *want7b)
	}
	if n := got.NumParams(); n != 7241732096 {
		t.Errorf("7B parameters: %d", n)
	}
	tiny, err := ReadConfig(filepath.Join(fixtureDir, "tiny-mistral"))
	if err == nil {
		named, _ := NamedConfig("random:tiny")
		if *tiny != *named {
			t.Errorf("random:tiny differs from the fixture:\n got %+v\nwant %+v", *named, *tiny)
		}
	}
	replace := func(old, new string) string {
		if !strings.Contains(mistral7bV02, old) {
			t.Fatalf("%q not in the config", old)
		}
		return strings.Replace(mistral7bV02, old, new, 1)
	}
	for _, tc := range []struct {
		name, text, want string
	}{
		{"rope_scaling", replace(`"rope_theta": 1000000.0`, `"rope_theta": 1e6, "rope_scaling": {"type": "linear", "factor": 2.0}`), "rope_scaling"},
		{"rope_parameters yarn", replace(`"rope_theta": 1000000.0`, `"rope_parameters": {"rope_type": "yarn", "factor": 4}`), "rope_type yarn"},
		{"architecture", replace(`MistralForCausalLM`, `GemmaForCausalLM`), "architecture GemmaForCausalLM is not supported"},
		{"two architectures", replace(`["MistralForCausalLM"]`, `["A", "B"]`), "one architecture"},
		{"heads", replace(`"num_key_value_heads": 8`, `"num_key_value_heads": 5`), "not a multiple of num_key_value_heads 5"},
		{"missing hidden", replace(`"hidden_size": 4096,`, ``), "hidden_size missing"},
		{"zero layers", replace(`"num_hidden_layers": 32`, `"num_hidden_layers": 0`), "num_hidden_layers = 0"},
		{"activation", replace(`"silu"`, `"gelu"`), "hidden_act"},
		{"not json", `{`, "not a model config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// transformers 5 spelling, head_dim given, window set.
	c, err := ParseConfig([]byte(replace(`"rope_theta": 1000000.0, "sliding_window": null`,
		`"rope_parameters": {"rope_theta": 5e5, "rope_type": "default"}, "sliding_window": 4096, "head_dim": 64`)))
	if err != nil {
		t.Fatal(err)
	}
	if c.RopeTheta != 5e5 || c.SlidingWindow != 4096 || c.HeadDim != 64 {
		t.Errorf("parsed %+v", c)
	}
	if _, err := NamedConfig("random:nope"); err == nil || !strings.Contains(err.Error(), "random:mistral-7b") {
		t.Errorf("unknown name: %v", err)
	}
	if _, err := ReadConfig(t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("missing config.json: %v", err)
	}
}

// TestLoadErrors: a checkpoint missing a tensor or with a wrong shape is
// refused before anything is converted, naming the tensor.
func TestLoadErrors(t *testing.T) {
	cfg, _ := NamedConfig("random:tiny")
	cfg.VocabSize = 100 // keep the files small
	write := func(skip string, reshape map[string][]int) string {
		dir := t.TempDir()
		w := safetensors.NewWriter()
		for _, s := range cfg.Specs() {
			if s.Name == skip {
				continue
			}
			shape := s.Shape
			if r, ok := reshape[s.Name]; ok {
				shape = r
			}
			n := 1
			for _, d := range shape {
				n *= d
			}
			if err := w.AddFloat32(s.Name, safetensors.BF16, shape, make([]float32, n)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteFile(filepath.Join(dir, safetensors.SingleFile)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	for _, tc := range []struct {
		name    string
		skip    string
		reshape map[string][]int
		want    string
	}{
		{"ok", "", nil, ""},
		{"missing", "model.layers.1.mlp.up_proj.weight", nil, "tensor model.layers.1.mlp.up_proj.weight is missing"},
		{"shape", "", map[string][]int{"model.layers.0.self_attn.k_proj.weight": {64, 64}}, "tensor model.layers.0.self_attn.k_proj.weight has shape [64 64], the config needs [32 64]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(tc.skip, tc.reshape)
			set, err := safetensors.OpenModel(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			w, err := LoadWeights(cfg, set, LoadOptions{DType: dtypes.BFloat16})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(w.Tensors) != len(cfg.Specs()) || w.Tensors[1].DType() != dtypes.Float32 || w.Tensors[2].DType() != dtypes.BFloat16 || w.Tensors[0].DType() != dtypes.BFloat16 {
					t.Errorf("loaded %d tensors", len(w.Tensors))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := safetensors.OpenModel(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("missing directory opened")
	}
}

// TestRandomWeights: random:tiny draws on the device (dense and NF4) and
// runs; the same seed gives the same logits.
func TestRandomWeights(t *testing.T) {
	cfg, _ := NamedConfig("random:tiny")
	run := func(seed int64, q Quant) []float32 {
		w, err := RandomWeights(testBackend(), cfg, dtypes.Float32, q, seed, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Finalize()
		m, err := New(testBackend(), w)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Finalize()
		logits, err := m.Forward([]int32{1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Forward([]int32{1, 32000}); err == nil {
			t.Error("token outside the vocabulary accepted")
		}
		return logits[2]
	}
	a, b, c := run(1, Dense), run(1, Dense), run(2, Dense)
	if d, _ := maxAbsDiff(a, b); d != 0 {
		t.Errorf("same seed differs by %g", d)
	}
	if d, _ := maxAbsDiff(a, c); d == 0 {
		t.Error("seeds 1 and 2 give the same logits")
	}
	q1, q2 := run(1, NF4), run(1, NF4)
	if d, _ := maxAbsDiff(q1, q2); d != 0 {
		t.Errorf("NF4: same seed differs by %g", d)
	}
}
