package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Stepper is a decode step that runs outside the model's XLA programs:
// package gpudecode's CUDA engine, which records the step as hand-written
// kernels. When Model.Stepper is set, caches, steps and the generation
// loops use it; Forward and training do not.
type Stepper interface {
	// Step feeds tokens at cache positions pos.. and returns the greedy
	// next token among those mask row row of the model's table allows
	// (-1: any; EOS only when eosOK), copying the masked logits into
	// logits when it is not nil.
	Step(tokens []int32, pos int, row int32, eosOK bool, logits []float32) (int32, error)
	// CacheLen is the number of positions its KV cache holds (it holds
	// one sequence: a new Cache starts it over).
	CacheLen() int
}

// DeviceSampler is a Stepper that can also draw tokens with a
// temperature itself (gpudecode's engine, on the GPU), sparing the copy of
// the logits and the host sampler.
type DeviceSampler interface {
	Stepper
	// SamplesOnDevice reports whether StepSampled may be used.
	SamplesOnDevice() bool
	// StepSampled is Step with the next token drawn with s (Temperature
	// > 0) from the masked logits.
	StepSampled(tokens []int32, pos int, row int32, eosOK bool, s Sampling, logits []float32) (int32, error)
}

// stepperStep is StepMasked on the Stepper. Sampling with a temperature
// copies the masked logits and draws on the host, from a generator
// seeded by s.Seed at the cache's first step (the sequence differs from
// the XLA step's device generator).
func (c *Cache) stepperStep(tokens []int32, s Sampling, row int32, eosOK, wantLogits bool) (int32, []float32, error) {
	if c.Len+len(tokens) > c.MaxLen {
		return 0, nil, fmt.Errorf("cache full: %d positions filled + %d tokens > %d", c.Len, len(tokens), c.MaxLen)
	}
	if ds, ok := c.model.Stepper.(DeviceSampler); ok && s.Temperature > 0 && ds.SamplesOnDevice() {
		var logits []float32
		if wantLogits {
			logits = make([]float32, c.model.Config.VocabSize)
		}
		tok, err := ds.StepSampled(tokens, c.Len, row, eosOK, s, logits)
		if err != nil {
			return 0, nil, err
		}
		c.Len += len(tokens)
		return tok, logits, nil
	}
	var logits []float32
	switch {
	case wantLogits: // the caller keeps them
		logits = make([]float32, c.model.Config.VocabSize)
	case s.Temperature > 0: // only read here: one buffer per cache
		if c.hostLogits == nil {
			c.hostLogits = make([]float32, c.model.Config.VocabSize)
		}
		logits = c.hostLogits
	}
	tok, err := c.model.Stepper.Step(tokens, c.Len, row, eosOK, logits)
	if err != nil {
		return 0, nil, err
	}
	c.Len += len(tokens)
	if s.Temperature > 0 {
		if c.hostRNG == nil {
			c.hostRNG = rand.New(rand.NewPCG(s.Seed, 0x5eed))
		}
		tok = sampleHost(logits, s, c.hostRNG)
	}
	if !wantLogits {
		logits = nil
	}
	return tok, logits, nil
}

// sampleHost draws from softmax(logits/T) limited to the smallest set of
// most likely tokens whose probability reaches TopP. Masked tokens (-inf)
// have probability 0.
//
// It runs once per token beside the GPU step (about 4 ms), so it avoids
// sorting the vocabulary: weights are binned by their power of two, the
// bins above the one where the nucleus mass is reached are taken whole,
// and only that bin is sorted. The draw walks the nucleus in token order.
func sampleHost(logits []float32, s Sampling, rng *rand.Rand) int32 {
	topP := s.TopP
	if topP <= 0 || topP > 1 {
		topP = 1
	}
	mx := math.Inf(-1)
	for _, l := range logits {
		if x := float64(l); x > mx {
			mx = x
		}
	}
	if math.IsInf(mx, -1) {
		return 0 // nothing allowed: the caller's check reports it
	}
	// weights in (0, 1], the largest 1; bin k holds the weights with
	// binary exponent -k (bin 0: exactly 1), the last bin all smaller ones
	const bins = 64
	w := make([]float64, len(logits))
	b := make([]uint8, len(logits))
	var mass [bins]float64
	total := 0.0
	invT := 1 / s.Temperature
	for i, l := range logits {
		if math.IsInf(float64(l), -1) {
			continue
		}
		x := math.Exp((float64(l) - mx) * invT)
		k := min(max(1023-int(math.Float64bits(x)>>52&0x7ff), 0), bins-1)
		w[i], b[i] = x, uint8(k)
		mass[k] += x
		total += x
	}
	in := func(i int) bool { return w[i] > 0 } // the whole distribution
	if topP < 1 {
		// find the bin where the nucleus mass is reached
		need, acc, k := topP*total, 0.0, 0
		for ; k < bins-1 && acc+mass[k] < need; k++ {
			acc += mass[k]
		}
		// inside bin k, the largest weights first (ties: lower ids)
		var edge []int
		for i, x := range w {
			if x > 0 && int(b[i]) == k {
				edge = append(edge, i)
			}
		}
		slices.SortFunc(edge, func(a, c int) int {
			if w[a] != w[c] {
				if w[a] > w[c] {
					return -1
				}
				return 1
			}
			return a - c
		})
		keep := map[int]bool{}
		for _, i := range edge {
			keep[i] = true
			acc += w[i]
			if acc >= need {
				break
			}
		}
		in = func(i int) bool { return w[i] > 0 && (int(b[i]) < k || keep[i]) }
		total = acc
	}
	r := rng.Float64() * total
	last := -1
	for i, x := range w {
		if !in(i) {
			continue
		}
		last = i
		if r -= x; r < 0 {
			return int32(i)
		}
	}
	return int32(last) // rounding left r ≥ 0 at the end
}
