package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

// cacheStepper is a Stepper made of another model's step programs: it
// records what it was asked, so the tests see how caches and generation
// loops drive a Stepper.
type cacheStepper struct {
	m      *Model // runs the steps
	outer  *Model // the model the Stepper serves (its mask table is used)
	c      *Cache
	maxLen int
	calls  []string
}

func (f *cacheStepper) CacheLen() int { return f.maxLen }

func (f *cacheStepper) Step(tokens []int32, pos int, row int32, eosOK bool, logits []float32) (int32, error) {
	f.calls = append(f.calls, fmt.Sprintf("%d@%d", len(tokens), pos))
	if pos == 0 {
		if f.c != nil {
			f.c.Finalize()
		}
		c, err := f.m.NewCache(f.maxLen)
		if err != nil {
			return 0, err
		}
		f.c = c
	}
	if t := f.outer.maskTable; t != nil && f.m.maskTable != t {
		if err := f.m.SetMask(t); err != nil {
			return 0, err
		}
	}
	if pos != f.c.Len {
		return 0, fmt.Errorf("step at position %d, the cache holds %d", pos, f.c.Len)
	}
	tok, lg, err := f.c.StepMasked(tokens, Sampling{}, row, eosOK, logits != nil)
	copy(logits, lg)
	return tok, err
}

// TestStepperDrivesDecoding: with Model.Stepper set, Generate and
// GenerateConstrained run on it (positions advancing with the tokens fed,
// forced chunks as one step, the mask row passed through) and give the
// same tokens as the model's own step programs; a cache longer than the
// Stepper's is refused.
func TestStepperDrivesDecoding(t *testing.T) {
	ref := openReference(t)
	m := loadTiny(t, "tiny-mistral", nil)
	inner := loadTiny(t, "tiny-mistral", nil)
	prompt := ref.Ints(t, "p0.prompt")
	want, err := m.Generate(prompt, 8, Sampling{}, 32)
	if err != nil {
		t.Fatal(err)
	}
	st := &cacheStepper{m: inner, outer: m, maxLen: 32}
	m.Stepper = st
	defer func() { m.Stepper = nil }()
	got, err := m.Generate(prompt, 8, Sampling{}, 32)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("through the Stepper %v, own steps %v", got, want)
	}
	wantCalls := []string{fmt.Sprintf("%d@0", len(prompt))}
	for i := range 7 {
		wantCalls = append(wantCalls, fmt.Sprintf("1@%d", len(prompt)+i))
	}
	if fmt.Sprint(st.calls) != fmt.Sprint(wantCalls) {
		t.Errorf("steps %v, want %v", st.calls, wantCalls)
	}
	if _, err := m.NewCache(64); err == nil {
		t.Error("a 64-position cache was accepted from a 32-position Stepper")
	}

	tab := userProfileTable(t)
	tok, err := tokenizer.Load(filepath.Join("../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p []int32
	for _, id := range tok.Encode("[INST] Extract the user profile as JSON. [/INST]\n", tokenizer.Default) {
		p = append(p, int32(id))
	}
	con := Constrained{Table: tab, Tokenizer: tok, JumpForward: true}
	st.maxLen, st.calls = 128, nil
	viaStepper, stats, err := m.GenerateConstrained(p, 30, Sampling{}, con)
	if err != nil {
		t.Fatal(err)
	}
	m.Stepper = nil
	own, _, err := m.GenerateConstrained(p, 30, Sampling{}, con)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(viaStepper) != fmt.Sprint(own) {
		t.Errorf("constrained through the Stepper %v, own steps %v", viaStepper, own)
	}
	// the forced prefix ({"…) goes in with the prompt, then one call per step
	var first int
	fmt.Sscanf(st.calls[0], "%d@0", &first)
	if stats.Forced == 0 || first <= len(p) || len(st.calls) != stats.Steps+1 {
		t.Errorf("jump-forward through the Stepper: %d forced tokens, %d-token prompt, calls %v for %d steps", stats.Forced, len(p), st.calls, stats.Steps)
	}
}

// TestSampleHost checks the host sampler of Stepper caches against the
// exact frequencies, as TestSample does for the device sampler.
func TestSampleHost(t *testing.T) {
	logits := []float32{ln(0.1), ln(0.2), ln(0.3), ln(0.4), float32(math.Inf(-1))}
	const draws = 4000
	for _, tc := range []struct {
		temperature, topP float64
		want              [5]float64
	}{
		{1, 1, [5]float64{0.1, 0.2, 0.3, 0.4, 0}},
		{1, 0.5, [5]float64{0, 0, 3.0 / 7, 4.0 / 7, 0}},
		{1, 0.35, [5]float64{0, 0, 0, 1, 0}},
		{1e6, 1, [5]float64{0.25, 0.25, 0.25, 0.25, 0}},
		{1e6, 0.5, [5]float64{0, 0, 0.5, 0.5, 0}}, // nearly equal weights: the two largest
		{1e-3, 1, [5]float64{0, 0, 0, 1, 0}},
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		var counts [5]float64
		for range draws {
			counts[sampleHost(logits, Sampling{Temperature: tc.temperature, TopP: tc.topP}, rng)]++
		}
		for i := range counts {
			if f := counts[i] / draws; abs(f-tc.want[i]) > 0.03 {
				t.Errorf("T=%g top-p=%g: token %d drawn %.3f of the time, want %.3f", tc.temperature, tc.topP, i, f, tc.want[i])
			}
		}
	}
}

// deviceSampler is a cacheStepper that claims to sample on the device:
// it returns the greedy token + 1 so the test can tell whose token it is.
type deviceSampler struct {
	*cacheStepper
	sampled []Sampling
}

func (d *deviceSampler) SamplesOnDevice() bool { return true }

func (d *deviceSampler) StepSampled(tokens []int32, pos int, row int32, eosOK bool, s Sampling, logits []float32) (int32, error) {
	d.sampled = append(d.sampled, s)
	tok, err := d.Step(tokens, pos, row, eosOK, logits)
	return tok + 1, err
}

// TestDeviceSamplerUsed: with a temperature, a Stepper that samples on
// the device draws the tokens (the host sampler is not used); greedy
// steps still go through Step.
func TestDeviceSamplerUsed(t *testing.T) {
	ref := openReference(t)
	m := loadTiny(t, "tiny-mistral", nil)
	inner := loadTiny(t, "tiny-mistral", nil)
	prompt := ref.Ints(t, "p0.prompt")
	greedy, err := m.Generate(prompt, 4, Sampling{}, 32)
	if err != nil {
		t.Fatal(err)
	}
	d := &deviceSampler{cacheStepper: &cacheStepper{m: inner, outer: m, maxLen: 32}}
	m.Stepper = d
	defer func() { m.Stepper = nil }()
	s := Sampling{Temperature: 0.8, TopP: 0.9, Seed: 5}
	c, err := m.NewCache(32)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := c.Step(prompt, s, false)
	if err != nil {
		t.Fatal(err)
	}
	if tok != greedy[0]+1 || len(d.sampled) != 1 || d.sampled[0] != s || c.Len != len(prompt) {
		t.Errorf("sampled step: token %d (greedy %d), calls %v, cache at %d", tok, greedy[0], d.sampled, c.Len)
	}
	if tok, _, err = c.Step([]int32{greedy[0]}, Sampling{}, false); err != nil || tok != greedy[1] || len(d.sampled) != 1 {
		t.Errorf("greedy step: token %d, want %d; %d sampled calls; %v", tok, greedy[1], len(d.sampled), err)
	}
}
