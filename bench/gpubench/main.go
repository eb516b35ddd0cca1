// Command gpubench checks and times package gpudecode's CUDA decode
// engine on random weights of a named config, on a GPU machine with
// GOMLX_BACKEND set to the XLA CUDA plugin:
//
//	go run ./bench/gpubench -model random:mistral-7b -quant nf4 -adapter random:64
//
// With -check it first runs the same prompt through the model's XLA step
// program and compares the last position's logits and a greedy
// continuation (for NF4 7B that program takes minutes to compile: check
// on random:tiny). Then it times the engine: the prompt (chunks of 16),
// the per-token loop (wall time per token, host work included) and the
// recorded step graph replayed alone (device time).
package main

import (
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/gomlx/gomlx/backends/default"
	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/runtime/gpudecode"
	"github.com/schemac-dev/schemac/runtime/model"
)

func main() {
	name := flag.String("model", "random:mistral-7b", "named config")
	quant := flag.String("quant", "bf16", "bf16|nf4")
	promptLen := flag.Int("prompt", 300, "prompt tokens")
	steps := flag.Int("steps", 128, "tokens to generate")
	adapter := flag.String("adapter", "", "random:R: a random LoRA adapter of rank R, unmerged")
	check := flag.Bool("check", false, "compare with the XLA step program first")
	std := flag.Float64("std", 0.02, "standard deviation of the random weights")
	nf4Rows := flag.Int("nf4-rows", gpudecode.NF4Rows, "rows per warp of the one-token NF4 kernel")
	bf16Rows := flag.Int("bf16-rows", gpudecode.BF16Rows, "rows per warp of the one-token bf16 kernel")
	profile := flag.Bool("profile", false, "time each kernel of a one-token step")
	fuseNorm := flag.Bool("fuse-norm", gpudecode.FuseNorm, "LoRA A products inside the RMSNorm launch")
	chunkMMA := flag.Bool("chunk-mma", gpudecode.ChunkMMA, "multi-token steps on tensor cores")
	nf4Decode := flag.String("nf4-decode", gpudecode.NF4Decode, "NF4 byte decoding of the one-token product: lut, lutw, prmt or mix")
	nf4Threads := flag.Int("nf4-threads", gpudecode.NF4Threads, "most threads per block of the one-token NF4 product")
	earlyLoRA := flag.Bool("early-lora", gpudecode.EarlyLoRA, "one-token products load their LoRA operands while the weights stream")
	mmaTiles := flag.Int("mma-tiles", gpudecode.MMATiles, "8-row tiles per warp of the tensor-core products")
	mmaFrom := flag.Int("mma-from", gpudecode.MMAFrom, "narrowest step (4 or 16 tokens) on tensor cores")
	early := flag.Bool("early", gpudecode.EarlyLaunch, "programmatic dependent launch of a step's kernels")
	flag.Parse()
	gpudecode.NF4Rows, gpudecode.BF16Rows, gpudecode.FuseNorm, gpudecode.NF4Decode = *nf4Rows, *bf16Rows, *fuseNorm, *nf4Decode
	gpudecode.MMATiles, gpudecode.MMAFrom = *mmaTiles, *mmaFrom
	gpudecode.ChunkMMA, gpudecode.EarlyLaunch, gpudecode.NF4Threads, gpudecode.EarlyLoRA = *chunkMMA, *early, *nf4Threads, *earlyLoRA
	be, err := model.NewBackend("")
	must(err)
	cfg, err := model.NamedConfig(*name)
	must(err)
	q := model.Dense
	if *quant == "nf4" {
		q = model.NF4
	}
	t0 := time.Now()
	w, err := model.RandomWeights(be, cfg, dtypes.BFloat16, q, 1, *std)
	must(err)
	if r, ok := strings.CutPrefix(*adapter, "random:"); ok {
		rank, err := strconv.Atoi(r)
		must(err)
		a, err := model.RandomAdapter(cfg, rank, 1)
		must(err)
		must(w.AddLoRA(be, a, false))
	}
	must(w.Stack(be))
	fmt.Printf("weights %s%s: %.2f GB, %v\n", *quant, *adapter, float64(w.Bytes())/1e9, time.Since(t0).Round(time.Millisecond))
	m, err := model.New(be, w)
	must(err)
	prompt := make([]int32, *promptLen)
	for i := range prompt {
		prompt[i] = int32(1000 + (i*7919)%(cfg.VocabSize-1000))
	}
	maxLen := 1
	for maxLen < *promptLen+*steps+1 {
		maxLen *= 2
	}
	const cont = 12
	var xlaLogits []float32
	var xlaToks []int32
	if *check {
		t0 = time.Now()
		c, err := m.NewCache(maxLen)
		must(err)
		tok, lg, err := c.Step(prompt, model.Sampling{}, true)
		must(err)
		xlaLogits = lg
		xlaToks = append(xlaToks, tok)
		for len(xlaToks) < cont {
			tok, _, err = c.Step([]int32{tok}, model.Sampling{}, false)
			must(err)
			xlaToks = append(xlaToks, tok)
		}
		c.Finalize()
		fmt.Printf("XLA reference: %v (%v)\n", xlaToks, time.Since(t0).Round(time.Millisecond))
	}
	t0 = time.Now()
	e, err := gpudecode.New(m, maxLen)
	must(err)
	defer e.Close()
	fmt.Printf("engine ready (compile + record): %v\n", time.Since(t0).Round(time.Millisecond))
	logits := make([]float32, cfg.VocabSize)
	t0 = time.Now()
	tok, err := e.Step(prompt, 0, -1, true, logits)
	must(err)
	prefill := time.Since(t0)
	toks := []int32{tok}
	pos := len(prompt)
	var per []float64
	tDecode := time.Now()
	for len(toks) < *steps {
		ts := time.Now()
		tok, err = e.Step([]int32{tok}, pos, -1, true, nil)
		must(err)
		per = append(per, float64(time.Since(ts).Microseconds())/1000)
		pos++
		toks = append(toks, tok)
	}
	decode := time.Since(tDecode)
	// a digest of the greedy tokens and the prompt's last logits: variants
	// that only reorder work must print the same one
	hash := fnv.New64a()
	for _, t := range toks {
		hash.Write([]byte{byte(t), byte(t >> 8)})
	}
	sum := 0.0
	for _, l := range logits {
		sum += math.Abs(float64(l))
	}
	fmt.Printf("OUTPUT tokens %016x, first tokens %v, prompt's Σ|logit| %.6g\n", hash.Sum64(), toks[:min(8, len(toks))], sum)
	if *check {
		diff, at := 0.0, 0
		scale := 0.0
		for i := range logits {
			if d := math.Abs(float64(logits[i] - xlaLogits[i])); d > diff {
				diff, at = d, i
			}
			scale = math.Max(scale, math.Abs(float64(xlaLogits[i])))
		}
		same := 0
		for i := range min(cont, len(toks)) {
			if toks[i] != xlaToks[i] {
				break
			}
			same++
		}
		fmt.Printf("CHECK engine vs XLA: max |Δlogit| %.4g at %d (max |logit| %.3g); greedy tokens equal for %d of %d: %v\n",
			diff, at, scale, same, cont, toks[:min(cont, len(toks))])
	}
	graph1, err := e.TimeGraph(1, 50)
	must(err)
	// multi-token steps (jump-forward chunks, the prompt) at the end of the
	// cache: the median of 5 of each width, rewriting the same positions
	chunk := map[int]float64{}
	for _, w := range []int{4, 16} {
		if pos+w > maxLen {
			continue
		}
		var ts []float64
		for range 5 {
			t0 := time.Now()
			_, err := e.Step(prompt[:w], pos, -1, true, nil)
			must(err)
			ts = append(ts, float64(time.Since(t0).Microseconds())/1000)
		}
		slices.Sort(ts)
		chunk[w] = ts[2]
	}
	slices.Sort(per)
	fmt.Printf("RESULT engine %s%s %s: prefill %d tokens %.1f ms; %d tokens: median %.3f ms/token (p10 %.3f, p90 %.3f), mean %.1f tok/s; one-token graph alone %.3f ms; a 4-token step %.3f ms, a 16-token step %.3f ms\n",
		*quant, *adapter, *name, *promptLen, float64(prefill.Microseconds())/1000, len(per), per[len(per)/2], per[len(per)/10], per[len(per)*9/10],
		float64(len(per))/decode.Seconds(), graph1, chunk[4], chunk[16])
	if *profile {
		ms, count, err := e.Profile(1)
		must(err)
		var labels []string
		total := 0.0
		for l, v := range ms {
			labels = append(labels, l)
			total += v
		}
		slices.SortFunc(labels, func(a, b string) int { return int(1e6 * (ms[b] - ms[a])) })
		fmt.Printf("PROFILE one-token step as separate launches: %.3f ms\n", total)
		for _, l := range labels {
			res := ""
			if f := strings.Fields(l); len(f) >= 2 {
				threads, _ := strconv.Atoi(strings.TrimPrefix(f[len(f)-1], "@"))
				if regs, local, blocks, err := e.Resources(f[0], threads); err == nil {
					res = fmt.Sprintf("  %3d regs, %d B local, %d blocks/SM", regs, local, blocks)
				}
			}
			fmt.Printf("  %-34s %4d launches %8.3f ms %7.2f us each%s\n", l, count[l], ms[l], 1000*ms[l]/float64(count[l]), res)
		}
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpubench:", err)
		os.Exit(1)
	}
}
