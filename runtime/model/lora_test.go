package model

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/runtime/nf4"
	"github.com/schemac-dev/schemac/runtime/safetensors"
)

func adapterDir(t *testing.T) string {
	dir := filepath.Join(fixtureDir, "tiny-mistral-lora")
	if _, err := os.Stat(filepath.Join(dir, AdapterWeightsFile)); err != nil {
		t.Skipf("fixture absent (%v): run testdata/fixtures/make_reference.py", err)
	}
	return dir
}

// TestLoRAMatchesReference applies the fixture's PEFT adapter, unmerged
// (per-layer and stacked weights) and merged, and compares with peft's
// logits and greedy tokens.
func TestLoRAMatchesReference(t *testing.T) {
	ref := openReference(t)
	dir := adapterDir(t)
	for _, v := range []struct{ merge, stack bool }{{false, false}, {true, false}, {false, true}} {
		merge := v.merge
		t.Run(fmt.Sprintf("merge=%v,stack=%v", merge, v.stack), func(t *testing.T) {
			m := loadTiny(t, "tiny-mistral", nil)
			a, err := ReadAdapter(dir, m.Config)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if a.R != 4 || a.Scale != 2 || len(a.Modules()) != 14 {
				t.Errorf("adapter r=%d scale=%g modules=%d", a.R, a.Scale, len(a.Modules()))
			}
			if err := m.Weights.AddLoRA(m.Backend, a, merge); err != nil {
				t.Fatal(err)
			}
			if v.stack {
				n := len(m.Weights.Names)
				if err := m.Weights.Stack(m.Backend); err != nil {
					t.Fatal(err)
				}
				// 9 weights + 14 factors per layer become 23 stacked tensors
				if got, want := len(m.Weights.Names), n-23*(m.Config.NumLayers-1); got != want || !m.Weights.Stacked() {
					t.Errorf("stacked: %d tensors, want %d", got, want)
				}
				if err := m.Weights.AddLoRA(m.Backend, a, false); err == nil {
					t.Error("a second adapter was accepted")
				}
			}
			m, err = New(m.Backend, m.Weights)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Finalize()
			for p := 0; ref.Has(fmt.Sprintf("lora.p%d.prompt", p)); p++ {
				pre := fmt.Sprintf("lora.p%d.", p)
				prompt := ref.Ints(t, pre+"prompt")
				logits, err := m.Forward(prompt)
				if err != nil {
					t.Fatal(err)
				}
				last, _ := ref.Floats(t, pre+"logits_last")
				d, at := maxAbsDiff(logits[len(prompt)-1], last)
				if d > logitTol {
					t.Errorf("%s last logits: max |diff| %g at %d", pre, d, at)
				}
				base, _ := ref.Floats(t, fmt.Sprintf("p%d.logits_last", p))
				moved, _ := maxAbsDiff(base, last)
				want := ref.Ints(t, pre+"greedy")
				got, err := m.Generate(prompt, len(want), Sampling{}, 32)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s greedy %v, reference %v", pre, got, want)
				}
				t.Logf("%s max |diff| %.2g (the adapter moves logits by up to %.2g)", pre, d, moved)
			}
		})
	}
}

func TestAdapterErrors(t *testing.T) {
	cfg, err := ReadConfig(filepath.Join(fixtureDir, "tiny-mistral"))
	if err != nil {
		t.Skip("fixture absent")
	}
	good := `{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj"], "bias": "none"}`
	write := func(config string, tensors map[string][]int) string {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, AdapterConfigFile), []byte(config), 0o644)
		w := safetensors.NewWriter()
		for name, shape := range tensors {
			n := 1
			for _, d := range shape {
				n *= d
			}
			w.AddFloat32(name, safetensors.F32, shape, make([]float32, n))
		}
		w.WriteFile(filepath.Join(dir, AdapterWeightsFile))
		return dir
	}
	const qa, qb = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"
	for _, tc := range []struct {
		name, config string
		tensors      map[string][]int
		want         string
	}{
		{"ok", good, map[string][]int{qa: {2, 64}, qb: {64, 2}}, ""},
		{"other base", good, map[string][]int{qa: {2, 4096}, qb: {4096, 2}}, "has shape [2 4096], this base model with r=2 needs [2 64]"},
		{"other layer count", good, map[string][]int{"base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight": {2, 64}}, "not a LoRA factor of a layer projection of this 2-layer"},
		{"no B", good, map[string][]int{qa: {2, 64}}, "has lora_A but no lora_B"},
		{"not targeted", strings.Replace(good, `["q_proj"]`, `["v_proj"]`, 1), map[string][]int{qa: {2, 64}, qb: {64, 2}}, "not in target_modules"},
		{"dora", strings.Replace(good, `"bias"`, `"use_dora": true, "bias"`, 1), nil, "use_dora"},
		{"prefix", strings.Replace(good, `"LORA"`, `"PREFIX_TUNING"`, 1), nil, "peft_type"},
		{"no alpha", `{"peft_type": "LORA", "r": 2, "target_modules": ["q_proj"]}`, nil, "lora_alpha missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ReadAdapter(write(tc.config, tc.tensors), cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				a.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := ReadAdapter(t.TempDir(), cfg); err == nil || !strings.Contains(err.Error(), AdapterConfigFile) {
		t.Errorf("empty dir: %v", err)
	}
}

// TestNF4Model: with NF4 projections dequantized in the graph, the logits
// equal those of float32 weights dequantized on the host (1e-4); NF4 with
// the adapter unmerged runs; merging into NF4 is refused.
func TestNF4Model(t *testing.T) {
	ref := openReference(t)
	cfg, set, roundTrip := nf4Sources(t, false)

	load := func(s *safetensors.Set, q Quant) *Model {
		w, err := LoadWeights(cfg, s, LoadOptions{DType: dtypes.Float32, Quant: q, Backend: testBackend()})
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(testBackend(), w)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Finalize)
		return m
	}
	quant, host := load(set, NF4), load(roundTrip, Dense)
	prompt := ref.Ints(t, "p0.prompt")
	a, err := quant.Forward(prompt)
	if err != nil {
		t.Fatal(err)
	}
	b, err := host.Forward(prompt)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := ref.Floats(t, "p0.logits_last")
	d, _ := maxAbsDiff(a[len(prompt)-1], b[len(prompt)-1])
	e, _ := maxAbsDiff(a[len(prompt)-1], last)
	t.Logf("NF4 in the graph vs host dequantization: %.2g; NF4 vs bf16 reference: %.2g; %d → %d weight bytes", d, e, host.Weights.Bytes(), quant.Weights.Bytes())
	if d > logitTol {
		t.Errorf("NF4 graph vs host: %g", d)
	}
	adapter, err := ReadAdapter(adapterDir(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer adapter.Close()
	if err := quant.Weights.AddLoRA(testBackend(), adapter, true); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Errorf("merge into NF4: %v", err)
	}
	if err := quant.Weights.AddLoRA(testBackend(), adapter, false); err != nil {
		t.Fatal(err)
	}
	ql, err := New(testBackend(), quant.Weights)
	if err != nil {
		t.Fatal(err)
	}
	defer ql.Finalize()
	want, err := ql.Generate(prompt, 4, Sampling{}, 32)
	if err != nil {
		t.Fatal(err)
	}
	wantLogits, err := ql.Forward(prompt)
	if err != nil {
		t.Fatal(err)
	}
	// The same NF4 + LoRA weights stacked per kind compute the same.
	if err := quant.Weights.Stack(testBackend()); err != nil {
		t.Fatal(err)
	}
	qs, err := New(testBackend(), quant.Weights)
	if err != nil {
		t.Fatal(err)
	}
	defer qs.Finalize()
	got, err := qs.Generate(prompt, 4, Sampling{}, 32)
	if err != nil {
		t.Fatal(err)
	}
	gotLogits, err := qs.Forward(prompt)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stacked NF4+LoRA greedy %v, per-layer %v", got, want)
	}
	if d, at := maxAbsDiff(gotLogits[len(prompt)-1], wantLogits[len(prompt)-1]); d > 1e-5 {
		t.Errorf("stacked NF4+LoRA logits differ by %g at %d", d, at)
	}
}

// nf4Sources opens the tiny-mistral fixture and its NF4 round trip
// (nf4RoundTrip); both close when the test ends.
func nf4Sources(t *testing.T, double bool) (*Config, *safetensors.Set, *safetensors.Set) {
	t.Helper()
	src := filepath.Join(fixtureDir, "tiny-mistral")
	cfg, err := ReadConfig(src)
	if err != nil {
		t.Fatal(err)
	}
	set, err := safetensors.OpenModel(src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	rt := nf4RoundTrip(t, cfg, set, double)
	t.Cleanup(func() { rt.Close() })
	return cfg, set, rt
}

// nf4RoundTrip writes a checkpoint whose layer projections are the NF4
// round trip of set's (with double-quantized absmax values when double)
// and opens it.
func nf4RoundTrip(t *testing.T, cfg *Config, set *safetensors.Set, double bool) *safetensors.Set {
	t.Helper()
	dir := t.TempDir()
	wr := safetensors.NewWriter()
	for _, s := range cfg.Specs() {
		v, shape, err := set.Float32s(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		if s.Linear {
			q, err := nf4.Quantize(s.Name, v, shape)
			if err != nil {
				t.Fatal(err)
			}
			if double {
				q.QuantizeAbsmax()
			}
			v = q.Dequantize()
		}
		if err := wr.AddFloat32(s.Name, safetensors.F32, shape, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := wr.WriteFile(filepath.Join(dir, safetensors.SingleFile)); err != nil {
		t.Fatal(err)
	}
	rt, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// TestNF4DoubleQuant double-quantizes the absmax values of an NF4 model on
// the device: the forward pass (dequantize + dot) and greedy decoding (the
// one-row path), per-layer and stacked, match a dense checkpoint holding
// the same double-quantized round trip, and the absmax storage shrinks.
func TestNF4DoubleQuant(t *testing.T) {
	ref := openReference(t)
	cfg, set, roundTrip := nf4Sources(t, true)
	load := func(s *safetensors.Set, q Quant) *Weights {
		w, err := LoadWeights(cfg, s, LoadOptions{DType: dtypes.Float32, Quant: q, Backend: testBackend()})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	host, err := New(testBackend(), load(roundTrip, Dense))
	if err != nil {
		t.Fatal(err)
	}
	defer host.Finalize()
	prompt := ref.Ints(t, "p0.prompt")
	want, err := host.Forward(prompt)
	if err != nil {
		t.Fatal(err)
	}
	wantTokens, err := host.Generate(prompt, 6, Sampling{}, 32)
	if err != nil {
		t.Fatal(err)
	}
	for _, stack := range []bool{false, true} {
		w := load(set, NF4)
		before := w.Bytes()
		if err := w.DoubleQuantize(testBackend()); err != nil {
			t.Fatal(err)
		}
		if stack {
			if err := w.Stack(testBackend()); err != nil {
				t.Fatal(err)
			}
			if err := w.DoubleQuantize(testBackend()); err == nil {
				t.Error("double quantization of stacked weights was accepted")
			}
		}
		m, err := New(testBackend(), w)
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Forward(prompt)
		if err != nil {
			t.Fatal(err)
		}
		if d, at := maxAbsDiff(got[len(prompt)-1], want[len(prompt)-1]); d > logitTol {
			t.Errorf("stack=%v: logits differ from the round trip by %g at %d", stack, d, at)
		}
		tokens, err := m.Generate(prompt, 6, Sampling{}, 32)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(tokens) != fmt.Sprint(wantTokens) {
			t.Errorf("stack=%v: greedy %v, round trip %v", stack, tokens, wantTokens)
		}
		// per 64 weights: 4 bytes of absmax became 1 (+ a scale per 256)
		if saved := before - w.Bytes(); saved <= 0 {
			t.Errorf("stack=%v: %d → %d bytes", stack, before, w.Bytes())
		}
		t.Logf("stack=%v: %d → %d weight bytes", stack, before, w.Bytes())
		m.Finalize()
		w.Finalize()
	}
}

// TestRandomAdapter: a random adapter has PEFT's factor shapes for every
// layer projection, the same seed gives the same factors, it changes the
// logits, and applied unmerged it computes what it computes merged.
func TestRandomAdapter(t *testing.T) {
	ref := openReference(t)
	m := loadTiny(t, "tiny-mistral", nil)
	cfg := m.Config
	if _, err := RandomAdapter(cfg, 0, 1); err == nil {
		t.Error("rank 0 accepted")
	}
	a, err := RandomAdapter(cfg, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RandomAdapter(cfg, 4, 1)
	if len(a.Modules()) != 7*cfg.NumLayers || a.Scale != 4 || len(a.Targets) != 7 {
		t.Fatalf("%d modules, scale %g, targets %v", len(a.Modules()), a.Scale, a.Targets)
	}
	for _, s := range cfg.Specs() {
		if !s.Linear {
			continue
		}
		mod := strings.TrimSuffix(s.Name, ".weight")
		if fmt.Sprint(a.A[mod].Shape) != fmt.Sprint([]int{4, s.Shape[1]}) || fmt.Sprint(a.B[mod].Shape) != fmt.Sprint([]int{s.Shape[0], 4}) {
			t.Fatalf("%s: A %v, B %v for weight %v", mod, a.A[mod].Shape, a.B[mod].Shape, s.Shape)
		}
		if !bytes.Equal(a.A[mod].Data, b.A[mod].Data) {
			t.Fatalf("%s: the same seed gave other factors", mod)
		}
	}
	prompt := ref.Ints(t, "p0.prompt")
	base, err := m.Forward(prompt)
	if err != nil {
		t.Fatal(err)
	}
	logits := map[bool][]float32{}
	for _, merge := range []bool{false, true} {
		lm := loadTiny(t, "tiny-mistral", nil)
		if err := lm.Weights.AddLoRA(lm.Backend, a, merge); err != nil {
			t.Fatal(err)
		}
		lm, err := New(lm.Backend, lm.Weights)
		if err != nil {
			t.Fatal(err)
		}
		out, err := lm.Forward(prompt)
		lm.Finalize()
		if err != nil {
			t.Fatal(err)
		}
		logits[merge] = out[len(prompt)-1]
	}
	if d, _ := maxAbsDiff(logits[false], base[len(prompt)-1]); d < 1e-3 {
		t.Errorf("the random adapter moves the logits by only %g", d)
	}
	if d, at := maxAbsDiff(logits[false], logits[true]); d > logitTol {
		t.Errorf("unmerged vs merged: %g at %d", d, at)
	}
}
