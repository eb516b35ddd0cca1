package model

import (
	"fmt"
	"testing"
	"time"
)

// Tolerance of our float32 forward pass against transformers' float32
// forward pass on the same (bf16-exact) weights: absolute, on logits whose
// scale is a few units (the fixtures' last-position logits: standard
// deviation 0.8 (Mistral) and 1.2 (Llama), largest magnitude 3.5 and 4.2).
// Measured: ≤ 3e-6. A RoPE table rounded to bf16 already gives 1e-3.
const logitTol = 1e-4

// TestForwardMatchesReference compares the whole-sequence forward pass
// with transformers on the fixtures: every position's top-8 logits and
// log-sum-exp, the last position's full logits, and the 8-token greedy
// continuation; with the sliding window (the fixture's 8 < the 18- and
// 13-token prompts) and without it, and for a tied-embedding Llama.
func TestForwardMatchesReference(t *testing.T) {
	ref := openReference(t)
	for _, variant := range []struct {
		prefix, dir string
		tweak       func(*Config)
	}{
		{"", "tiny-mistral", nil},
		{"nowindow.", "tiny-mistral", func(c *Config) { c.SlidingWindow = 0 }},
		{"llama.", "tiny-llama", nil},
	} {
		m := loadTiny(t, variant.dir, variant.tweak)
		for p := 0; ; p++ {
			pre := fmt.Sprintf("%sp%d.", variant.prefix, p)
			if !ref.Has(pre + "prompt") {
				break
			}
			t.Run(pre, func(t *testing.T) {
				start := time.Now()
				prompt := ref.Ints(t, pre+"prompt")
				logits, err := m.Forward(prompt)
				if err != nil {
					t.Fatal(err)
				}
				last, _ := ref.Floats(t, pre+"logits_last")
				if d, at := maxAbsDiff(logits[len(logits)-1], last); d > logitTol {
					t.Errorf("last logits: max |diff| %g at token %d (ours %g, reference %g)", d, at, logits[len(logits)-1][at], last[at])
				}
				topIDs := ref.Ints(t, pre+"topk_ids")
				topVals, shape := ref.Floats(t, pre+"topk_values")
				lse, _ := ref.Floats(t, pre+"logsumexp")
				k := shape[1]
				worst := 0.0
				for i := range prompt {
					for j := range k {
						id := topIDs[i*k+j]
						d := float64(logits[i][id] - topVals[i*k+j])
						worst = max(worst, abs(d))
					}
					worst = max(worst, abs(logSumExp(logits[i])-float64(lse[i])))
					if got := argmax(logits[i]); got != topIDs[i*k] {
						t.Errorf("position %d: argmax %d, reference %d", i, got, topIDs[i*k])
					}
				}
				if worst > logitTol {
					t.Errorf("per-position top-%d logits / logsumexp: max |diff| %g > %g", k, worst, logitTol)
				}
				want := ref.Ints(t, pre+"greedy")
				got, err := greedyByForward(m, prompt, len(want))
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("greedy %v, reference %v", got, want)
				}
				t.Logf("%d tokens: last-logit max |diff| %.2g, top-k/lse max |diff| %.2g, greedy ok, %v", len(prompt), must1(maxAbsDiff(logits[len(logits)-1], last)), worst, time.Since(start).Round(time.Millisecond))
			})
		}
	}
}

func must1(d float64, _ int) float64 { return d }

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// greedyByForward decodes by rerunning the whole sequence each step.
func greedyByForward(m *Model, prompt []int32, steps int) ([]int32, error) {
	seq := append([]int32(nil), prompt...)
	var out []int32
	for range steps {
		logits, err := m.Forward(seq)
		if err != nil {
			return nil, err
		}
		next := argmax(logits[len(logits)-1])
		out = append(out, next)
		seq = append(seq, next)
	}
	return out, nil
}
