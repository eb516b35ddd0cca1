// Command stepbench times the decode step of runtime/model on random
// weights of a named config: the synchronous step loop (median, min and
// p90 ms per step after a compiling first step) and the pipelined loop of
// Model.GenerateStats. Run it on a GPU machine with GOMLX_BACKEND set to
// the XLA CUDA plugin, e.g.
//
//	go run ./bench/stepbench -quant nf4 -adapter random:64 -steps 64 -runs 2 -skipprefill
//
// -adapter applies a PEFT adapter unmerged (for the 7B shapes, any r);
// -stack=false keeps one weight tensor per layer; -trivial also times an
// executable that does nothing with the same weight inputs (the per-call
// cost of the inputs).
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/default"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph"

	"github.com/schemac-dev/schemac/runtime/model"
)

func main() {
	name := flag.String("model", "random:mistral-7b", "")
	quant := flag.String("quant", "bf16", "bf16|nf4")
	prompt := flag.Int("prompt", 256, "")
	steps := flag.Int("steps", 64, "")
	runs := flag.Int("runs", 2, "")
	trivial := flag.Bool("trivial", false, "time trivial executables with the weights as inputs")
	skip := flag.Bool("skipprefill", false, "no prefill program: mark the (zero) cache as filled")
	stack := flag.Bool("stack", true, "stack the weights per kind")
	adapter := flag.String("adapter", "", "PEFT adapter directory or random:R, applied unmerged")
	dq := flag.Bool("double-quant", false, "double-quantize the NF4 absmax values")
	pipe := flag.Bool("pipe", true, "also time the pipelined GenerateStats loop")
	flag.Parse()
	t0 := time.Now()
	be, err := model.NewBackend("") // $GOMLX_BACKEND; simplego with unlimited parallelism
	check(err)
	fmt.Println("backend:", be.Name(), time.Since(t0).Round(time.Millisecond))
	cfg, err := model.NamedConfig(*name)
	check(err)
	q := model.Dense
	if *quant == "nf4" {
		q = model.NF4
	}
	t0 = time.Now()
	w, err := model.RandomWeights(be, cfg, dtypes.BFloat16, q, 1, 0.02)
	check(err)
	fmt.Printf("weights %s: %.2f GB, %d tensors, %v\n", *quant, float64(w.Bytes())/1e9, len(w.Tensors), time.Since(t0).Round(time.Millisecond))
	if *trivial {
		timeTrivial(be, w)
	}
	if *dq {
		check(w.DoubleQuantize(be))
		fmt.Printf("double-quantized: %.2f GB\n", float64(w.Bytes())/1e9)
	}
	if *adapter != "" {
		var a *model.Adapter
		if r, ok := strings.CutPrefix(*adapter, "random:"); ok {
			rank, err := strconv.Atoi(r)
			check(err)
			a, err = model.RandomAdapter(cfg, rank, 1)
			check(err)
		} else {
			a, err = model.ReadAdapter(*adapter, cfg)
			check(err)
		}
		check(w.AddLoRA(be, a, false))
		fmt.Printf("adapter: r=%d, %d modules, %.2f GB total\n", a.R, len(a.Modules()), float64(w.Bytes())/1e9)
	}
	if *stack {
		t0 = time.Now()
		check(w.Stack(be))
		fmt.Printf("stacked: %d tensors, %v\n", len(w.Tensors), time.Since(t0).Round(time.Millisecond))
	}
	m, err := model.New(be, w)
	check(err)
	p := make([]int32, *prompt)
	for i := range p {
		p[i] = int32(1000 + (i*7919)%20000)
	}
	maxLen := 1
	for maxLen < *prompt+*steps {
		maxLen *= 2
	}
	for run := 0; run < *runs; run++ {
		c, err := m.NewCache(maxLen)
		check(err)
		t0 = time.Now()
		var next int32 = 1
		if *skip {
			c.Len = *prompt
		} else {
			next, _, err = c.Step(p, model.Sampling{}, false)
			check(err)
		}
		pre := time.Since(t0)
		var per []float64
		var toks []int32
		if run == 0 && *skip {
			ts := time.Now()
			next, _, err = c.Step([]int32{next}, model.Sampling{}, false)
			check(err)
			fmt.Printf("first step (compile) %v\n", time.Since(ts).Round(time.Millisecond))
		}
		t1 := time.Now()
		for i := 0; i < *steps; i++ {
			ts := time.Now()
			next, _, err = c.Step([]int32{next}, model.Sampling{}, false)
			check(err)
			per = append(per, float64(time.Since(ts).Microseconds())/1000)
			if len(toks) < 10 {
				toks = append(toks, next)
			}
		}
		d := time.Since(t1)
		slices.Sort(per)
		fmt.Printf("RESULT %s run %d: prefill %d tok %.1f ms; %d steps: median %.3f ms/step (min %.3f, p90 %.3f) = %.1f tok/s; mean %.1f tok/s\n",
			*quant, run, *prompt, float64(pre.Microseconds())/1000, *steps, per[len(per)/2], per[0], per[len(per)*9/10],
			1000/per[len(per)/2], float64(*steps)/d.Seconds())
		fmt.Println("tokens", toks)
		c.Finalize()
	}
	if *pipe {
		for run := 0; run < *runs; run++ {
			out, st, err := m.GenerateStats(p, *steps+1, model.Sampling{}, maxLen, true)
			check(err)
			fmt.Printf("RESULT %s pipelined run %d: prefill %.1f ms; %d steps in %.1f ms = %.3f ms/step = %.1f tok/s; tokens %v\n", *quant, run,
				float64(st.Prefill.Microseconds())/1000, st.Steps, float64(st.Decode.Microseconds())/1000,
				float64(st.Decode.Microseconds())/1000/float64(st.Steps), float64(st.Steps)/st.Decode.Seconds(), out[:min(len(out), 6)])
		}
	}
}

func timeTrivial(be backends.Backend, w *model.Weights) {
	nw := len(w.Tensors)
	for _, withW := range []bool{false, true} {
		exec, err := NewExec(be, func(inputs []*Node) *Node { return AddScalar(inputs[len(inputs)-1], 1) })
		check(err)
		var args []any
		if withW {
			for _, t := range w.Tensors {
				args = append(args, t)
			}
		}
		x := float32(1)
		var per []float64
		for i := 0; i < 60; i++ {
			a := append(slices.Clone(args), x)
			ts := time.Now()
			out, err := exec.Exec1(a...)
			check(err)
			out.FinalizeAll()
			if i >= 10 {
				per = append(per, float64(time.Since(ts).Microseconds()))
			}
		}
		slices.Sort(per)
		n := 1
		if withW {
			n += nw
		}
		fmt.Printf("RESULT trivial exec with %d inputs: median %.0f µs/call (min %.0f)\n", n, per[len(per)/2], per[0])
		exec.Finalize()
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
