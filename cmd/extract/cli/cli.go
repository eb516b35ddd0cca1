// Package cli is cmd/extract: extraction with a Mistral/Llama model under a
// compiled schema.
//
//	extract -model DIR|random:tiny|random:mistral-7b [-adapter DIR|random:R [-merge]]
//	        [-quant bf16|nf4|f32] [-schema userprofile|invoice|supportticket|functioncall]
//	        [-prompt TEXT | < text] [-unconstrained] [-max N] [-temperature T -top-p P -seed S]
//	        [-no-jump] [-bench N] [-backend go|xla:PLUGIN] [-v]
//
// The input text is wrapped in the extraction prompt of package templates
// (the same text training used); the output is the JSON value, exactly as
// the constrained decoder writes it, on stdout. -bench N instead runs N
// timed generations unconstrained and N constrained on a prompt of
// -bench-prompt tokens and prints a table (prefill ms, tokens/s, steps
// saved by jump-forward, device memory of weights and KV cache).
//
// Each step shape compiles one program the first time it runs; one that
// compiles for more than model.CompileNotice (3 s) is announced on stderr,
// with its time when done (a 7B NF4 step takes about 2 minutes on an H100).
//
// Exit codes: 0 done; 1 usage or I/O error; 2 the model, adapter, schema
// or tokenizer cannot be used (the message says why, before any work).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/gomlx/gomlx/backends/simplego" // always there; main adds XLA
	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/gen/functioncall"
	"github.com/schemac-dev/schemac/gen/invoice"
	"github.com/schemac-dev/schemac/gen/supportticket"
	"github.com/schemac-dev/schemac/gen/userprofile"
	"github.com/schemac-dev/schemac/runtime/cuda"
	"github.com/schemac-dev/schemac/runtime/gpudecode"
	"github.com/schemac-dev/schemac/runtime/mask"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/safetensors"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
	"github.com/schemac-dev/schemac/templates"
)

// schemas are the generated packages extract knows, by name.
var schemas = map[string]struct {
	table  func(string) (*mask.Table, error)
	schema string
}{
	"userprofile":   {userprofile.TableFor, userprofile.SchemaJSON},
	"invoice":       {invoice.TableFor, invoice.SchemaJSON},
	"supportticket": {supportticket.TableFor, supportticket.SchemaJSON},
	"functioncall":  {functioncall.TableFor, functioncall.SchemaJSON},
}

// DefaultTokenizer is used for random:… models (relative to the working
// directory, as in the repository root).
const DefaultTokenizer = "testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"

type options struct {
	model, adapter, quant, schema, tokenizer, input, backend string
	engine                                                   string
	merge, unconstrained, noJump, verbose, doubleQuant       bool
	maxNew, bench, benchPrompt, context                      int
	temperature, topP                                        float64
	seed                                                     uint64
}

// usageError is a bad command line (exit 1); other errors exit 2 or 1.
type usageError struct{ error }

// Run is the command; it returns the exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.model, "model", "", "model directory (Hugging Face layout) or random:tiny|random:mistral-7b")
	fs.StringVar(&o.adapter, "adapter", "", "PEFT LoRA adapter directory, or random:R (random factors of rank R on the seven projections, for -bench)")
	fs.BoolVar(&o.merge, "merge", false, "merge the adapter into the weights (bf16/f32 only) instead of applying it beside them")
	fs.BoolVar(&o.doubleQuant, "double-quant", false, "with -quant nf4: quantize the absmax values too (int8, a scale per 256), 0.3 GB less for 7B")
	fs.StringVar(&o.quant, "quant", "bf16", "weights: bf16, nf4 (layer projections 4-bit, dequantized in the graph) or f32")
	fs.StringVar(&o.schema, "schema", "userprofile", "generated schema package: "+strings.Join(schemaNames(), ", "))
	fs.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer.json (default: the model directory's, or "+DefaultTokenizer+" for random models)")
	fs.StringVar(&o.input, "prompt", "", "the text to extract from, put into the extraction prompt (default: stdin)")
	fs.BoolVar(&o.unconstrained, "unconstrained", false, "no schema constraint (prints whatever the model writes)")
	fs.BoolVar(&o.noJump, "no-jump", false, "no jump-forward over forced bytes")
	fs.IntVar(&o.maxNew, "max", 256, "most tokens to generate")
	fs.Float64Var(&o.temperature, "temperature", 0, "sampling temperature (0: greedy)")
	fs.Float64Var(&o.topP, "top-p", 1, "nucleus sampling mass")
	fs.Uint64Var(&o.seed, "seed", 1, "sampling seed (also of random weights)")
	fs.IntVar(&o.bench, "bench", 0, "run N timed generations unconstrained and N constrained; print a table")
	fs.IntVar(&o.benchPrompt, "bench-prompt", 300, "prompt length in tokens for -bench")
	fs.IntVar(&o.context, "context", 0, "KV cache length (default: prompt + max, rounded up to a power of two)")
	fs.StringVar(&o.backend, "backend", "", "GoMLX backend (default $GOMLX_BACKEND, else go); e.g. xla:/path/to/xla_cuda_plugin.so")
	fs.BoolVar(&o.verbose, "v", false, "progress and statistics on stderr")
	fs.StringVar(&o.engine, "engine", "auto", "decode step: xla (GoMLX programs), cuda (hand-written CUDA kernels, runtime/gpudecode; XLA CUDA backend, bf16 or nf4 weights) or auto (cuda where it applies, else xla)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "extract: unexpected arguments %q\n", fs.Args())
		return 1
	}
	err := run(&o, stdin, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "extract:", err)
		return 1
	default:
		fmt.Fprintln(stderr, "extract:", err)
		return 2
	}
}

func schemaNames() []string {
	var ns []string
	for n := range schemas {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func run(o *options, stdin io.Reader, stdout, stderr io.Writer) error {
	if o.model == "" {
		return usageError{errors.New("-model is required")}
	}
	sch, ok := schemas[o.schema]
	if !ok {
		return usageError{fmt.Errorf("-schema %q: one of %s", o.schema, strings.Join(schemaNames(), ", "))}
	}
	var dtype dtypes.DType
	quant := model.Dense
	switch o.quant {
	case "bf16":
		dtype = dtypes.BFloat16
	case "f32":
		dtype = dtypes.Float32
	case "nf4":
		dtype, quant = dtypes.BFloat16, model.NF4
	default:
		return usageError{fmt.Errorf("-quant %q: bf16, nf4 or f32", o.quant)}
	}
	if o.merge && o.adapter == "" {
		return usageError{errors.New("-merge needs -adapter")}
	}
	if o.doubleQuant && quant != model.NF4 {
		return usageError{errors.New("-double-quant needs -quant nf4")}
	}
	if o.merge && quant == model.NF4 {
		return usageError{errors.New("-merge with -quant nf4: merging into 4-bit weights is not supported; apply the adapter unmerged")}
	}
	if o.maxNew <= 0 {
		return usageError{fmt.Errorf("-max %d: must be positive", o.maxNew)}
	}
	if o.engine != "auto" && o.engine != "xla" && o.engine != "cuda" {
		return usageError{fmt.Errorf("-engine %q: auto, xla or cuda", o.engine)}
	}
	if o.engine != "xla" { // a typo must not fall back to XLA silently
		if err := gpudecode.OptionsFromEnv(); err != nil {
			return usageError{err}
		}
	}

	// Everything that can be checked is checked before any heavy work.
	random := model.IsNamed(o.model)
	cfg, err := model.ConfigFor(o.model)
	if err != nil {
		return err
	}
	tokPath := o.tokenizer
	if tokPath == "" {
		tokPath = DefaultTokenizer
		if !random {
			tokPath = filepath.Join(o.model, "tokenizer.json")
		}
	}
	tok, err := tokenizer.Load(tokPath)
	if err != nil {
		return err
	}
	if tok.VocabSize() != cfg.VocabSize {
		return fmt.Errorf("tokenizer %s has %d tokens, the model %d", tokPath, tok.VocabSize(), cfg.VocabSize)
	}
	table, err := sch.table(tok.Fingerprint())
	if err != nil {
		return fmt.Errorf("schema %s: %w", o.schema, err)
	}
	var adapter *model.Adapter
	if rank, ok := strings.CutPrefix(o.adapter, "random:"); ok {
		r, err := strconv.Atoi(rank)
		if err != nil || r <= 0 {
			return usageError{fmt.Errorf("-adapter %q: random:R with a positive rank R, e.g. random:64", o.adapter)}
		}
		if adapter, err = model.RandomAdapter(cfg, r, o.seed); err != nil {
			return err
		}
	} else if o.adapter != "" {
		if adapter, err = model.ReadAdapter(o.adapter, cfg); err != nil {
			return err
		}
		defer adapter.Close()
	}
	var set *safetensors.Set
	if !random {
		if set, err = safetensors.OpenModel(o.model); err != nil {
			return err
		}
		defer set.Close()
	}
	var input string
	if o.bench == 0 {
		if o.input != "" {
			input = o.input
		} else {
			b, err := io.ReadAll(stdin)
			if err != nil {
				return usageError{fmt.Errorf("reading stdin: %w", err)}
			}
			input = string(b)
		}
	}

	backend, err := model.NewBackend(o.backend)
	if err != nil {
		return err
	}
	defer backend.Finalize()
	logf := func(format string, args ...any) {
		if o.verbose {
			fmt.Fprintf(stderr, format+"\n", args...)
		}
	}
	start := time.Now()
	var w *model.Weights
	if random {
		w, err = model.RandomWeights(backend, cfg, dtype, quant, int64(o.seed), 0.02)
	} else {
		if o.verbose {
			next := int64(0)
			set.Progress = func(name string, done, total int64) {
				if done >= next || done == total {
					fmt.Fprintf(stderr, "loading %s: %3d%% (%.1f of %.1f GB)\n", o.model, 100*done/max(total, 1), float64(done)/1e9, float64(total)/1e9)
					next = done + total/10
				}
			}
		}
		w, err = model.LoadWeights(cfg, set, model.LoadOptions{DType: dtype, Quant: quant, Backend: backend})
	}
	if err != nil {
		return err
	}
	defer w.Finalize()
	if o.doubleQuant {
		if err := w.DoubleQuantize(backend); err != nil {
			return err
		}
	}
	if adapter != nil {
		if err := w.AddLoRA(backend, adapter, o.merge); err != nil {
			return err
		}
	}
	// One tensor per weight kind instead of one per layer: fewer inputs
	// to every step program.
	if err := w.Stack(backend); err != nil {
		return err
	}
	m, err := model.New(backend, w)
	if err != nil {
		return err
	}
	defer m.Finalize()
	m.Progress = stderr // long compiles of step programs are announced
	logf("weights: %s, %.2f GB on %s, ready in %v", o.quant, float64(w.Bytes())/1e9, backend.Name(), time.Since(start).Round(time.Millisecond))

	s := model.Sampling{Temperature: o.temperature, TopP: o.topP, Seed: o.seed}
	if o.bench > 0 {
		closeEngine, err := attachEngine(o, m, o.benchPrompt, logf)
		if err != nil {
			return err
		}
		defer closeEngine()
		return bench(o, m, table, tok, s, stdout)
	}
	x, err := templates.NewExtraction([]byte(sch.schema))
	if err != nil {
		return err
	}
	var prompt []int32
	for _, id := range tok.Encode(x.Prompt(input), tokenizer.Default) {
		prompt = append(prompt, int32(id))
	}
	closeEngine, err := attachEngine(o, m, len(prompt), logf)
	if err != nil {
		return err
	}
	defer closeEngine()
	if o.unconstrained {
		out, st, err := m.GenerateStats(prompt, o.maxNew, s, o.context, false)
		if err != nil {
			return err
		}
		ids := make([]int, len(out))
		for i, id := range out {
			ids[i] = int(id)
		}
		fmt.Fprintln(stdout, tok.Decode(ids))
		logf("%s", statsLine(st))
		return nil
	}
	out, st, err := m.GenerateConstrained(prompt, o.maxNew, s, model.Constrained{Table: table, Tokenizer: tok, JumpForward: !o.noJump})
	if err != nil {
		return err
	}
	var text []byte
	for _, id := range out {
		text = append(text, table.TokenBytes(int(id))...)
	}
	fmt.Fprintln(stdout, string(text))
	logf("%s", statsLine(st))
	if !st.Finished {
		return fmt.Errorf("no complete value within -max %d tokens (the output above is a valid prefix)", o.maxNew)
	}
	return nil
}

func statsLine(st model.DecodeStats) string {
	return fmt.Sprintf("prompt %d tokens, prefill %v; %d tokens in %d steps (%d forced), %v, %.1f tokens/s, finished %v",
		st.PromptTokens, st.Prefill.Round(time.Microsecond), st.Tokens, st.Steps, st.Forced, st.Decode.Round(time.Microsecond),
		float64(st.Tokens-1)/st.Decode.Seconds(), st.Finished)
}

// bench runs o.bench generations of o.maxNew tokens unconstrained (EOS
// ignored) and constrained, after one warm-up each, and prints a table.
func bench(o *options, m *model.Model, table *mask.Table, tok *tokenizer.Tokenizer, s model.Sampling, stdout io.Writer) error {
	prompt := make([]int32, o.benchPrompt)
	prompt[0] = int32(tok.BOS())
	for i := 1; i < len(prompt); i++ {
		prompt[i] = int32(1000 + (i*7919)%20000) // fixed ordinary tokens
	}
	type row struct {
		name     string
		prefill  []time.Duration
		perTok   []float64 // seconds per emitted token
		perStep  []float64 // seconds per step
		tokens   int
		steps    int
		finished int
	}
	runs := []*row{{name: "unconstrained"}, {name: "constrained"}, {name: "constrained, no jump-forward"}}
	for i := -1; i < o.bench; i++ { // i = -1: warm-up (compiles)
		for k, r := range runs {
			var st model.DecodeStats
			var err error
			switch k {
			case 0:
				_, st, err = m.GenerateStats(prompt, o.maxNew, s, o.context, true)
			default:
				_, st, err = m.GenerateConstrained(prompt, o.maxNew, s, model.Constrained{Table: table, Tokenizer: tok, JumpForward: k == 1})
			}
			if err != nil {
				return err
			}
			if i < 0 || st.Steps == 0 {
				continue
			}
			r.prefill = append(r.prefill, st.Prefill)
			r.perTok = append(r.perTok, st.Decode.Seconds()/float64(max(1, st.Tokens-1)))
			r.perStep = append(r.perStep, st.Decode.Seconds()/float64(st.Steps))
			r.tokens += st.Tokens
			r.steps += st.Steps + 1
			if st.Finished {
				r.finished++
			}
		}
	}
	median := func(v []float64) float64 {
		if len(v) == 0 {
			return 0
		}
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "run\tprefill ms\ttokens/s\tms/step\ttokens\tsteps\tsteps saved\tfinished\t\n")
	for _, r := range runs {
		pf := make([]float64, len(r.prefill))
		for i, d := range r.prefill {
			pf[i] = float64(d.Microseconds()) / 1000
		}
		if len(r.perTok) == 0 { // every token was forced (-max below the first forced chunk): nothing to time
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t\n", r.name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.3f\t%d\t%d\t%d\t%d/%d\t\n", r.name, median(pf), 1/median(r.perTok), 1000*median(r.perStep),
			r.tokens, r.steps, r.tokens-r.steps, r.finished, len(r.prefill))
	}
	tw.Flush()
	ctx := o.context
	if ctx <= 0 {
		ctx = 1
		for ctx < o.benchPrompt+o.maxNew {
			ctx *= 2
		}
	}
	fmt.Fprintf(stdout, "prompt %d tokens, %d new tokens, %d runs (median); device memory: weights %.2f GB + KV cache %.2f GB (%d positions)\n",
		o.benchPrompt, o.maxNew, o.bench, float64(m.Weights.Bytes())/1e9, float64(m.CacheBytes(ctx))/1e9, ctx)
	return nil
}

// attachEngine sets up the decode step that -engine asks for, with a KV
// cache for promptLen + -max tokens (or -context): the CUDA engine of
// runtime/gpudecode when it is asked for (an error when it cannot run) or
// when auto finds the XLA CUDA backend and weights it supports; else the
// XLA step programs. It returns the function that frees the engine.
func attachEngine(o *options, m *model.Model, promptLen int, logf func(string, ...any)) (func(), error) {
	none := func() {}
	if o.engine == "xla" {
		return none, nil
	}
	maxLen := o.context
	if maxLen <= 0 {
		maxLen = 1
		for maxLen < promptLen+o.maxNew {
			maxLen *= 2
		}
	}
	maxLen = min(maxLen, m.Config.MaxPositionEmbeddings)
	why := ""
	switch {
	case !strings.HasPrefix(m.Backend.Name(), "xla") || strings.Contains(strings.ToLower(m.Backend.Description()), "cpu"):
		why = "the backend is not XLA on a CUDA GPU"
	case cuda.Available() != nil:
		why = cuda.Available().Error()
	}
	if why != "" {
		if o.engine == "cuda" {
			return nil, fmt.Errorf("-engine cuda: %s", why)
		}
		logf("decode step: XLA programs (%s)", why)
		return none, nil
	}
	start := time.Now()
	e, err := gpudecode.New(m, maxLen)
	if err != nil {
		if o.engine == "cuda" {
			return nil, fmt.Errorf("-engine cuda: %w", err)
		}
		logf("decode step: XLA programs (the CUDA engine does not apply: %v)", err)
		return none, nil
	}
	m.Stepper = e
	logf("decode step: CUDA kernels (runtime/gpudecode), %d positions, ready in %v", maxLen, time.Since(start).Round(time.Millisecond))
	return func() { m.Stepper = nil; e.Close() }, nil
}
