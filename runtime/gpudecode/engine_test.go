package gpudecode

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/gen/userprofile"
	"github.com/schemac-dev/schemac/internal/fixtures"
	"github.com/schemac-dev/schemac/runtime/cuda"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/safetensors"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

const fixtureDir = "../../testdata/fixtures"

// gpuBackend is the XLA CUDA backend named by SCHEMAC_TEST_BACKEND (tests
// built with -tags xla, on a GPU machine); the GPU tests skip without it.
func gpuBackend(t *testing.T) backends.Backend {
	t.Helper()
	name := os.Getenv("SCHEMAC_TEST_BACKEND")
	if !strings.HasPrefix(name, "xla") {
		t.Skip("needs a GPU: build with -tags xla and set SCHEMAC_TEST_BACKEND=xla:<CUDA plugin>")
	}
	if err := cuda.Available(); err != nil {
		t.Skipf("no CUDA driver: %v", err)
	}
	b, err := backends.NewWithConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b
}

// tinyModel loads the tiny-mistral fixture on b, with the given storage,
// and the tiny-mistral-lora adapter unmerged when lora; stacked.
func tinyModel(t *testing.T, b backends.Backend, quant model.Quant, lora bool) *model.Model {
	t.Helper()
	return tinyModelDQ(t, b, quant, lora, false)
}

// tinyModelDQ is tinyModel, with the NF4 absmax values double-quantized
// when dq is set.
func tinyModelDQ(t *testing.T, b backends.Backend, quant model.Quant, lora, dq bool) *model.Model {
	t.Helper()
	dir := filepath.Join(fixtureDir, "tiny-mistral")
	cfg, err := model.ReadConfig(dir)
	if err != nil {
		t.Skipf("fixture absent: %v", err)
	}
	set, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	w, err := model.LoadWeights(cfg, set, model.LoadOptions{DType: dtypes.BFloat16, Quant: quant, Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	if dq {
		if err := w.DoubleQuantize(b); err != nil {
			t.Fatal(err)
		}
	}
	if lora {
		a, err := model.ReadAdapter(filepath.Join(fixtureDir, "tiny-mistral-lora"), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if err := w.AddLoRA(b, a, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Stack(b); err != nil {
		t.Fatal(err)
	}
	m, err := model.New(b, w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Finalize)
	return m
}

func openReference(t *testing.T) *fixtures.Reference { return fixtures.OpenReference(t, fixtureDir) }

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// bf16Tol bounds the engine's logits against transformers' float32 ones:
// bf16 weights and KV cache, fp16 activations into the products (the
// XLA bf16 path is held to the same bound in runtime/model).
const bf16Tol = 0.25

// nf4Tol bounds the engine's NF4 logits against the XLA step programs' on
// the same quantized weights (fp16 against bf16 rounding of the
// dequantized products).
const nf4Tol = 0.1

// TestEngineMatchesReference runs the engine on the tiny fixture: bf16
// (and with its LoRA adapter unmerged) against transformers' logits and
// greedy tokens; NF4 (and NF4 + LoRA) against the XLA step programs on the
// same quantized weights, step by step along the XLA greedy tokens: the
// logits within nf4Tol, the same argmax wherever the XLA top two are
// further apart than twice that.
func TestEngineMatchesReference(t *testing.T) {
	b := gpuBackend(t)
	ref := openReference(t)
	for _, tc := range []struct {
		name   string
		quant  model.Quant
		lora   bool
		prefix string
		decode string // NF4Decode
		fuse   bool   // FuseNorm
		mma    bool   // ChunkMMA
		early  bool   // EarlyLaunch
	}{
		{"bf16", model.Dense, false, "", "lut", false, false, false},
		{"bf16+lora", model.Dense, true, "lora.", "lut", false, false, false},
		{"nf4", model.NF4, false, "", "lut", false, false, false},
		{"nf4+lora", model.NF4, true, "lora.", "lut", false, false, false},
		// option variants (chunk-mma: the prompts go through the
		// tensor-core kernels where a matrix has 128k columns)
		{"bf16+lora,fuse-norm,chunk-mma", model.Dense, true, "lora.", "lut", true, true, false},
		{"nf4,prmt,chunk-mma", model.NF4, false, "", "prmt", false, true, false},
		{"nf4+lora,mix,fuse-norm", model.NF4, true, "lora.", "mix", true, false, false},
		{"bf16+lora,early", model.Dense, true, "lora.", "lut", false, false, true},
		{"nf4+lora,early", model.NF4, true, "lora.", "lut", false, false, true},
		{"nf4+lora,fuse-norm,chunk-mma,early", model.NF4, true, "lora.", "lut", true, true, true},
		{"bf16+lora,early,early-lora", model.Dense, true, "lora.", "lut", false, false, true},
		{"nf4+lora,lutw,early,early-lora", model.NF4, true, "lora.", "lutw", false, false, true},
		{"nf4+lora,early,early-lora", model.NF4, true, "lora.", "lut", false, false, true},
		{"nf4+lora,lutw,chunk-mma,early,early-lora,absmax16", model.NF4, true, "lora.", "lutw", false, true, true},
		{"nf4+lora,lutw,chunk-mma,early,early-lora,double-quant", model.NF4, true, "lora.", "lutw", false, true, true},
		// the defaults (prmt one-token products, lutw in the multi-token
		// ones, LoRAThreads 1024), and the LoRA A products at 256 threads
		{"nf4+lora,prmt,chunk-mma,early,early-lora", model.NF4, true, "lora.", "prmt", false, true, true},
		{"nf4+lora,prmt,chunk-mma,early,early-lora,double-quant", model.NF4, true, "lora.", "prmt", false, true, true},
		{"nf4+lora,prmt,early,early-lora,lora-threads-256", model.NF4, true, "lora.", "prmt", false, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			saved, savedFuse, savedMMA, savedEarly, savedLoRA, savedAbs := NF4Decode, FuseNorm, ChunkMMA, EarlyLaunch, EarlyLoRA, Absmax16
			NF4Decode, FuseNorm, ChunkMMA, EarlyLaunch = tc.decode, tc.fuse, tc.mma, tc.early
			EarlyLoRA = strings.Contains(tc.name, "early-lora")
			Absmax16 = strings.Contains(tc.name, "absmax16")
			savedLoRAThreads := LoRAThreads
			if strings.Contains(tc.name, "lora-threads-256") {
				LoRAThreads = 256
			}
			defer func() {
				NF4Decode, FuseNorm, ChunkMMA, EarlyLaunch, EarlyLoRA, Absmax16 = saved, savedFuse, savedMMA, savedEarly, savedLoRA, savedAbs
				LoRAThreads = savedLoRAThreads
			}()
			m := tinyModelDQ(t, b, tc.quant, tc.lora, strings.Contains(tc.name, "double-quant"))
			e, err := New(m, 64)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			for p := 0; ref.Has(fmt.Sprintf("%sp%d.prompt", tc.prefix, p)); p++ {
				pre := fmt.Sprintf("%sp%d.", tc.prefix, p)
				prompt := ref.Ints(t, pre+"prompt")
				want := ref.Ints(t, pre+"greedy")
				logits := make([]float32, m.Config.VocabSize)
				if tc.quant == model.Dense {
					tok, err := e.Step(prompt, 0, -1, true, logits)
					if err != nil {
						t.Fatal(err)
					}
					wantLogits, _ := ref.Floats(t, pre+"logits_last")
					d := maxAbsDiff(logits, wantLogits)
					m.Stepper = e
					got, err := m.Generate(prompt, len(want), model.Sampling{}, 64)
					m.Stepper = nil
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("%s max |Δlogit| %.3g; greedy %v", pre, d, got)
					if d > bf16Tol {
						t.Errorf("%s logits off by %.3g > %g", pre, d, bf16Tol)
					}
					if got[0] != tok || fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s greedy %v (first step %d), want %v", pre, got, tok, want)
					}
					continue
				}
				c, err := m.NewCache(64)
				if err != nil {
					t.Fatal(err)
				}
				feed, pos, worst := prompt, 0, 0.0
				for i := range len(want) {
					xt, xl, err := c.Step(feed, model.Sampling{}, true)
					if err != nil {
						t.Fatal(err)
					}
					et, err := e.Step(feed, pos, -1, true, logits)
					if err != nil {
						t.Fatal(err)
					}
					d := maxAbsDiff(logits, xl)
					worst = math.Max(worst, d)
					if d > nf4Tol {
						t.Errorf("%s step %d: logits off by %.3g > %g", pre, i, d, nf4Tol)
					}
					if et != xt && margin(xl) > 2*nf4Tol {
						t.Errorf("%s step %d: engine picks %d, XLA %d (margin %.3g)", pre, i, et, xt, margin(xl))
					}
					pos += len(feed)
					feed = []int32{xt}
				}
				c.Finalize()
				t.Logf("%s max |Δlogit| %.3g over %d steps", pre, worst, len(want))
			}
		})
	}
}

// margin is the gap between the two largest logits.
func margin(l []float32) float64 {
	a, b := math.Inf(-1), math.Inf(-1)
	for _, v := range l {
		switch x := float64(v); {
		case x > a:
			a, b = x, a
		case x > b:
			b = x
		}
	}
	return a - b
}

// TestEngineConstrained decodes UserProfile under the engine's device
// mask: every token passes the host's check of the table (an error
// otherwise), and the output equals the XLA step programs' one.
func TestEngineConstrained(t *testing.T) {
	b := gpuBackend(t)
	m := tinyModel(t, b, model.Dense, false)
	tab, err := userprofile.Table()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Load("../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	var prompt []int32
	for _, id := range tok.Encode("[INST] Extract the user profile as JSON. [/INST]\n", tokenizer.Default) {
		prompt = append(prompt, int32(id))
	}
	con := model.Constrained{Table: tab, Tokenizer: tok, JumpForward: true}
	want, _, err := m.GenerateConstrained(prompt, 60, model.Sampling{}, con)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, 128)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m.Stepper = e
	defer func() { m.Stepper = nil }()
	got, st, err := m.GenerateConstrained(prompt, 60, model.Sampling{}, con)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tokens, %d steps, %d forced, finished %v", st.Tokens, st.Steps, st.Forced, st.Finished)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("engine %v\nXLA    %v", got, want)
	}
}

// TestNewRefuses: weights the engine cannot use are refused with the
// reason, before any GPU work (runs on the CPU).
func TestNewRefuses(t *testing.T) {
	b, err := simplego.New("parallelism=-1")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	cfg, err := model.NamedConfig("random:tiny")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dtype  dtypes.DType
		maxLen int
		want   string
		opts   string // OptionsEnv
	}{
		{dtypes.Float32, 64, "needs bfloat16", ""},
		{dtypes.BFloat16, 0, "cache length 0", ""},
		{dtypes.BFloat16, 64, "XLA backend", ""},
		{dtypes.BFloat16, 64, "NF4MinBlocks 9: 1..8 blocks of NF4Threads 256", "NF4MinBlocks=9"},
		{dtypes.BFloat16, 64, "MMATiles 0", "MMATiles=0"},
		{dtypes.BFloat16, 64, `NF4Decode "lux"`, "NF4Decode=lux"},
		{dtypes.BFloat16, 64, "LoRAThreads 100: want a multiple of 32", "LoRAThreads=100"},
	} {
		savedMin, savedTiles, savedDecode := NF4MinBlocks, MMATiles, NF4Decode
		savedLoRA := LoRAThreads
		t.Setenv(OptionsEnv, tc.opts)
		w, err := model.RandomWeights(b, cfg, tc.dtype, model.Dense, 1, 0.02)
		if err != nil {
			t.Fatal(err)
		}
		m, err := model.New(b, w)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(m, tc.maxLen)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s, cache %d, %q: error %v, want one saying %q", tc.dtype, tc.maxLen, tc.opts, err, tc.want)
		}
		NF4MinBlocks, MMATiles, NF4Decode = savedMin, savedTiles, savedDecode
		LoRAThreads = savedLoRA
		m.Finalize()
		w.Finalize()
	}
}

// TestKernelsCompile compiles kernels.cu with NVRTC for Hopper (no GPU
// needed; skipped where NVRTC is not installed) and finds every kernel the
// engine looks up in the machine code.
func TestKernelsCompile(t *testing.T) {
	saved, savedEarly, savedTiles := [2]int{NF4Rows, BF16Rows}, EarlyLoRA, MMATiles
	defer func() { NF4Rows, BF16Rows, EarlyLoRA, MMATiles = saved[0], saved[1], savedEarly, savedTiles }()
	for i, rows := range [][2]int{saved, {8, 2}} {
		NF4Rows, BF16Rows = rows[0], rows[1]
		EarlyLoRA, MMATiles = i == 0, 1+3*i
		bin, err := cuda.CompileCUBIN("kernels.cu", kernelSource, "sm_90", kernelOptions(64, i == 1)...)
		if err != nil && strings.Contains(err.Error(), "NVRTC (libnvrtc.so) was not found") {
			t.Skipf("no NVRTC here: %v", err)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range kernelNames {
			if !bytes.Contains(bin, []byte(name+"\x00")) {
				t.Errorf("rows %v: kernel %s missing from the machine code", rows, name)
			}
		}
	}
}

// TestEngineSampling draws 2000 tokens on the GPU (DeviceSampling) at one
// position with different seeds: their frequencies match the nucleus
// probabilities computed on the host from the engine's logits, no token
// outside the nucleus or the mask is drawn, and a seed repeats its draw.
func TestEngineSampling(t *testing.T) {
	b := gpuBackend(t)
	ref := openReference(t)
	m := tinyModel(t, b, model.Dense, false)
	tab, err := userprofile.Table()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetMask(tab); err != nil {
		t.Fatal(err)
	}
	e, err := New(m, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	saved := DeviceSampling
	DeviceSampling = true
	defer func() { DeviceSampling = saved }()
	prompt := ref.Ints(t, "p0.prompt")
	const draws = 2000
	for _, tc := range []struct {
		name string
		row  int32
		s    model.Sampling
	}{
		{"T=1.5,top-p=0.9", -1, model.Sampling{Temperature: 1.5, TopP: 0.9}},
		{"masked,T=1", tab.RowIndex(tab.Start()), model.Sampling{Temperature: 1, TopP: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logits := make([]float32, m.Config.VocabSize)
			if _, err := e.Step(prompt, 0, tc.row, false, logits); err != nil {
				t.Fatal(err)
			}
			// the nucleus on the host: weights, largest first, until top-p
			type cand struct {
				id int32
				w  float64
			}
			var cs []cand
			mx, total := math.Inf(-1), 0.0
			for _, l := range logits {
				mx = math.Max(mx, float64(l))
			}
			for i, l := range logits {
				if !math.IsInf(float64(l), -1) {
					w := math.Exp((float64(l) - mx) / tc.s.Temperature)
					cs = append(cs, cand{int32(i), w})
					total += w
				}
			}
			slices.SortFunc(cs, func(a, b cand) int { return cmp.Compare(b.w, a.w) })
			want, acc := map[int32]float64{}, 0.0
			for _, c := range cs {
				want[c.id] = c.w
				acc += c.w
				if acc >= tc.s.TopP*total {
					break
				}
			}
			counts := map[int32]int{}
			for seed := range uint64(draws) {
				s := tc.s
				s.Seed = seed
				tok, err := e.StepSampled(prompt, 0, tc.row, false, s, nil)
				if err != nil {
					t.Fatal(err)
				}
				counts[tok]++
				if seed == 7 {
					again, err := e.StepSampled(prompt, 0, tc.row, false, s, nil)
					if err != nil || again != tok {
						t.Errorf("seed 7 drew %d, then %d (%v)", tok, again, err)
					}
				}
			}
			for id, n := range counts {
				if _, ok := want[id]; !ok {
					t.Errorf("token %d drawn %d times: outside the nucleus (or masked)", id, n)
				}
			}
			for id, w := range want {
				p := w / acc
				f := float64(counts[id]) / draws
				if math.Abs(f-p) > 4*math.Sqrt(p*(1-p)/draws)+0.005 {
					t.Errorf("token %d: drawn %.4f of the time, probability %.4f", id, f, p)
				}
			}
			t.Logf("%d tokens in the nucleus, %d distinct drawn", len(want), len(counts))
		})
	}
}

// TestProductKernel: each step width and weight kind gets a kernel that
// kernels.cu defines, with the rows per block it is instantiated with
// (GEMV(..., MMAX, ROWS) lines and gemv_mma's 8) and a block of whole warps
// covering the columns' 16-byte chunks.
func TestProductKernel(t *testing.T) {
	defer func(c bool, d string) { ChunkMMA, NF4Decode = c, d }(ChunkMMA, NF4Decode)
	for _, tc := range []struct {
		mm      int
		kind    string
		in      int
		mma     bool
		decode  string
		name    string
		rows    int
		threads int
	}{
		{1, "nf4", 4096, false, "lut", "gemv_nf4_m1", NF4Rows, 128},        // 128 chunks of 32
		{1, "nf4", 14336, false, "prmt", "gemv_nf4_m1_prmt", NF4Rows, 256}, // 448 chunks, at most 256 threads
		{1, "nf4", 4096, false, "lutw", "gemv_nf4_m1_lutw", NF4Rows, 128},
		{1, "bf16", 4096, false, "lut", "gemv_bf16_m1", BF16Rows, 256},
		{1, "small", 64, false, "lut", "gemv_bf16_small", 1, 32},
		{4, "nf4", 4096, false, "lut", "gemv_nf4_m4", 4, 128},
		{4, "small", 4096, false, "lut", "gemv_bf16_m4", 2, 256},
		{16, "bf16", 4096, false, "lut", "gemv_bf16_m16", 2, 256},
		{16, "nf4", 4096, true, "lut", "gemv_nf4_mma", 8 * MMATiles, 128},
		{16, "small", 128, true, "lut", "gemv_bf16_mma", 8 * MMATiles, 32},
		{4, "small", 128, true, "lut", "gemv_bf16_m4", 2, 32}, // 4 tokens: measured faster without tensor cores
		{16, "nf4", 64, true, "lut", "gemv_nf4_m16", 2, 32},   // 64 columns: no tensor cores
		{1, "nf4", 4096, true, "lut", "gemv_nf4_m1", NF4Rows, 128},
	} {
		ChunkMMA, NF4Decode = tc.mma, tc.decode
		name, rows, threads := productKernel(tc.mm, tc.kind, tc.in)
		if name != tc.name || rows != tc.rows || threads != tc.threads {
			t.Errorf("%d tokens, %s, %d columns, mma %v: %s, %d rows, %d threads; want %s, %d, %d",
				tc.mm, tc.kind, tc.in, tc.mma, name, rows, threads, tc.name, tc.rows, tc.threads)
		}
		if !slices.Contains(kernelNames, name) {
			t.Errorf("%s is not among the kernels the engine loads", name)
		}
	}
}
