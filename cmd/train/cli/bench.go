package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"

	"github.com/schemac-dev/schemac/runtime/cuda"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/train"
)

// BenchResult is the JSON line -bench prints.
type BenchResult struct {
	Model      string  `json:"model"`
	Quant      string  `json:"quant"`
	Backend    string  `json:"backend"`
	Path       string  `json:"path"` // layered (recomputing) or one-program
	SaveInputs string  `json:"save_inputs,omitempty"`
	Batch      int     `json:"batch"`
	Seq        int     `json:"seq"`
	Accum      int     `json:"accum"`
	R          int     `json:"r,omitempty"`
	Trainable  int64   `json:"trainable"`
	Steps      int     `json:"steps"`        // timed steps
	FirstStepS float64 `json:"first_step_s"` // the untimed step (compilation included)
	StepS      float64 `json:"step_s"`       // mean of the timed steps
	TokensPS   float64 `json:"tokens_per_s"` // tokens of the timed steps over their time
	LossFirst  float64 `json:"loss_first"`
	LossLast   float64 `json:"loss_last"`

	// Device memory estimate (train.MemStats), bytes.
	PeakBytes     int64  `json:"peak_bytes"`
	Peak          string `json:"peak"` // PeakBytes in GiB or MiB
	ResidentBytes int64  `json:"resident_bytes"`
	BaseBytes     int64  `json:"base_bytes"`
	ParamsBytes   int64  `json:"params_bytes"`
	MomentsBytes  int64  `json:"moments_bytes"`
	StepBytes     int64  `json:"step_bytes"`    // the step's tensors held at the peak
	ProgramBytes  int64  `json:"program_bytes"` // the peak program's outputs, temporaries, code
	PeakProgram   string `json:"peak_program"`
	// MemorySource says where the program part comes from.
	MemorySource string                         `json:"memory_source"`
	Programs     map[string]train.ProgramMemory `json:"programs,omitempty"`

	// Measured on a CUDA GPU (XLA's allocator growing on demand, never
	// giving back): the device memory in use after the run minus before
	// the weights, i.e. the allocator's high-water mark, fragmentation
	// included; and the whole device's memory in use after the run, the
	// CUDA context included. Zero elsewhere.
	MeasuredPeakBytes int64  `json:"measured_peak_bytes,omitempty"`
	MeasuredPeak      string `json:"measured_peak,omitempty"`
	// -memory-limit: the cap the run fitted in (GB, 10⁹ bytes); 0 when not set.
	MemoryLimitGB   float64 `json:"memory_limit_gb,omitempty"`
	DeviceUsedBytes int64   `json:"device_used_bytes,omitempty"`
}

// newBenchBackend is the backend of -bench. With measure (-measure-memory)
// on XLA with a CUDA driver it asks XLA's allocator to grow on demand
// instead of reserving most of the GPU up front, so that the memory in use
// measures the run's peak, and returns the CUDA context to read it from;
// else (or when that fails, said on stderr) the usual backend and nil.
func newBenchBackend(name string, measure bool, sampled bool, limitGB float64, stderr io.Writer) (backends.Backend, *cuda.Context, error) {
	if name == "" {
		name = os.Getenv("GOMLX_BACKEND")
	}
	plugin, ok := strings.CutPrefix(name, "xla:")
	if limitGB > 0 {
		return cappedBackend(plugin, ok, limitGB, stderr)
	}
	flagName := "-measure-memory"
	if sampled {
		flagName = "-sample-memory"
	}
	if !measure || !ok || strings.Contains(plugin, "cpu") || cuda.Available() != nil {
		if measure {
			fmt.Fprintf(stderr, "train -bench: %s needs the XLA CUDA backend and the CUDA driver: not measured\n", flagName)
		}
		b, err := model.NewBackend(name)
		return b, nil, err
	}
	opts := pjrt.NamedValuesMap{"preallocate": false}
	if sampled {
		opts = pjrt.NamedValuesMap{"allocator": "platform"}
	}
	b, err := xla.NewWithOptions(plugin, opts)
	if err != nil {
		fmt.Fprintf(stderr, "train -bench: %s: %v: not measured\n", flagName, err)
		b, err := model.NewBackend(name)
		return b, nil, err
	}
	ctx, err := cuda.Open(0)
	if err != nil {
		fmt.Fprintf(stderr, "train -bench: %s: %v: not measured\n", flagName, err)
		return b, nil, nil
	}
	return b, ctx, nil
}

// cappedBackend is the backend of -memory-limit: XLA's allocator reserves
// limitGB·10⁹ bytes of the GPU up front and may not grow, so a step that
// needs more fails with XLA's out-of-memory error instead of running. The
// CUDA context and the libraries' own workspaces lie outside that pool.
func cappedBackend(plugin string, isXLA bool, limitGB float64, stderr io.Writer) (backends.Backend, *cuda.Context, error) {
	if !isXLA || strings.Contains(plugin, "cpu") {
		return nil, nil, usage("-memory-limit needs the XLA CUDA backend (-backend xla:/path/to/xla_cuda_plugin.so)")
	}
	if err := cuda.Available(); err != nil {
		return nil, nil, fmt.Errorf("-memory-limit: %w", err)
	}
	ctx, err := cuda.Open(0)
	if err != nil {
		return nil, nil, fmt.Errorf("-memory-limit: %w", err)
	}
	defer ctx.Close()
	_, total, err := ctx.MemInfo()
	if err != nil {
		return nil, nil, fmt.Errorf("-memory-limit: %w", err)
	}
	frac := limitGB * 1e9 / float64(total)
	if frac >= 1 {
		return nil, nil, usage("-memory-limit %g GB: the GPU has %.1f GB", limitGB, float64(total)/1e9)
	}
	b, err := xla.NewWithOptions(plugin, pjrt.NamedValuesMap{"preallocate": true, "memory_fraction": float32(frac)})
	if err != nil {
		return nil, nil, fmt.Errorf("-memory-limit: XLA backend with memory_fraction %.4f: %w", frac, err)
	}
	fmt.Fprintf(stderr, "train -bench: XLA's allocator capped at %.2f GB (memory_fraction %.4f of %.1f GB)\n", limitGB, frac, float64(total)/1e9)
	return b, nil, nil
}

// memSampler polls the device's memory in use from its own goroutine
// (-sample-memory) and keeps the maximum.
type memSampler struct {
	stop, done chan struct{}
	max        int64
	n          int
	err        error
}

func startSampler(ctx *cuda.Context) *memSampler {
	s := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			used, err := deviceUsed(ctx)
			if err != nil {
				s.err = err
				return
			}
			s.max, s.n = max(s.max, used), s.n+1
			select {
			case <-s.stop:
				return
			default:
				time.Sleep(20 * time.Microsecond)
			}
		}
	}()
	return s
}

// finish stops the sampler and returns the maximum and the sample count.
func (s *memSampler) finish() (int64, int, error) {
	close(s.stop)
	<-s.done
	return s.max, s.n, s.err
}

// deviceUsed is the memory in use on the context's GPU.
func deviceUsed(ctx *cuda.Context) (int64, error) {
	free, total, err := ctx.MemInfo()
	return int64(total) - int64(free), err
}

// bench runs -bench: one untimed step (it compiles the programs), then
// o.bench timed optimizer steps of o.accum micro-batches of o.batch random
// sequences of o.maxLen tokens (BOS, then token ids drawn uniformly), the
// loss over every token after BOS.
func bench(o *options, stdout, stderr io.Writer) error {
	switch {
	case o.batch <= 0 || o.accum <= 0 || o.maxLen < 2:
		return usage("-batch and -accum must be positive, -max-len at least 2")
	case o.maskLoss:
		return usage("-bench runs on random tokens: no -mask-loss")
	case o.resume || o.data != "" || o.mergeInto != "":
		return usage("-bench takes no -data, -resume or -merge-into")
	}
	dtype, quant, err := storage(o)
	if err != nil {
		return err
	}
	cfg, err := model.ConfigFor(o.modelName)
	if err != nil {
		return err
	}
	if o.memoryLimit > 0 && o.measureMemory {
		return usage("-memory-limit and -measure-memory exclude each other (one reserves the pool up front, the other lets it grow)")
	}
	if o.memoryLimit < 0 {
		return usage("-memory-limit must be positive (GB)")
	}
	if o.sampleMemory && (o.measureMemory || o.memoryLimit > 0) {
		return usage("-sample-memory excludes -measure-memory and -memory-limit")
	}
	backend, ctx, err := newBenchBackend(o.backend, o.measureMemory || o.sampleMemory, o.sampleMemory, o.memoryLimit, stderr)
	if err != nil {
		return err
	}
	defer backend.Finalize()
	var usedBefore int64
	if ctx != nil {
		if usedBefore, err = deviceUsed(ctx); err != nil {
			return err
		}
	}
	start := time.Now()
	base, err := loadBase(o, backend, cfg, dtype, quant)
	if err != nil {
		return err
	}
	defer base.Finalize()
	tr, err := train.New(backend, base, trainOptions(o, o.bench+1))
	if err != nil {
		return err
	}
	defer tr.Finalize()
	path := "layered"
	if o.oneProgram {
		path = "one-program"
	}
	fmt.Fprintf(stderr, "train -bench: %s (%s %s) on %s, %s step, %d trainable values, %d×%d sequences of %d tokens; weights ready in %v\n",
		o.modelName, dtype, quantLabel(quant), backend.Name(), path, tr.NumTrainable(), o.accum, o.batch, o.maxLen, time.Since(start).Round(time.Millisecond))

	r := rand.New(rand.NewPCG(uint64(o.seed), 0xbe7c))
	micro := func() []train.Batch {
		var out []train.Batch
		for range o.accum {
			seqs := make([]train.Sequence, o.batch)
			for i := range seqs {
				s := train.Sequence{Tokens: make([]int32, o.maxLen), Start: 1}
				s.Tokens[0] = int32(cfg.BOSTokenID)
				for j := 1; j < o.maxLen; j++ {
					s.Tokens[j] = int32(3 + r.IntN(cfg.VocabSize-3))
				}
				seqs[i] = s
			}
			out = append(out, train.MakeBatch(seqs, 1))
		}
		return out
	}
	res := BenchResult{Model: o.modelName, Quant: quantLabel(quant), Backend: backend.Name(), Path: path, Batch: o.batch, Seq: o.maxLen,
		Accum: o.accum, Trainable: tr.NumTrainable(), Steps: o.bench}
	if !o.full {
		res.R = o.r
		res.SaveInputs = o.saveInputs
		if !o.oneProgram && o.saveInputs == "" {
			res.SaveInputs = "auto"
		}
	}
	var timed time.Duration
	var sampler *memSampler
	tokens := 0
	for step := range o.bench + 1 {
		batches := micro()
		t0 := time.Now()
		sr, err := tr.TrainStep(batches)
		if err != nil {
			return oomHint(err)
		}
		d := time.Since(t0)
		fmt.Fprintf(stderr, "step %d/%d  loss %.4f  grad norm %.3f  %.3f s  %.0f tokens/s%s\n", step, o.bench, sr.Loss, sr.GradNorm,
			d.Seconds(), float64(sr.Tokens)/d.Seconds(), map[bool]string{true: "  (untimed: compiles)", false: ""}[step == 0])
		if step == 0 {
			res.FirstStepS, res.LossFirst = d.Seconds(), sr.Loss
			if ctx != nil && o.sampleMemory {
				sampler = startSampler(ctx)
			}
			continue
		}
		timed += d
		tokens += sr.Tokens
		res.LossLast = sr.Loss
	}
	res.StepS = timed.Seconds() / float64(o.bench)
	res.TokensPS = float64(tokens) / timed.Seconds()
	m := tr.MemStats()
	res.PeakBytes, res.Peak, res.ResidentBytes = m.Peak, gib(m.Peak), m.Resident
	res.BaseBytes, res.ParamsBytes, res.MomentsBytes = tr.ResidentParts()
	res.StepBytes, res.ProgramBytes, res.PeakProgram = m.PeakStep, m.PeakProgram, m.PeakName
	res.MemorySource = "resident and step tensors summed; per program XLA's compiled outputs-aliases+temporaries+code (PJRT GetCompiledMemoryStats)"
	if !m.Compiled {
		res.MemorySource = "resident and step tensors summed; per program only its outputs (this backend reports no compiled memory: temporaries missing)"
	}
	res.Programs = m.Programs
	fmt.Fprintf(stderr, "train -bench: %.0f tokens/s over %d steps (%.3f s a step); %s\n", res.TokensPS, o.bench, res.StepS, memLine(tr))
	if o.memoryLimit > 0 {
		res.MemoryLimitGB = o.memoryLimit
		fmt.Fprintf(stderr, "train -bench: every step ran within XLA's allocator capped at %.2f GB\n", o.memoryLimit)
	}
	if sampler != nil {
		peak, n, err := sampler.finish()
		if err != nil {
			return err
		}
		res.DeviceUsedBytes, res.MeasuredPeakBytes = peak, peak-usedBefore
		res.MeasuredPeak = gib(res.MeasuredPeakBytes)
		fmt.Fprintf(stderr, "train -bench: sampled peak %s (%.2f GB): the most device memory in use in %d samples during the timed steps, less the memory in use before the weights (XLA's platform allocator frees each buffer when it dies, so tokens/s here is not representative); %.2f GB at the peak, CUDA context included\n",
			res.MeasuredPeak, float64(res.MeasuredPeakBytes)/1e9, n, float64(peak)/1e9)
	} else if ctx != nil {
		used, err := deviceUsed(ctx)
		if err != nil {
			return err
		}
		res.DeviceUsedBytes, res.MeasuredPeakBytes = used, used-usedBefore
		res.MeasuredPeak = gib(res.MeasuredPeakBytes)
		fmt.Fprintf(stderr, "train -bench: measured peak %s (%.2f GB): XLA's allocator high-water mark; %.2f GB in use on the device, CUDA context included\n",
			res.MeasuredPeak, float64(res.MeasuredPeakBytes)/1e9, float64(used)/1e9)
	}
	text, err := json.Marshal(res)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, string(text))
	return nil
}
