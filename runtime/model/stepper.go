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

// stepperStep is StepMasked on the Stepper. Sampling with a temperature
// copies the masked logits and draws on the host, from a generator
// seeded by s.Seed at the cache's first step (the sequence differs from
// the XLA step's device generator).
func (c *Cache) stepperStep(tokens []int32, s Sampling, row int32, eosOK, wantLogits bool) (int32, []float32, error) {
	if c.Len+len(tokens) > c.MaxLen {
		return 0, nil, fmt.Errorf("cache full: %d positions filled + %d tokens > %d", c.Len, len(tokens), c.MaxLen)
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
func sampleHost(logits []float32, s Sampling, rng *rand.Rand) int32 {
	topP := s.TopP
	if topP <= 0 || topP > 1 {
		topP = 1
	}
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = math.Max(mx, float64(l))
	}
	type cand struct {
		id int32
		p  float64
	}
	var cands []cand
	sum := 0.0
	for i, l := range logits {
		if math.IsInf(float64(l), -1) {
			continue
		}
		p := math.Exp((float64(l) - mx) / s.Temperature)
		cands = append(cands, cand{int32(i), p})
		sum += p
	}
	if len(cands) == 0 {
		return 0
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.p != b.p {
			if a.p > b.p {
				return -1
			}
			return 1
		}
		return int(a.id - b.id)
	})
	keep, acc := 0, 0.0
	for keep < len(cands) {
		acc += cands[keep].p / sum
		keep++
		if acc >= topP {
			break
		}
	}
	r := rng.Float64() * acc
	for _, c := range cands[:keep] {
		r -= c.p / sum
		if r <= 0 {
			return c.id
		}
	}
	return cands[keep-1].id
}
