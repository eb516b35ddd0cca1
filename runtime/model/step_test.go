package model

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
)

// TestStepMatchesReference decodes with the KV cache: prefill, then one
// token per step; the logits after the prompt match transformers and the
// greedy continuation is the reference's.
func TestStepMatchesReference(t *testing.T) {
	ref := openReference(t)
	for _, variant := range []struct{ prefix, dir string }{{"", "tiny-mistral"}, {"llama.", "tiny-llama"}} {
		m := loadTiny(t, variant.dir, nil)
		for p := 0; ref.Has(fmt.Sprintf("%sp%d.prompt", variant.prefix, p)); p++ {
			pre := fmt.Sprintf("%sp%d.", variant.prefix, p)
			t.Run(pre, func(t *testing.T) {
				start := time.Now()
				prompt := ref.Ints(t, pre+"prompt")
				want := ref.Ints(t, pre+"greedy")
				c, err := m.NewCache(32)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Finalize()
				next, logits, err := c.Step(prompt, Sampling{}, true)
				if err != nil {
					t.Fatal(err)
				}
				last, _ := ref.Floats(t, pre+"logits_last")
				if d, at := maxAbsDiff(logits, last); d > logitTol {
					t.Errorf("logits after the prompt: max |diff| %g at %d", d, at)
				}
				got := []int32{next}
				for len(got) < len(want) {
					next, _, err = c.Step([]int32{next}, Sampling{}, false)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, next)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("greedy %v, reference %v", got, want)
				}
				t.Logf("%d-token prompt + %d steps: %v", len(prompt), len(want), time.Since(start).Round(time.Millisecond))
			})
		}
	}
}

// TestStepChunks feeds one sequence in different chunkings (one token per
// step, a forced multi-token chunk mid-sequence, all at once) and checks
// that each step's logits agree with the whole-sequence forward pass.
func TestStepChunks(t *testing.T) {
	ref := openReference(t)
	m := loadTiny(t, "tiny-mistral", nil)
	seq := append(ref.Ints(t, "p0.prompt"), ref.Ints(t, "p0.greedy")...) // 26 tokens: window 8 slides
	full, err := m.Forward(seq)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunks := range [][]int{
		{26},
		{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{5, 3, 1, 7, 1, 9},
		{18, 1, 1, 1, 5},
	} {
		t.Run(fmt.Sprint(chunks), func(t *testing.T) {
			c, err := m.NewCache(30) // not a power of two: the last buckets must shrink
			if err != nil {
				t.Fatal(err)
			}
			defer c.Finalize()
			pos := 0
			for _, k := range chunks {
				next, logits, err := c.Step(seq[pos:pos+k], Sampling{}, true)
				if err != nil {
					t.Fatal(err)
				}
				pos += k
				if d, at := maxAbsDiff(logits, full[pos-1]); d > logitTol {
					t.Fatalf("after %d tokens: max |diff| %g at %d", pos, d, at)
				}
				if next != argmax(full[pos-1]) {
					t.Fatalf("after %d tokens: next %d, forward's argmax %d", pos, next, argmax(full[pos-1]))
				}
			}
			if _, _, err := c.Step(seq[:5], Sampling{}, false); err == nil {
				t.Error("overfilling the cache should fail")
			}
		})
	}
}

func TestSample(t *testing.T) {
	b := testBackend()
	exec, err := NewExec(b, func(logits, temperature, topP, state *Node) (*Node, *Node) {
		return sample(logits, temperature, topP, state)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	// Probabilities 0.1 0.2 0.3 0.4 0 at temperature 1.
	logits := []float32{ln(0.1), ln(0.2), ln(0.3), ln(0.4), -1e30}
	const draws = 1500
	for _, tc := range []struct {
		temperature, topP float32
		want              [5]float64 // expected frequencies
	}{
		{0, 1, [5]float64{0, 0, 0, 1, 0}},               // greedy
		{1, 1, [5]float64{0.1, 0.2, 0.3, 0.4, 0}},       // full distribution
		{1, 0.5, [5]float64{0, 0, 3.0 / 7, 4.0 / 7, 0}}, // nucleus {0.3, 0.4}
		{1, 0.35, [5]float64{0, 0, 0, 1, 0}},            // nucleus {0.4}
		{1e6, 1, [5]float64{0.25, 0.25, 0.25, 0.25, 0}}, // flat, never the -inf token
	} {
		state, err := RNGStateFromSeed(42)
		if err != nil {
			t.Fatal(err)
		}
		var counts [5]float64
		for range draws {
			outs, err := exec.Exec(logits, tc.temperature, tc.topP, state)
			if err != nil {
				t.Fatal(err)
			}
			counts[outs[0].Value().(int32)]++
			state = outs[1]
		}
		for i := range counts {
			// 1500 draws: a standard deviation of at most 0.013.
			if f := counts[i] / draws; abs(f-tc.want[i]) > 0.05 {
				t.Errorf("T=%g top-p=%g: token %d drawn %.3f of the time, want %.3f", tc.temperature, tc.topP, i, f, tc.want[i])
			}
		}
	}
}

// TestSampledDecodeIsSeeded: the same seed gives the same tokens.
func TestSampledDecodeIsSeeded(t *testing.T) {
	ref := openReference(t)
	m := loadTiny(t, "tiny-llama", nil)
	prompt := ref.Ints(t, "llama.p0.prompt")
	s := Sampling{Temperature: 1.5, TopP: 0.9, Seed: 7}
	a, err := m.Generate(prompt, 12, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.Generate(prompt, 12, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Seed = 8
	c, err := m.Generate(prompt, 12, s, 0)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) || len(a) != 12 {
		t.Errorf("same seed: %v vs %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Errorf("seeds 7 and 8 gave the same 12 tokens %v", a)
	}
	greedy, err := m.Generate(prompt, 8, Sampling{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := ref.Ints(t, "llama.p0.greedy"); fmt.Sprint(greedy) != fmt.Sprint(want) {
		t.Errorf("greedy Generate %v, reference %v", greedy, want)
	}
}

// TestGenerateStopsAtEOS makes the reference's third greedy token the EOS
// token: the pipelined loop (which enqueues a step before reading the
// token it feeds) must stop right after it, report it finished, and not
// count the step it dropped.
func TestGenerateStopsAtEOS(t *testing.T) {
	ref := openReference(t)
	prompt, want := ref.Ints(t, "p0.prompt"), ref.Ints(t, "p0.greedy")
	eos := want[2]
	if eos == want[0] || eos == want[1] {
		t.Skip("the fixture's greedy tokens repeat early")
	}
	m := loadTiny(t, "tiny-mistral", func(c *Config) { c.EOSTokenID = int(eos) })
	got, st, err := m.GenerateStats(prompt, 10, Sampling{}, 32, false)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want[:3]) || !st.Finished || st.Steps != 2 || st.Tokens != 3 {
		t.Errorf("got %v (finished %v, %d steps, %d tokens), want %v, finished, 2 steps", got, st.Finished, st.Steps, st.Tokens, want[:3])
	}
	// ignoring EOS it runs to the limit, one step per token after the first
	got, st, err = m.GenerateStats(prompt, 6, Sampling{}, 32, true)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want[:6]) || st.Steps != 5 {
		t.Errorf("ignoring EOS: got %v in %d steps, want %v in 5", got, st.Steps, want[:6])
	}
}

// TestStepShape checks the padding of token counts and the attended
// lengths, and that a whole constrained-style decode (a 30-token prompt,
// single tokens and forced chunks of 2–9 tokens up to 200 positions in a
// 256-position cache) needs few programs.
func TestStepShape(t *testing.T) {
	for _, c := range []struct{ len, max, count, n, keyLen int }{
		{0, 512, 300, 512, 512}, // prefill: the power of two above
		{300, 512, 1, 1, 512},   // one token
		{300, 512, 3, 16, 512},  // a forced chunk: padded to 16
		{300, 512, 20, 32, 512}, // a long chunk: the power of two above
		{500, 512, 3, 3, 512},   // padding would not fit: exact
		{0, 256, 30, 32, 64},    // attends at least a quarter of the cache
		{10, 256, 1, 1, 64},
		{70, 256, 1, 1, 128},
		{130, 256, 1, 1, 256},
		{0, 30, 5, 16, 16}, // cache not a power of two
		{20, 30, 1, 1, 30},
	} {
		cache := &Cache{Len: c.len, MaxLen: c.max}
		if n, k := cache.stepShape(c.count); n != c.n || k != c.keyLen {
			t.Errorf("%d of %d filled, %d tokens: padded %d attending %d, want %d and %d", c.len, c.max, c.count, n, k, c.n, c.keyLen)
		}
	}
	programs := map[[2]int]bool{}
	cache := &Cache{MaxLen: 256}
	for i, count := 0, 30; cache.Len+count <= 200; i++ {
		n, k := cache.stepShape(count)
		programs[[2]int{n, k}] = true
		cache.Len += count
		count = 1 + (i%5)*2*(i%2) // 1, 3, 1, 7, 1, 1, 1, 5, …
	}
	if len(programs) > 7 {
		t.Errorf("%d programs: %v", len(programs), programs)
	}
	t.Logf("%d programs: %v", len(programs), programs)
}

// TestCompileNotice: with Progress set and a zero CompileNotice, the
// first run of each step shape says before and after that it compiles; a
// repeated shape says nothing; without Progress nothing is written.
func TestCompileNotice(t *testing.T) {
	defer func(d time.Duration) { CompileNotice = d }(CompileNotice)
	CompileNotice = 0 // every first run counts as long
	ref := openReference(t)
	m := loadTiny(t, "tiny-mistral", nil)
	var log strings.Builder
	m.Progress = &log
	c, err := m.NewCache(32)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Finalize()
	prompt := ref.Ints(t, "p0.prompt")
	next, _, err := c.Step(prompt, Sampling{}, false) // first shape: the prompt's bucket
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // second shape (one token), then the same twice
		if next, _, err = c.Step([]int32{next}, Sampling{}, false); err != nil {
			t.Fatal(err)
		}
	}
	n, _ := (&Cache{MaxLen: 32}).stepShape(len(prompt)) // the prefill, from an empty cache
	want := []string{
		fmt.Sprintf("compiling the step program for %d tokens over 32 positions", n),
		fmt.Sprintf("step program for %d tokens over 32 positions compiled in", n),
		"compiling the step program for 1 tokens over 32 positions",
		"step program for 1 tokens over 32 positions compiled in",
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("progress:\n%s\nwant %d lines", log.String(), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want it to start with %q", i, lines[i], w)
		}
	}
}
