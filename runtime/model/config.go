package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Config is the architecture of a Mistral/Llama checkpoint (config.json).
type Config struct {
	Architecture          string  // "MistralForCausalLM" or "LlamaForCausalLM"
	HiddenSize            int     // model width
	NumLayers             int     // decoder layers
	NumHeads              int     // query heads
	NumKVHeads            int     // key/value heads (GQA): divides NumHeads
	HeadDim               int     // per head; HiddenSize/NumHeads unless config.json says
	IntermediateSize      int     // MLP width
	VocabSize             int     // rows of the embedding and the LM head
	MaxPositionEmbeddings int     // longest sequence the checkpoint supports
	RMSNormEps            float64 // epsilon of RMSNorm
	RopeTheta             float64 // RoPE base
	SlidingWindow         int     // 0: none; else a query attends to the last SlidingWindow keys (itself included)
	TieWordEmbeddings     bool    // LM head is the embedding matrix
	BOSTokenID            int
	EOSTokenID            int
}

// Architectures read by this package.
var supportedArchitectures = []string{"MistralForCausalLM", "LlamaForCausalLM"}

type hfConfig struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	HiddenSize            *int            `json:"hidden_size"`
	NumHiddenLayers       *int            `json:"num_hidden_layers"`
	NumAttentionHeads     *int            `json:"num_attention_heads"`
	NumKeyValueHeads      *int            `json:"num_key_value_heads"`
	HeadDim               *int            `json:"head_dim"`
	IntermediateSize      *int            `json:"intermediate_size"`
	VocabSize             *int            `json:"vocab_size"`
	MaxPositionEmbeddings *int            `json:"max_position_embeddings"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	RopeTheta             *float64        `json:"rope_theta"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	RopeParameters        json.RawMessage `json:"rope_parameters"`
	SlidingWindow         *int            `json:"sliding_window"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	HiddenAct             string          `json:"hidden_act"`
	AttentionBias         bool            `json:"attention_bias"`
	MLPBias               bool            `json:"mlp_bias"`
	BOSTokenID            json.RawMessage `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
}

// IsNamed reports whether a -model value names a built-in configuration
// ("random:…") rather than a checkpoint directory.
func IsNamed(model string) bool { return strings.HasPrefix(model, "random:") }

// ConfigFor is the configuration of a -model value: a named one
// (NamedConfig) or a checkpoint's config.json (ReadConfig).
func ConfigFor(model string) (*Config, error) {
	if IsNamed(model) {
		return NamedConfig(model)
	}
	return ReadConfig(model)
}

// ReadConfig reads config.json from a checkpoint directory (or the file
// itself) and checks it.
func ReadConfig(path string) (*Config, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "config.json")
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	c, err := ParseConfig(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig decodes and checks the text of a config.json.
func ParseConfig(text []byte) (*Config, error) {
	var h hfConfig
	if err := json.Unmarshal(text, &h); err != nil {
		return nil, fmt.Errorf("not a model config: %w", err)
	}
	c := &Config{RMSNormEps: 1e-6, RopeTheta: 10000, BOSTokenID: 1, EOSTokenID: 2}
	switch {
	case len(h.Architectures) == 1:
		c.Architecture = h.Architectures[0]
	case len(h.Architectures) > 1:
		return nil, fmt.Errorf("architectures %v: one architecture expected", h.Architectures)
	case h.ModelType == "mistral":
		c.Architecture = "MistralForCausalLM"
	case h.ModelType == "llama":
		c.Architecture = "LlamaForCausalLM"
	default:
		return nil, fmt.Errorf("no architectures and model_type %q: unsupported (supported: %s)", h.ModelType, strings.Join(supportedArchitectures, ", "))
	}
	if !slices.Contains(supportedArchitectures, c.Architecture) {
		return nil, fmt.Errorf("architecture %s is not supported (supported: %s)", c.Architecture, strings.Join(supportedArchitectures, ", "))
	}
	required := []struct {
		name string
		src  *int
		dst  *int
	}{
		{"hidden_size", h.HiddenSize, &c.HiddenSize},
		{"num_hidden_layers", h.NumHiddenLayers, &c.NumLayers},
		{"num_attention_heads", h.NumAttentionHeads, &c.NumHeads},
		{"intermediate_size", h.IntermediateSize, &c.IntermediateSize},
		{"vocab_size", h.VocabSize, &c.VocabSize},
	}
	for _, r := range required {
		if r.src == nil {
			return nil, fmt.Errorf("%s missing", r.name)
		}
		*r.dst = *r.src
	}
	c.NumKVHeads = c.NumHeads
	if h.NumKeyValueHeads != nil {
		c.NumKVHeads = *h.NumKeyValueHeads
	}
	if h.HeadDim != nil {
		c.HeadDim = *h.HeadDim
	} else if c.NumHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	c.MaxPositionEmbeddings = 4096
	if h.MaxPositionEmbeddings != nil {
		c.MaxPositionEmbeddings = *h.MaxPositionEmbeddings
	}
	if h.RMSNormEps != nil {
		c.RMSNormEps = *h.RMSNormEps
	}
	if h.RopeTheta != nil {
		c.RopeTheta = *h.RopeTheta
	}
	if isSet(h.RopeScaling) {
		return nil, fmt.Errorf("rope_scaling %s is not supported", compact(h.RopeScaling))
	}
	if isSet(h.RopeParameters) {
		// transformers 5 writes {"rope_type": "default", "rope_theta": θ}.
		var rp map[string]any
		if err := json.Unmarshal(h.RopeParameters, &rp); err != nil {
			return nil, fmt.Errorf("rope_parameters: %v", err)
		}
		if rt, ok := rp["rope_type"]; ok && rt != "default" {
			return nil, fmt.Errorf("rope_parameters: rope_type %v is not supported (only default)", rt)
		}
		keys := make([]string, 0, len(rp))
		for k := range rp {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := rp[k]
			switch k {
			case "rope_type":
			case "rope_theta":
				f, ok := v.(float64)
				if !ok {
					return nil, fmt.Errorf("rope_parameters: rope_theta %v is not a number", v)
				}
				c.RopeTheta = f
			default:
				return nil, fmt.Errorf("rope_parameters: %s is not supported", k)
			}
		}
	}
	if h.SlidingWindow != nil && (h.UseSlidingWindow == nil || *h.UseSlidingWindow) {
		c.SlidingWindow = *h.SlidingWindow
	}
	if h.TieWordEmbeddings != nil {
		c.TieWordEmbeddings = *h.TieWordEmbeddings
	}
	if h.HiddenAct != "" && h.HiddenAct != "silu" {
		return nil, fmt.Errorf("hidden_act %q is not supported (only silu)", h.HiddenAct)
	}
	if h.AttentionBias || h.MLPBias {
		return nil, fmt.Errorf("attention_bias/mlp_bias are not supported")
	}
	if id, ok := firstInt(h.BOSTokenID); ok {
		c.BOSTokenID = id
	}
	if id, ok := firstInt(h.EOSTokenID); ok {
		c.EOSTokenID = id
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func isSet(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s != "" && s != "null"
}

func compact(raw json.RawMessage) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// firstInt reads a token id given as a number or a list of numbers.
func firstInt(raw json.RawMessage) (int, bool) {
	var n int
	if json.Unmarshal(raw, &n) == nil && isSet(raw) {
		return n, true
	}
	var ns []int
	if json.Unmarshal(raw, &ns) == nil && len(ns) > 0 {
		return ns[0], true
	}
	return 0, false
}

// Validate checks that the sizes are positive and consistent.
func (c *Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumLayers},
		{"num_attention_heads", c.NumHeads}, {"num_key_value_heads", c.NumKVHeads},
		{"head_dim", c.HeadDim}, {"intermediate_size", c.IntermediateSize},
		{"vocab_size", c.VocabSize}, {"max_position_embeddings", c.MaxPositionEmbeddings},
	} {
		if f.v <= 0 {
			return fmt.Errorf("%s = %d: must be positive", f.name, f.v)
		}
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim %d is odd: RoPE needs pairs", c.HeadDim)
	}
	if c.SlidingWindow < 0 {
		return fmt.Errorf("sliding_window %d is negative", c.SlidingWindow)
	}
	if !(c.RMSNormEps > 0) || !(c.RopeTheta > 0) {
		return fmt.Errorf("rms_norm_eps %g and rope_theta %g must be positive", c.RMSNormEps, c.RopeTheta)
	}
	return nil
}

// Named configurations for random-weight models (benchmarks, tests).
var named = map[string]Config{
	// The shape of testdata/fixtures/tiny-mistral (make_reference.py).
	"random:tiny": {
		Architecture: "MistralForCausalLM", HiddenSize: 64, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 16, IntermediateSize: 128, VocabSize: 32000, MaxPositionEmbeddings: 512,
		RMSNormEps: 1e-5, RopeTheta: 10000, SlidingWindow: 8, BOSTokenID: 1, EOSTokenID: 2,
	},
	// Mistral-7B-Instruct-v0.2.
	"random:mistral-7b": {
		Architecture: "MistralForCausalLM", HiddenSize: 4096, NumLayers: 32, NumHeads: 32, NumKVHeads: 8,
		HeadDim: 128, IntermediateSize: 14336, VocabSize: 32000, MaxPositionEmbeddings: 32768,
		RMSNormEps: 1e-5, RopeTheta: 1e6, BOSTokenID: 1, EOSTokenID: 2,
	},
}

// NamedConfig returns a copy of a named configuration ("random:tiny",
// "random:mistral-7b").
func NamedConfig(name string) (*Config, error) {
	c, ok := named[name]
	if !ok {
		var names []string
		for n := range named {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, fmt.Errorf("unknown model %q (named models: %s)", name, strings.Join(names, ", "))
	}
	return &c, nil
}

// GroupSize is the number of query heads per key/value head.
func (c *Config) GroupSize() int { return c.NumHeads / c.NumKVHeads }

// NumParams is the number of weights.
func (c *Config) NumParams() int64 {
	d, q, kv := int64(c.HiddenSize), int64(c.NumHeads*c.HeadDim), int64(c.NumKVHeads*c.HeadDim)
	layer := d*q + 2*d*kv + q*d + 3*d*int64(c.IntermediateSize) + 2*d
	n := int64(c.NumLayers)*layer + int64(c.VocabSize)*d + d
	if !c.TieWordEmbeddings {
		n += int64(c.VocabSize) * d
	}
	return n
}
