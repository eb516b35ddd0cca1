// Package gpudecode is schemac's CUDA decode engine: the decode step of a
// Mistral/Llama model as hand-written kernels (kernels.cu, compiled at run
// time by NVRTC), recorded once as a CUDA graph and replayed per token.
//
// It works on the weights a model.Model already holds on the GPU through
// GoMLX's XLA backend (their device addresses, no copies), so XLA still
// loads, quantizes and stacks the weights, runs training and the CPU tests,
// and this package only replaces the per-token step: one graph launch and
// one 4-byte read per token instead of an XLA program whose matrix-vector
// products cannot read NF4 weights at memory speed.
//
// Supported: bf16 dense or NF4 projections (absmax in float32, or
// double-quantized: decoded once at start into fp16 copies), bf16 LoRA
// factors applied unmerged, bf16 embedding and LM head, float32 norms;
// greedy decoding and sampling with a temperature and top-p on the device
// (DeviceSampling), with the schema mask applied first. Options are
// package variables (measured defaults; see the README), also settable by
// name in the environment (OptionsEnv).
package gpudecode

import (
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/cuda"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/nf4"
)

//go:embed kernels.cu
var kernelSource string

// MaxChunk is the most tokens one step feeds (prompt and jump-forward
// chunks are split into steps of at most this many).
const MaxChunk = 16

// Rows per block of the one-token matrix-vector kernels (compile-time
// options of kernels.cu; 4 measured best for NF4 on an H100).
var (
	NF4Rows  = 4
	BF16Rows = 4
)

// widths are the token counts of the recorded steps: a step of n tokens
// runs the narrowest that holds n. Rows per block of the multi-token
// kernels are fixed in kernels.cu (and in products).
var widths = [3]int{1, 4, MaxChunk}

// graphFor is the index in widths of the narrowest step for n tokens.
func graphFor(n int) int {
	for i, w := range widths {
		if n <= w {
			return i
		}
	}
	return len(widths) - 1
}

// kspan is KSPAN of kernels.cu: cached keys per block of attn_part.
const kspan = 64

// params mirrors struct Params of kernels.cu.
type params struct {
	Rows        uint64 // mask rows [R, ⌈V/8⌉] (0: none)
	Pos         int32
	N           int32
	Row         int32
	EOSOK       int32
	EOS         int32
	Next        int32
	Temperature float32 // 0: greedy
	TopP        float32
	Tokens      [MaxChunk]int32
	Seed        uint64
}

// DeviceSampling makes the engine draw tokens with a temperature on the
// GPU (sample_masked in kernels.cu: top-p by bisection on the weight
// threshold, splitmix64 of the seed and the position), so a sampled step
// copies 4 bytes instead of the logits and skips the host sampler (0.6–0.8
// ms per token on a 2-core machine). TestEngineSampling passed on an H100:
// the frequencies of 2000 draws match the nucleus probabilities. Its speed
// has not been timed (the benches decode greedily).
var DeviceSampling = true

const paramsSize = int(unsafe.Sizeof(params{}))

// proj is one projection of a layer on the device.
type proj struct {
	rows, in int
	w        cuda.Ptr // bf16 [rows, in], or NF4 packed [rows·in/2]
	absmax   cuda.Ptr // NF4 only: what the kernels read, float32 or (Absmax16) fp16 [rows·in/64]
	// NF4: where the absmax values come from, float32 [rows·in/64] or
	// double-quantized (int8 values, a float32 scale per 256 and their
	// float32 mean; New then writes fp16 copies for the kernels)
	absF32, absQ, absScale, absMean cuda.Ptr
	a, b                            cuda.Ptr // LoRA factors bf16 [r, in] and [rows, r] (0: none)
}

type layer struct {
	ln1, ln2               cuda.Ptr
	q, k, v, o, gate, up   proj
	down                   proj
	cache                  cuda.Ptr // bf16 [2, KV, S, hd]
	tq, tk, tv, to, tg, tu cuda.Ptr
	td                     cuda.Ptr
}

// Engine runs decode steps of one model on its GPU. It holds one KV
// cache of MaxLen positions, so it decodes one sequence at a time.
type Engine struct {
	Model  *model.Model
	MaxLen int
	cfg    *model.Config
	nf4    bool
	half   bool // fp16 absmax copies: Absmax16, or double-quantized NF4
	early  bool // EarlyLaunch, on a GPU that has it
	rank   int
	scale  float32

	ctx    *cuda.Context
	stream *cuda.Stream
	mod    *cuda.Module
	fn     map[string]*cuda.Func
	graphs [len(widths)]*cuda.Graph // one step per width

	embed, norm, head cuda.Ptr
	layers            []layer

	// per-step buffers
	p, x, xn, q, k, v, ao, g, u, h, last, logits cuda.Ptr
	pm, pl, po                                   cuda.Ptr // attention spans' partial results
	allocs                                       []cuda.Ptr
	host                                         []byte // page-locked: params, then the next token
	maskPtr                                      cuda.Ptr
	maskFrom                                     *tensors.Tensor
	prof                                         *profile // while Profile runs
}

// devicePtr is the device address of a tensor held by the XLA backend.
func devicePtr(m *model.Model, t *tensors.Tensor, name string) (cuda.Ptr, error) {
	buf, err := t.Buffer(m.Backend, 0)
	if err != nil {
		return 0, fmt.Errorf("gpudecode: %s: %w", name, err)
	}
	pb, ok := buf.(*pjrt.Buffer)
	if !ok {
		return 0, fmt.Errorf("gpudecode: %s is not held by the XLA backend (backend %s): the CUDA engine needs GOMLX_BACKEND=xla:<CUDA plugin>", name, m.Backend.Name())
	}
	p, err := pb.UnsafePointer()
	if err != nil {
		return 0, fmt.Errorf("gpudecode: device address of %s: %w", name, err)
	}
	return cuda.Ptr(uintptr(p)), nil
}

// weightPtr finds a weight by its per-layer name, in per-layer or stacked
// weights, and checks its dtype and element count.
func (e *Engine) weightPtr(name string, dt dtypes.DType, elems int) (cuda.Ptr, error) {
	w := e.Model.Weights
	for i, n := range w.Names {
		if n == name {
			t := w.Tensors[i]
			if t.DType() != dt || t.Shape().Size() != elems {
				return 0, fmt.Errorf("gpudecode: %s is %s, the engine needs %s with %d elements", name, t.Shape(), dt, elems)
			}
			return devicePtr(e.Model, t, name)
		}
	}
	// stacked: model.layers.*.REST holds every layer along axis 0
	var li int
	var rest string
	if _, err := fmt.Sscanf(name, "model.layers.%d.%s", &li, &rest); err == nil {
		sname := "model.layers.*." + rest
		for i, n := range w.Names {
			if n == sname {
				t := w.Tensors[i]
				if t.DType() != dt || t.Shape().Size() != elems*e.cfg.NumLayers {
					return 0, fmt.Errorf("gpudecode: %s is %s, the engine needs %s with %d elements per layer", sname, t.Shape(), dt, elems)
				}
				p, err := devicePtr(e.Model, t, sname)
				return p.Add(int64(li) * int64(elems) * int64(dt.Size())), err
			}
		}
	}
	return 0, fmt.Errorf("gpudecode: weight %s not found", name)
}

func (e *Engine) has(name string) bool {
	var li int
	var rest string
	stacked := ""
	if _, err := fmt.Sscanf(name, "model.layers.%d.%s", &li, &rest); err == nil {
		stacked = "model.layers.*." + rest
	}
	for _, n := range e.Model.Weights.Names {
		if n == name || n == stacked {
			return true
		}
	}
	return false
}

func (e *Engine) projection(module string, rows, in int) (proj, error) {
	p := proj{rows: rows, in: in}
	var err error
	if e.nf4 {
		if p.w, err = e.weightPtr(module+".weight"+model.NF4Packed, dtypes.Uint8, rows*in/2); err != nil {
			return p, err
		}
		n := rows * in / 64
		if !e.has(module + ".weight" + model.NF4AbsmaxQ) {
			if p.absF32, err = e.weightPtr(module+".weight"+model.NF4Absmax, dtypes.Float32, n); err != nil {
				return p, err
			}
		} else {
			base := module + ".weight"
			if p.absQ, err = e.weightPtr(base+model.NF4AbsmaxQ, dtypes.Int8, n); err != nil {
				return p, err
			}
			if p.absScale, err = e.weightPtr(base+model.NF4AbsmaxScale, dtypes.Float32, (n+nf4.DoubleBlockSize-1)/nf4.DoubleBlockSize); err != nil {
				return p, err
			}
			if p.absMean, err = e.weightPtr(base+model.NF4AbsmaxMean, dtypes.Float32, 1); err != nil {
				return p, err
			}
		}
		p.absmax = p.absF32
		if e.half {
			if p.absmax, err = e.alloc(2 * int64(n)); err != nil {
				return p, err
			}
		}
	} else if p.w, err = e.weightPtr(module+".weight", dtypes.BFloat16, rows*in); err != nil {
		return p, err
	}
	if e.has(module + model.LoRAA) {
		if p.a, err = e.weightPtr(module+model.LoRAA, dtypes.BFloat16, e.rank*in); err != nil {
			return p, err
		}
		if p.b, err = e.weightPtr(module+model.LoRAB, dtypes.BFloat16, rows*e.rank); err != nil {
			return p, err
		}
	}
	return p, nil
}

// New prepares the engine for a model whose weights the XLA CUDA backend
// holds, with a KV cache of maxLen positions. It compiles the kernels
// (about a second) and records the step graphs. Options in the
// environment variable OptionsEnv are applied first.
func New(m *model.Model, maxLen int) (*Engine, error) {
	if err := OptionsFromEnv(); err != nil {
		return nil, err
	}
	cfg := m.Config
	w := m.Weights
	e := &Engine{Model: m, MaxLen: maxLen, cfg: cfg, nf4: w.Quant == model.NF4, fn: map[string]*cuda.Func{}}
	if maxLen <= 0 || maxLen > cfg.MaxPositionEmbeddings {
		return nil, fmt.Errorf("gpudecode: cache length %d: must be in 1..%d", maxLen, cfg.MaxPositionEmbeddings)
	}
	if w.DType != dtypes.BFloat16 {
		return nil, fmt.Errorf("gpudecode: weights are %s: the CUDA engine needs bfloat16 (-quant bf16 or nf4)", w.DType)
	}
	if NF4Decode != "lut" && NF4Decode != "lutw" && NF4Decode != "prmt" && NF4Decode != "mix" {
		return nil, fmt.Errorf("gpudecode: NF4Decode %q: lut, lutw, prmt or mix", NF4Decode)
	}
	if MMATiles < 1 || MMATiles > 8 {
		return nil, fmt.Errorf("gpudecode: MMATiles %d: 1..8", MMATiles)
	}
	if NF4Threads < 32 || NF4Threads > 1024 || NF4Threads%32 != 0 {
		return nil, fmt.Errorf("gpudecode: NF4Threads %d: a multiple of 32 in 32..1024", NF4Threads)
	}
	if NF4MinBlocks < 1 || NF4MinBlocks*NF4Threads > 2048 {
		return nil, fmt.Errorf("gpudecode: NF4MinBlocks %d: 1..%d blocks of NF4Threads %d threads", NF4MinBlocks, 2048/NF4Threads, NF4Threads)
	}
	if cfg.HeadDim%2 != 0 || cfg.HeadDim > 256 || cfg.NumHeads%cfg.NumKVHeads != 0 {
		return nil, fmt.Errorf("gpudecode: head dim %d / heads %d / KV heads %d not supported", cfg.HeadDim, cfg.NumHeads, cfg.NumKVHeads)
	}
	for _, d := range []int{cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHeads * cfg.HeadDim} {
		if d%64 != 0 {
			return nil, fmt.Errorf("gpudecode: width %d is not a multiple of 64", d)
		}
	}
	// LoRA rank from any A factor
	for i, n := range w.Names {
		if len(n) > len(model.LoRAA) && n[len(n)-len(model.LoRAA):] == model.LoRAA {
			dims := w.Tensors[i].Shape().Dimensions
			e.rank = dims[len(dims)-2]
			e.scale = float32(w.LoRAScale)
			break
		}
	}
	if e.rank > 256 {
		return nil, fmt.Errorf("gpudecode: LoRA rank %d: at most 256", e.rank)
	}
	e.half = e.nf4 && (Absmax16 || e.has("model.layers.0.self_attn.q_proj.weight"+model.NF4AbsmaxQ))
	if LoRAThreads < 32 || LoRAThreads > 1024 || LoRAThreads%32 != 0 {
		return nil, fmt.Errorf("gpudecode: LoRAThreads %d: want a multiple of 32 from 32 to 1024", LoRAThreads)
	}
	var err error
	if e.embed, err = e.weightPtr("model.embed_tokens.weight", dtypes.BFloat16, cfg.VocabSize*cfg.HiddenSize); err != nil {
		return nil, err
	}
	if e.ctx, err = cuda.ContextOf(e.embed); err != nil {
		return nil, err
	}
	if err := e.ctx.Synchronize(); err != nil { // XLA may still be writing the weights
		e.Close()
		return nil, err
	}
	if e.norm, err = e.weightPtr("model.norm.weight", dtypes.Float32, cfg.HiddenSize); err != nil {
		e.Close()
		return nil, err
	}
	if cfg.TieWordEmbeddings {
		e.head = e.embed
	} else if e.head, err = e.weightPtr("lm_head.weight", dtypes.BFloat16, cfg.VocabSize*cfg.HiddenSize); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.allocate(); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.compile(); err != nil {
		e.Close()
		return nil, err
	}
	if err := e.halveAbsmax(); err != nil {
		e.Close()
		return nil, err
	}
	if EarlyLaunch {
		arch, err := e.ctx.Arch()
		if err != nil {
			e.Close()
			return nil, err
		}
		cc, _ := strconv.Atoi(strings.TrimPrefix(arch, "sm_"))
		e.early = cc >= 90
	}
	if err := e.record(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Absmax16 makes the engine keep its own fp16 copy of the NF4 absmax
// values (rounded once at start, 2 bytes per 64 weights instead of 4),
// as it always does for double-quantized weights (the copy holds their
// dequantized values). Off: measured slower on an H100 (7B NF4 + LoRA r
// 64, gpubench) despite the 6% fewer bytes, 3.925 against 3.749 ms/token
// (3.791 against 3.679 with NF4MinBlocks 4), the same tokens.
var Absmax16 = false

// halveAbsmax writes the fp16 absmax copies of Absmax16 (absmax_half in
// kernels.cu), then waits for them.
func (e *Engine) halveAbsmax() error {
	if !e.half {
		return nil
	}
	return e.setUp(func(s *cuda.Stream) error {
		for _, ly := range e.layers {
			for _, p := range []proj{ly.q, ly.k, ly.v, ly.o, ly.gate, ly.up, ly.down} {
				n := p.rows * p.in / 64
				if err := s.Launch(e.fn["absmax_half"], cuda.D1((n+255)/256), cuda.D1(256), 0,
					p.absF32, p.absQ, p.absScale, p.absMean, p.absmax, n); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// setUp runs queue's work on a stream of its own (the step's stream is
// made by record) and waits for it.
func (e *Engine) setUp(queue func(*cuda.Stream) error) error {
	s, err := e.ctx.NewStream()
	if err != nil {
		return err
	}
	defer s.Destroy()
	if err := queue(s); err != nil {
		return err
	}
	return s.Synchronize()
}

func (e *Engine) alloc(n int64) (cuda.Ptr, error) {
	p, err := e.ctx.Alloc(n)
	if err == nil {
		e.allocs = append(e.allocs, p)
	}
	return p, err
}

// allocate finds the layers' weights and allocates the cache and the
// step's buffers.
func (e *Engine) allocate() error {
	cfg := e.cfg
	D, I, Q, KV := cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHeads*cfg.HeadDim, cfg.NumKVHeads*cfg.HeadDim
	M := int64(MaxChunk)
	var err error
	for _, b := range []struct {
		p *cuda.Ptr
		n int64
	}{
		{&e.p, int64(paramsSize)},
		{&e.x, 4 * M * int64(D)}, {&e.xn, 2 * M * int64(max(D, Q))}, {&e.q, 4 * M * int64(Q)},
		{&e.k, 4 * M * int64(KV)}, {&e.v, 4 * M * int64(KV)}, {&e.ao, 2 * M * int64(Q)},
		{&e.g, 4 * M * int64(I)}, {&e.u, 4 * M * int64(I)}, {&e.h, 2 * M * int64(I)},
		{&e.last, 2 * int64(D)}, {&e.logits, 4 * int64(cfg.VocabSize)},
		{&e.pm, 4 * M * int64(cfg.NumHeads*e.spans())}, {&e.pl, 4 * M * int64(cfg.NumHeads*e.spans())},
		{&e.po, 4 * M * int64(cfg.NumHeads*e.spans()*cfg.HeadDim)},
	} {
		if *b.p, err = e.alloc(b.n); err != nil {
			return err
		}
	}
	if e.host, err = e.ctx.HostAlloc(paramsSize + 8); err != nil {
		return err
	}
	cacheBytes := int64(2*cfg.NumKVHeads*e.MaxLen*cfg.HeadDim) * 2
	for l := range cfg.NumLayers {
		p := fmt.Sprintf("model.layers.%d.", l)
		var ly layer
		if ly.ln1, err = e.weightPtr(p+"input_layernorm.weight", dtypes.Float32, D); err != nil {
			return err
		}
		if ly.ln2, err = e.weightPtr(p+"post_attention_layernorm.weight", dtypes.Float32, D); err != nil {
			return err
		}
		for _, pr := range []struct {
			dst      *proj
			name     string
			rows, in int
			t        *cuda.Ptr
		}{
			{&ly.q, "self_attn.q_proj", Q, D, &ly.tq}, {&ly.k, "self_attn.k_proj", KV, D, &ly.tk},
			{&ly.v, "self_attn.v_proj", KV, D, &ly.tv}, {&ly.o, "self_attn.o_proj", D, Q, &ly.to},
			{&ly.gate, "mlp.gate_proj", I, D, &ly.tg}, {&ly.up, "mlp.up_proj", I, D, &ly.tu},
			{&ly.down, "mlp.down_proj", D, I, &ly.td},
		} {
			if *pr.dst, err = e.projection(p+pr.name, pr.rows, pr.in); err != nil {
				return err
			}
			if pr.dst.a != 0 {
				if *pr.t, err = e.alloc(4 * M * int64(e.rank)); err != nil {
					return err
				}
			}
		}
		if ly.cache, err = e.alloc(cacheBytes); err != nil {
			return fmt.Errorf("gpudecode: KV cache of %d positions: %w", e.MaxLen, err)
		}
		e.layers = append(e.layers, ly)
	}
	return nil
}

var kernelNames = []string{"embed", "rmsnorm", "gemv_nf4_m1", "gemv_nf4_m1_prmt", "gemv_nf4_m1_mix", "gemv_nf4_m1_lutw", "gemv_nf4_m4", "gemv_nf4_m16", "gemv_bf16_m1",
	"gemv_bf16_m4", "gemv_bf16_m16", "gemv_bf16_small", "gemv_nf4_mma", "gemv_bf16_mma",
	"rope_kv", "attn_part", "attn_join", "silu_mul", "argmax_masked", "rmsnorm_lora", "absmax_half"}

// KernelSource returns kernels.cu and the NVRTC options the engine would
// compile it with for LoRA rank rank under the current settings (for
// reading the machine code: bench/cubin).
func KernelSource(rank int) (string, []string) { return kernelSource, kernelOptions(rank, Absmax16) }

// kernelOptions are the NVRTC options of kernels.cu for LoRA rank rank
// (0: none), with fp16 absmax values when half is set.
func kernelOptions(rank int, half bool) []string {
	multi := 3 // the multi-token products decode as lutw unless lut is asked for
	if NF4Decode == "lut" {
		multi = 0
	}
	return []string{fmt.Sprintf("-DNF4_ROWS=%d", NF4Rows), fmt.Sprintf("-DBF16_ROWS=%d", BF16Rows),
		fmt.Sprintf("-DEARLY_LORA=%d", b2i(EarlyLoRA)), fmt.Sprintf("-DMMA_TILES=%d", MMATiles), fmt.Sprintf("-DNF4_MULTI_DECODE=%d", multi),
		fmt.Sprintf("-DLORA_RK=%d", max(1, (rank+31)/32)), fmt.Sprintf("-DABSMAX16=%d", b2i(half)),
		fmt.Sprintf("-DNF4_THREADS=%d", NF4Threads), fmt.Sprintf("-DNF4_MINB=%d", NF4MinBlocks)}
}

// EarlyLoRA makes the one-token products load their LoRA term's operands
// (the row of B before waiting for the input, t right after) while the
// weights stream, so the epilogue needs no memory round trip (LoraPre in
// kernels.cu). Measured on an H100 (7B NF4 + LoRA r 64, gpubench, with
// EarlyLaunch): 4.115 → 3.867 ms/token, the same greedy tokens.
var EarlyLoRA = true

func (e *Engine) compile() error {
	mod, err := e.ctx.Compile("kernels.cu", kernelSource, kernelOptions(e.rank, e.half)...)
	if err != nil {
		return err
	}
	e.mod = mod
	for _, n := range kernelNames {
		f, err := mod.Func(n)
		if err != nil {
			return err
		}
		e.fn[n] = f
	}
	return nil
}

// spans is the number of attn_part blocks per head and token: the cache
// in spans of kspan keys.
func (e *Engine) spans() int { return (e.MaxLen + kspan - 1) / kspan }

// gemvThreads is the block size of a product over rows of in columns,
// with per elements per 16-byte chunk, one chunk per thread and
// iteration, and at most most threads.
func gemvThreads(in, per, most int) int { return min(most, max(32, (in/per+31)/32*32)) }

// NF4MinBlocks is the number of blocks of NF4Threads threads the
// one-token lutw and prmt products are compiled to fit on one
// multiprocessor (__launch_bounds__ in kernels.cu), which caps their
// registers: 3 gives lutw 80 registers (6 blocks of 128 threads) instead of
// the 127 the compiler picks alone (3 blocks). Measured on an H100 (7B NF4
// + LoRA r 64, gpubench, same card): 1 (no cap) 3.749 ms/token, 3 3.620
// and 3.623, 4 (64 registers, 32 bytes spilled) 3.668–3.711, 5 (48
// registers) 4.489; the same tokens.
var NF4MinBlocks = 3

// NF4Threads is the most threads per block of the one-token NF4 product.
// 512 lets the 14336-column down projection take its chunks in one pass
// instead of two, but measured slower on an H100 (4.189 against 4.095
// ms/token: fewer blocks fit a multiprocessor).
var NF4Threads = 256

// job mirrors struct Job of kernels.cu: one matrix of a product launch.
type job struct {
	W, Absmax, B, T, Y        cuda.Ptr
	Rows, In, Accumulate, Pad int32
}

// mainJob is the product of a projection (with its LoRA term when it has
// one) into y.
func mainJob(pr proj, y cuda.Ptr, accumulate bool, t cuda.Ptr) job {
	j := job{W: pr.w, Absmax: pr.absmax, Y: y, Rows: int32(pr.rows), In: int32(pr.in)}
	if accumulate {
		j.Accumulate = 1
	}
	if pr.a != 0 {
		j.B, j.T = pr.b, t
	}
	return j
}

// products queues one launch of up to three products sharing the input x
// [mm, in]: kernel kind "nf4", "bf16" or "small" (bf16 with one row per
// block, for the LoRA A factors' few rows).
func (e *Engine) products(mm int, kind string, x cuda.Ptr, jobs ...job) error {
	if len(jobs) == 0 || len(jobs) > 3 {
		return fmt.Errorf("gpudecode: %d jobs in one launch", len(jobs))
	}
	in, rows := int(jobs[0].In), 0
	for _, j := range jobs {
		if int(j.In) != in {
			return fmt.Errorf("gpudecode: jobs of one launch with inputs of %d and %d", j.In, in)
		}
		rows = max(rows, int(j.Rows))
	}
	name, rpb, threads := productKernel(mm, kind, in)
	return e.launch(e.fn[name], cuda.D2((rows+rpb-1)/rpb, len(jobs)), cuda.D1(threads), 0, e.p, jobBytes(jobs), x, e.rank, e.scale)
}

// LoRAThreads is the most threads per block of the one-token LoRA A
// products (gemv_bf16_small: one row of A per block, so with 256 threads
// a row of 14336 columns takes 7 dependent passes). Measured on an H100
// (7B NF4 + LoRA r 64, gpubench, same card): 256 3.460 ms/token, 512
// 3.393 and 3.398, 1024 3.384; the same tokens.
var LoRAThreads = 1024

// jobBytes is struct Jobs of kernels.cu holding up to three jobs.
func jobBytes(jobs []job) []byte {
	var all [3]job
	copy(all[:], jobs)
	return unsafe.Slice((*byte)(unsafe.Pointer(&all[0])), int(unsafe.Sizeof(all)))
}

// productKernel picks the kernel of a product launch of a step of width mm
// (1, 4 or MaxChunk) over in columns: its name, the rows each block takes
// (as kernels.cu instantiates it) and the threads per block.
func productKernel(mm int, kind string, in int) (name string, rowsPerBlock, threads int) {
	weights, per := kind, 8 // bf16: 8 columns per 16 bytes
	switch kind {
	case "small":
		weights = "bf16"
	case "nf4":
		per = 32
	}
	most := 256
	switch {
	case kind == "nf4" && mm == 1:
		most = NF4Threads
	case kind == "small" && mm == 1:
		most = LoRAThreads
	}
	threads = gemvThreads(in, per, most)
	switch {
	case mm > 1 && mm >= MMAFrom && ChunkMMA && in%128 == 0:
		return "gemv_" + weights + "_mma", 8 * MMATiles, 32 * min(4, in/128)
	case mm > 4:
		return "gemv_" + weights + "_m16", 2, threads
	case mm > 1 && weights == "nf4":
		return "gemv_nf4_m4", 4, threads
	case mm > 1:
		return "gemv_bf16_m4", 2, threads
	case kind == "small":
		return "gemv_bf16_small", 1, threads
	case kind == "nf4" && NF4Decode != "lut":
		return "gemv_nf4_m1_" + NF4Decode, NF4Rows, threads
	case kind == "nf4":
		return "gemv_nf4_m1", NF4Rows, threads
	default:
		return "gemv_bf16_m1", BF16Rows, threads
	}
}

// project queues the products of up to three projections of a layer on
// x, each into its y, LoRA included: the A factors first (one launch,
// unless normed already did them), then the projections (one launch).
func (e *Engine) project(mm int, x cuda.Ptr, accumulate, loraDone bool, prs []proj, ys, ts []cuda.Ptr) error {
	var lora, main []job
	for i, pr := range prs {
		if pr.a != 0 {
			lora = append(lora, job{W: pr.a, Y: ts[i], Rows: int32(e.rank), In: int32(pr.in)})
		}
		main = append(main, mainJob(pr, ys[i], accumulate, ts[i]))
	}
	if len(lora) > 0 && !loraDone {
		if err := e.products(mm, "small", x, lora...); err != nil {
			return err
		}
	}
	kind := "bf16"
	if e.nf4 {
		kind = "nf4"
	}
	return e.products(mm, kind, x, main...)
}

// NF4Decode is how the one-token NF4 products turn weight bytes into
// fp16 values: "prmt" (the default: byte permutes on a table held in
// registers, no shared memory), "lutw" (shared-memory tables, with the
// offsets of a word's four bytes computed at once by decode_lutw), "lut"
// (the same tables, one byte at a time) or "mix" (lutw and prmt for
// alternate words). The multi-token products (4 and 16 tokens, tensor
// cores included) decode as lutw, or as lut when lut is asked for.
// Measured on H100s (7B NF4 + LoRA r 64, gpubench), each line one card:
// lut 4.095 ms/token, prmt 4.314, mix 4.482 (both then decoding whole rows
// into registers first); lut 3.872, lutw 3.823 (4-token step 8.309 →
// 8.086 ms); with each word decoded straight into the products, lut 3.879,
// lutw 3.749 (3.620 with NF4MinBlocks 3); then, with NF4MinBlocks 3, lutw
// 3.624 and 3.602, prmt 3.506, mix 3.507; lutw 3.600, prmt 3.455 (289
// tokens/s). The same tokens throughout. lutw's one-token kernel had 1181
// machine instructions against lut's 1389 (nvdisasm, sm_90).
var NF4Decode = "prmt"

// ChunkMMA runs the products of 16-token steps (prompt chunks, long
// jump-forward chunks) on tensor cores (gemv_nf4_mma, gemv_bf16_mma),
// where every matrix of a launch has a multiple of 128 columns. Measured
// on an H100 (7B, random weights, gpubench): a 16-token NF4 + LoRA step
// 27.1 → 22.1 ms and the 300-token prefill 499 → 394 ms; bf16 19.1 →
// 14.1 ms and 349 → 255 ms. 4-token steps were slower on tensor cores
// (NF4 8.1 → 9.7 ms, bf16 6.9 → 8.4 ms), so they keep the matrix-vector
// kernels.
var ChunkMMA = true

// MMATiles is the number of 8-row tiles each warp of the tensor-core
// products takes (MMA_TILES in kernels.cu): each token fragment it loads
// then feeds that many products. Measured on an H100 (7B NF4 + LoRA r 64,
// gpubench): 4 tiles against 1, a 16-token step 22.9 → 18.0 ms and the
// 300-token prefill 408 → 327 ms, the same tokens.
var MMATiles = 4

// MMAFrom is the narrowest step (4 or MaxChunk tokens) whose products run
// on tensor cores when ChunkMMA is on. 4-token steps stay on the
// matrix-vector kernels: on tensor cores they took 9.7 against 8.1 ms with
// one tile per warp, 13.9 against 8.3 ms with four (H100, NF4 + LoRA).
var MMAFrom = MaxChunk

// FuseNorm runs the LoRA A products of q/k/v and gate/up inside the
// RMSNorm launch before them (rmsnorm_lora) when the rank allows (a
// multiple of 4), saving two launches per layer. Off: measured on an H100
// (7B NF4 + LoRA r 64, with EarlyLaunch) 4.089 ms/token against 4.095
// without, within the run-to-run spread.
var FuseNorm = false

// EarlyLaunch records every kernel of a step but the first with
// programmatic dependent launch (cuda.Stream.LaunchEarly) on GPUs that
// have it (compute capability 9.0 and later): a kernel's blocks start while
// the kernel before it finishes, and the products load their first
// weights before they wait for their input (DEPS_WAIT in kernels.cu),
// hiding the gap between the 14 kernels of each layer. Measured on an
// H100 (7B, random weights, gpubench): NF4 + LoRA r 64 4.424 → 4.095
// ms/token, bf16 5.630 → 5.539, with the same tokens and logits.
var EarlyLaunch = true

// normed queues xn = RMSNorm(x)·w and, when it can, the LoRA A products
// of the projections prs that read xn; it reports whether it did them.
func (e *Engine) normed(mm int, w cuda.Ptr, prs []proj, ts []cuda.Ptr) (bool, error) {
	cfg := e.cfg
	eps := float32(cfg.RMSNormEps)
	var lora []job
	for i, pr := range prs {
		if pr.a != 0 {
			lora = append(lora, job{W: pr.a, Y: ts[i], Rows: int32(e.rank), In: int32(pr.in)})
		}
	}
	if !FuseNorm || len(lora) == 0 || e.rank%4 != 0 || cfg.HiddenSize%8 != 0 {
		return false, e.launch(e.fn["rmsnorm"], cuda.D1(mm), cuda.D1(1024), 0, e.p, e.x, w, e.xn, cfg.HiddenSize, eps, 0)
	}
	var all [3]job
	copy(all[:], lora)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&all[0])), int(unsafe.Sizeof(all)))
	return true, e.launch(e.fn["rmsnorm_lora"], cuda.D2(1+len(lora)*e.rank/4, mm), cuda.D1(256), 0,
		e.p, e.x, w, e.xn, cfg.HiddenSize, eps, raw, len(lora), e.rank)
}

// queueStep queues one step's kernels for up to mm tokens.
func (e *Engine) queueStep(mm int) error {
	cfg := e.cfg
	D, I, H, KV, hd := cfg.HiddenSize, cfg.IntermediateSize, cfg.NumHeads, cfg.NumKVHeads, cfg.HeadDim
	eps := float32(cfg.RMSNormEps)
	if err := e.launch(e.fn["embed"], cuda.D1(mm), cuda.D1(512), 0, e.p, e.embed, e.x, D); err != nil {
		return err
	}
	for _, ly := range e.layers {
		var done bool
		steps := []func() error{
			func() (err error) {
				done, err = e.normed(mm, ly.ln1, []proj{ly.q, ly.k, ly.v}, []cuda.Ptr{ly.tq, ly.tk, ly.tv})
				return err
			},
			func() error {
				return e.project(mm, e.xn, false, done, []proj{ly.q, ly.k, ly.v}, []cuda.Ptr{e.q, e.k, e.v}, []cuda.Ptr{ly.tq, ly.tk, ly.tv})
			},
			func() error {
				return e.launch(e.fn["rope_kv"], cuda.D2(mm, H+KV), cuda.D1(max(32, hd/2)), 0,
					e.p, e.q, e.k, e.v, ly.cache, e.MaxLen, hd, H, KV, float32(cfg.RopeTheta))
			},
			func() error {
				grid, scale := cuda.Dim3{X: uint32(H), Y: uint32(mm), Z: uint32(e.spans())}, float32(1/math.Sqrt(float64(hd)))
				return e.launch(e.fn["attn_part"], grid, cuda.D1(128), 0,
					e.p, e.q, ly.cache, e.pm, e.pl, e.po, e.MaxLen, hd, H, KV, cfg.SlidingWindow, scale)
			},
			func() error {
				return e.launch(e.fn["attn_join"], cuda.D2(H, mm), cuda.D1(max(32, hd)), 0, e.p, e.pm, e.pl, e.po, e.ao, hd, H, e.spans())
			},
			func() error {
				return e.project(mm, e.ao, true, false, []proj{ly.o}, []cuda.Ptr{e.x}, []cuda.Ptr{ly.to})
			},
			func() (err error) {
				done, err = e.normed(mm, ly.ln2, []proj{ly.gate, ly.up}, []cuda.Ptr{ly.tg, ly.tu})
				return err
			},
			func() error {
				return e.project(mm, e.xn, false, done, []proj{ly.gate, ly.up}, []cuda.Ptr{e.g, e.u}, []cuda.Ptr{ly.tg, ly.tu})
			},
			func() error {
				return e.launch(e.fn["silu_mul"], cuda.D2((I+255)/256, mm), cuda.D1(256), 0, e.p, e.g, e.u, e.h, I)
			},
			func() error {
				return e.project(mm, e.h, true, false, []proj{ly.down}, []cuda.Ptr{e.x}, []cuda.Ptr{ly.td})
			},
		}
		for _, f := range steps {
			if err := f(); err != nil {
				return err
			}
		}
	}
	if err := e.launch(e.fn["rmsnorm"], cuda.D1(1), cuda.D1(1024), 0, e.p, e.x, e.norm, e.last, D, eps, 1); err != nil {
		return err
	}
	if err := e.products(1, "bf16", e.last, job{W: e.head, Y: e.logits, Rows: int32(cfg.VocabSize), In: int32(D)}); err != nil {
		return err
	}
	return e.launch(e.fn["argmax_masked"], cuda.D1(1), cuda.D1(1024), 0, e.p, e.logits, cfg.VocabSize)
}

// record captures the step of each width as a graph.
func (e *Engine) record() error {
	var err error
	if e.stream, err = e.ctx.NewStream(); err != nil {
		return err
	}
	for i, mm := range widths {
		if e.graphs[i], err = e.stream.Capture(func() error { return e.queueStep(mm) }); err != nil {
			return fmt.Errorf("gpudecode: recording the %d-token step: %w", mm, err)
		}
	}
	return nil
}

// Close frees the engine's device memory (not the model's weights).
func (e *Engine) Close() {
	if e.ctx == nil {
		return
	}
	if e.stream != nil {
		_ = e.stream.Synchronize()
	}
	for i, g := range e.graphs {
		g.Destroy()
		e.graphs[i] = nil
	}
	for _, p := range e.allocs {
		_ = e.ctx.Free(p)
	}
	e.allocs = nil
	if e.stream != nil {
		_ = e.stream.Destroy()
		e.stream = nil
	}
	if e.mod != nil {
		_ = e.mod.Unload()
		e.mod = nil
	}
	_ = e.ctx.FreeHost(e.host)
	e.host = nil
	_ = e.ctx.Close()
	e.ctx = nil
}

// CacheLen is the number of positions of the engine's KV cache.
func (e *Engine) CacheLen() int { return e.MaxLen }

// Step feeds tokens at cache positions pos.. (chunks of at most MaxChunk
// tokens, one graph launch each) and returns the greedy next token after
// the last one, among those mask row row of the model's table allows (-1:
// any token; EOS only when eosOK). With logits not nil it also copies the
// masked logits there. The mask rows are the ones model.SetMask put on
// the device.
func (e *Engine) Step(tokens []int32, pos int, row int32, eosOK bool, logits []float32) (int32, error) {
	return e.step(tokens, pos, row, eosOK, model.Sampling{}, logits)
}

// SamplesOnDevice reports whether StepSampled draws on the GPU
// (DeviceSampling).
func (e *Engine) SamplesOnDevice() bool { return DeviceSampling }

// StepSampled is Step drawing the next token from the masked logits with
// s's temperature and top-p on the GPU (see DeviceSampling).
func (e *Engine) StepSampled(tokens []int32, pos int, row int32, eosOK bool, s model.Sampling, logits []float32) (int32, error) {
	if !DeviceSampling {
		return 0, fmt.Errorf("gpudecode: device sampling is off (DeviceSampling)")
	}
	return e.step(tokens, pos, row, eosOK, s, logits)
}

func (e *Engine) step(tokens []int32, pos int, row int32, eosOK bool, s model.Sampling, logits []float32) (int32, error) {
	if len(tokens) == 0 {
		return 0, fmt.Errorf("gpudecode: no tokens")
	}
	if pos < 0 || pos+len(tokens) > e.MaxLen {
		return 0, fmt.Errorf("gpudecode: positions %d..%d outside the cache of %d", pos, pos+len(tokens)-1, e.MaxLen)
	}
	if logits != nil && len(logits) != e.cfg.VocabSize {
		return 0, fmt.Errorf("gpudecode: logits buffer of %d, vocabulary %d", len(logits), e.cfg.VocabSize)
	}
	rows, count, eos := e.Model.MaskRows()
	if row >= 0 {
		if rows == nil || int(row) >= count {
			return 0, fmt.Errorf("gpudecode: mask row %d out of range (%d rows)", row, count)
		}
		if rows != e.maskFrom {
			p, err := devicePtr(e.Model, rows, "mask rows")
			if err != nil {
				return 0, err
			}
			e.maskPtr, e.maskFrom = p, rows
		}
	}
	pr := (*params)(unsafe.Pointer(&e.host[0]))
	for start := 0; start < len(tokens); start += MaxChunk {
		chunk := tokens[start:min(start+MaxChunk, len(tokens))]
		*pr = params{Pos: int32(pos + start), N: int32(len(chunk)), Row: -1, EOSOK: 1, EOS: int32(eos), TopP: 1}
		if s.Temperature > 0 {
			pr.Temperature, pr.Seed = float32(s.Temperature), s.Seed
			if s.TopP > 0 && s.TopP < 1 {
				pr.TopP = float32(s.TopP)
			}
		}
		if row >= 0 {
			pr.Rows, pr.Row = uint64(e.maskPtr), row
			if !eosOK {
				pr.EOSOK = 0
			}
		}
		copy(pr.Tokens[:], chunk)
		if err := e.stream.CopyInAsync(e.p, e.host[:paramsSize]); err != nil {
			return 0, err
		}
		g := e.graphs[graphFor(len(chunk))]
		if err := g.Launch(e.stream); err != nil {
			return 0, err
		}
		last := start+MaxChunk >= len(tokens)
		if last {
			if err := e.stream.CopyOutAsync(e.host[paramsSize:paramsSize+4], e.p.Add(int64(unsafe.Offsetof(pr.Next)))); err != nil {
				return 0, err
			}
		}
		if err := e.stream.Synchronize(); err != nil { // the page-locked params are reused
			return 0, fmt.Errorf("gpudecode: step at position %d: %w", pos+start, err)
		}
	}
	if logits != nil {
		if err := cuda.CopyOut(e.ctx, logits, e.logits); err != nil {
			return 0, err
		}
	}
	return *(*int32)(unsafe.Pointer(&e.host[paramsSize])), nil
}

// TimeGraph replays the recorded step of width mm (1, 4 or MaxChunk) reps
// times back to back with the parameters of the last Step (its position
// and its token count: after a one-token Step a wider graph still computes
// one token), and returns the mean device time per replay in
// milliseconds: the step without the host's per-token work.
func (e *Engine) TimeGraph(mm, reps int) (float64, error) {
	g := e.graphs[graphFor(mm)]
	start, err := e.ctx.NewEvent()
	if err != nil {
		return 0, err
	}
	defer start.Destroy()
	end, err := e.ctx.NewEvent()
	if err != nil {
		return 0, err
	}
	defer end.Destroy()
	if err := start.Record(e.stream); err != nil {
		return 0, err
	}
	for range reps {
		if err := g.Launch(e.stream); err != nil {
			return 0, err
		}
	}
	if err := end.Record(e.stream); err != nil {
		return 0, err
	}
	ms, err := cuda.Elapsed(start, end)
	return ms / float64(reps), err
}

// launch queues a kernel on the engine's stream; while profiling, with
// an event before it.
func (e *Engine) launch(f *cuda.Func, grid, block cuda.Dim3, smem int, args ...any) error {
	if e.prof != nil {
		ev, err := e.ctx.NewEvent()
		if err != nil {
			return err
		}
		if err := ev.Record(e.stream); err != nil {
			return err
		}
		label := f.Name
		if raw, ok := args[1].([]byte); ok && len(raw) == int(unsafe.Sizeof([3]job{})) {
			jobs := (*[3]job)(unsafe.Pointer(&raw[0]))
			label = fmt.Sprintf("%s %dx%d", f.Name, jobs[0].Rows, jobs[0].In)
			for _, j := range jobs[1:] {
				if j.Rows > 0 {
					label += fmt.Sprintf("+%d", j.Rows)
				}
			}
		}
		label += fmt.Sprintf(" @%d", block.X)
		e.prof.events = append(e.prof.events, ev)
		e.prof.labels = append(e.prof.labels, label)
	}
	// embed is a step's first kernel: before it comes the copy of the
	// parameters, which is no kernel to overlap with
	if e.early && e.prof == nil && f != e.fn["embed"] {
		return e.stream.LaunchEarly(f, grid, block, smem, args...)
	}
	return e.stream.Launch(f, grid, block, smem, args...)
}

// Resources reports, for kernel name of kernels.cu in blocks of threads
// threads, the registers and local (spill) bytes per thread and the
// blocks that fit on one multiprocessor at once.
func (e *Engine) Resources(name string, threads int) (regs, localBytes, blocksPerSM int, err error) {
	f, ok := e.fn[name]
	if !ok {
		return 0, 0, 0, fmt.Errorf("gpudecode: no kernel %q", name)
	}
	return f.Resources(threads)
}

// profile collects an event per launch (Profile).
type profile struct {
	events []*cuda.Event
	labels []string
}

// Profile runs the step of mm tokens (1, 4 or MaxChunk) once as separate
// launches with an event between each, at the position of the last Step,
// and returns the device milliseconds spent per kernel (labelled by name,
// and shape for the products, then "@" and the threads per block), with
// the launch count of each label.
func (e *Engine) Profile(mm int) (ms map[string]float64, count map[string]int, err error) {
	e.prof = &profile{}
	defer func() { e.prof = nil }()
	if err := e.queueStep(mm); err != nil {
		return nil, nil, err
	}
	end, err := e.ctx.NewEvent()
	if err != nil {
		return nil, nil, err
	}
	if err := end.Record(e.stream); err != nil {
		return nil, nil, err
	}
	ms, count = map[string]float64{}, map[string]int{}
	evs := append(e.prof.events, end)
	defer func() {
		for _, ev := range evs {
			_ = ev.Destroy()
		}
	}()
	for i, l := range e.prof.labels {
		d, err := cuda.Elapsed(evs[i], evs[i+1])
		if err != nil {
			return nil, nil, err
		}
		ms[l] += d
		count[l]++
	}
	return ms, count, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
