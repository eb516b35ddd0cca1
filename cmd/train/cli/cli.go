// Package cli implements cmd/train, supervised fine-tuning of a
// Mistral-family model on extraction examples with QLoRA (or full-parameter
// training of small models). cmd/train's main is
// os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)).
//
//	train -data data.jsonl -o DIR [-model random:tiny|DIR] [-steps N | -epochs 1]
//	      [-quant nf4|bf16|f32] [-full] [-r 64] [-alpha 16] [-dropout 0.1]
//	      [-lr 2e-4] [-wd 0.001] [-clip 0.3] [-warmup 0.03] [-batch 4] [-accum 1]
//	      [-max-len 1024] [-loss completion|full] [-pad 64] [-seed 42]
//	      [-eval-every N] [-save-every N] [-resume] [-skip-bad] [-merge-into DIR]
//	      [-tokenizer FILE] [-backend NAME] [-one-program] [-save-inputs f32|bf16]
//	      [-double-quant] [-bf16-mlp]
//	      [-schema userprofile|invoice|supportticket|functioncall] [-validate=false] [-mask-loss]
//	train -bench N [-model …] [-quant …] [-batch 4] [-max-len 1024] [-accum 1] [-r 64] [-full] …
//
// The data are JSONL records as cmd/datagen writes them (prompt,
// completion, split; a record with only text is cut at the cue): the train
// split trains, the validation split gives the evaluation loss. A sequence
// is BOS + prompt, the completion tokenized as a continuation, EOS (see
// package templates), cut to -max-len (the count is reported); the loss
// covers the completion and EOS, or with -loss full every token after BOS.
// Batches group sequences of similar length and are padded to a multiple
// of -pad. Every completion is checked against the contract of a
// generated schema package (-schema, default userprofile: its strict
// Parse) as the data is read; one that fails is a bad line, like a
// malformed one: exit 2 naming the file, line and record, or skipped and
// reported with -skip-bad. -validate=false trains on data of a contract
// schemac has no package for.
//
// -mask-loss applies the token masks of a generated schema package
// (-schema, default userprofile) to the loss: at every loss position
// inside the completion the softmax covers only the tokens the schema's
// table allows in the state the completion has reached (EOS only where
// the value is complete), so capacity goes to content, not punctuation;
// other positions (the prompt, with -loss full) keep the full softmax. The
// table must be compiled for the tokenizer in use (same fingerprint and
// vocabulary size as the model), and every completion must be one the
// table accepts: one it refuses is malformed data (exit 2, naming the
// record). Evaluation losses are masked the same way, so they are not
// comparable with those of an unmasked run; a checkpoint resumes only
// with the same masking.
//
// The defaults are the article's QLoRA recipe: base frozen in NF4 (bf16
// compute), LoRA r 64, alpha 16, dropout 0.1 on q/k/v/o/gate/up/down,
// AdamW lr 2e-4 (weight decay 0.001), global-norm clipping 0.3, constant
// schedule with 3% warmup, batch 4, one epoch. -full trains every weight in
// float32 instead (small models, e.g. from -model random:tiny).
//
// A micro-batch runs layer by layer (package train, layered.go): the
// device keeps only each layer's input (-save-inputs; by default bf16 when
// the base computes in bf16, f32 otherwise) and recomputes a layer in its
// backward pass, so memory grows with one layer's activations, not all of
// them. -one-program runs each micro-batch as one program instead: no
// recomputation, but every layer's activations on the device. -batch 1
// -accum 4 is the same optimizer step as -batch 4 (the loss is the mean
// over the step's targets) with a quarter of the activations.
//
// -bench N measures training speed without data: one untimed step (it
// compiles), then N timed optimizer steps of -accum micro-batches of
// -batch random sequences of -max-len tokens (loss on every token after
// BOS), with the other flags as for training (e.g. -model
// random:mistral-7b; NF4 and r 64 are the defaults). It prints each
// step on stderr and one JSON line on stdout: tokens/s over the timed
// steps and the device-memory estimate in bytes: peak_bytes = the
// resident tensors (base, trainable, AdamW moments) + the step's tensors
// held at the peak (saved layer inputs, gradients) + the peak program's
// outputs and temporaries as XLA compiled them (programs lists each
// program's figures). PJRT preallocates the device, so the driver's usage
// says nothing; backends without compiled figures (-backend go) count
// outputs only. A training run prints the same estimate at its end.
//
// Progress goes to stderr, one line per step (loss, learning rate,
// gradient norm, tokens/s, ETA). DIR receives checkpoint.safetensors
// (every -save-every steps and at the end, written atomically; -resume
// continues from it exactly), log.json (every step's loss, gradient norm,
// learning rate, tokens/s, evaluation losses), loss.png, and the result:
// adapter_config.json + adapter_model.safetensors (a PEFT adapter with
// peft's tensor names) or, with -full, config.json + model.safetensors.
// -merge-into OUT also writes the base with the adapter merged as a bf16
// checkpoint (needs a dense base: -model DIR, or -quant bf16/f32).
//
// Out of device memory, the error names the knobs: -batch (with -accum),
// -max-len, -r, -save-inputs bf16, -double-quant, -bf16-mlp, no -one-program.
//
// Exit codes: 0 success; 1 bad usage, unreadable files, or a failure;
// 2 malformed data; 3 the loss diverged (not finite): the last good
// checkpoint is kept and named.
package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/backends"
	_ "github.com/gomlx/gomlx/backends/simplego" // always there; main adds XLA
	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/gen/functioncall"
	"github.com/schemac-dev/schemac/gen/invoice"
	"github.com/schemac-dev/schemac/gen/supportticket"
	"github.com/schemac-dev/schemac/gen/userprofile"
	"github.com/schemac-dev/schemac/runtime/dataset"
	"github.com/schemac-dev/schemac/runtime/mask"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/safetensors"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
	"github.com/schemac-dev/schemac/runtime/train"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFailure  = 1
	ExitBadData  = 2
	ExitDiverged = 3
)

// DefaultTokenizer is the Mistral-7B vocabulary, relative to the
// repository root.
const DefaultTokenizer = "testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"

// randomStd is the standard deviation of random base weights (Hugging
// Face's initializer_range).
const randomStd = 0.02

type options struct {
	modelName, data, out, quant, lossMode, tokenizer, backend, mergeInto, schema string
	saveInputs                                                                   string
	steps, epochs, batch, accum, maxLen, pad, r, evalEvery, saveEvery, bench     int
	lr, alpha, dropout, wd, clip, warmup                                         float64
	seed                                                                         int64
	full, resume, skipBad, maskLoss, oneProgram, doubleQuant, bf16MLP            bool
	doubleQuantSet, bf16MLPSet                                                   bool // given on the command line (else chosen by storage)
	measureMemory                                                                bool
	memoryLimit                                                                  float64
	sampleMemory                                                                 bool
	validate                                                                     bool
}

// schemas are the generated packages -mask-loss knows, by name (as in
// cmd/extract).
var schemas = map[string]func(vocabFingerprint string) (*mask.Table, error){
	"userprofile":   userprofile.TableFor,
	"invoice":       invoice.TableFor,
	"supportticket": supportticket.TableFor,
	"functioncall":  functioncall.TableFor,
}

// validators check a completion against a generated package's contract
// (its strict Parse: the JSON layout-free, every keyword of the schema),
// by the names of schemas.
var validators = map[string]func([]byte) error{
	"userprofile":   func(b []byte) error { _, err := userprofile.Parse(b); return err },
	"invoice":       func(b []byte) error { _, err := invoice.Parse(b); return err },
	"supportticket": func(b []byte) error { _, err := supportticket.Parse(b); return err },
	"functioncall":  func(b []byte) error { _, err := functioncall.Parse(b); return err },
}

func schemaNames() []string {
	ns := slices.Collect(maps.Keys(schemas))
	slices.Sort(ns)
	return ns
}

type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// Run runs the command and returns its exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	o := &options{}
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.modelName, "model", "random:tiny", "base model: a Hugging Face checkpoint directory or random:<config> (random:tiny, random:mistral-7b)")
	fs.StringVar(&o.data, "data", "", "JSONL data file (cmd/datagen's records)")
	fs.StringVar(&o.out, "o", "", "output directory: adapter (or model with -full), checkpoint, log.json, loss.png")
	fs.IntVar(&o.steps, "steps", 0, "optimizer steps (0: -epochs passes over the train split)")
	fs.IntVar(&o.epochs, "epochs", 1, "passes over the train split when -steps is 0")
	fs.StringVar(&o.quant, "quant", "", "base storage: nf4 (bf16 compute, the default for LoRA), bf16, f32 (the only choice with -full)")
	fs.BoolVar(&o.doubleQuant, "double-quant", false, "with nf4: quantize the absmax values too (int8, a scale per 256), 0.3 GB less for 7B (default: on with nf4, as QLoRA does)")
	fs.BoolVar(&o.full, "full", false, "full-parameter training (float32) instead of LoRA")
	fs.IntVar(&o.r, "r", 64, "LoRA rank")
	fs.Float64Var(&o.alpha, "alpha", 16, "LoRA alpha (scale alpha/r)")
	fs.Float64Var(&o.dropout, "dropout", 0.1, "LoRA dropout")
	fs.Float64Var(&o.lr, "lr", 2e-4, "peak learning rate")
	fs.Float64Var(&o.wd, "wd", 0.001, "AdamW weight decay")
	fs.Float64Var(&o.clip, "clip", 0.3, "global gradient-norm clipping (0: none)")
	fs.Float64Var(&o.warmup, "warmup", 0.03, "warmup ratio (linear, then constant)")
	fs.IntVar(&o.batch, "batch", 4, "sequences per micro-batch")
	fs.IntVar(&o.accum, "accum", 1, "micro-batches per optimizer step (gradient accumulation)")
	fs.IntVar(&o.maxLen, "max-len", 1024, "longest sequence in tokens (longer ones are cut, and counted)")
	fs.StringVar(&o.lossMode, "loss", "completion", "tokens the loss covers: completion (completion and EOS) or full (all after BOS)")
	fs.IntVar(&o.pad, "pad", 64, "pad batches to a multiple of this many tokens (bounds the compiled shapes)")
	fs.Int64Var(&o.seed, "seed", 42, "seed of random weights, LoRA initialization, dropout and data order")
	fs.IntVar(&o.evalEvery, "eval-every", 0, "evaluation loss on the validation split every N steps (0: at the end)")
	fs.IntVar(&o.saveEvery, "save-every", 0, "checkpoint every N steps (0: at the end only)")
	fs.BoolVar(&o.resume, "resume", false, "continue from the checkpoint in -o")
	fs.BoolVar(&o.skipBad, "skip-bad", false, "skip malformed data lines (reported) instead of stopping")
	fs.StringVar(&o.mergeInto, "merge-into", "", "also write the base with the adapter merged, as a bf16 checkpoint, to this directory")
	fs.StringVar(&o.tokenizer, "tokenizer", "", "tokenizer.json (default: the model directory's, else "+DefaultTokenizer+")")
	fs.BoolVar(&o.validate, "validate", true, "check every completion against -schema's contract as the data is read (a completion that fails is a bad line: fatal, or skipped with -skip-bad)")
	fs.BoolVar(&o.maskLoss, "mask-loss", false, "restrict the softmax of completion positions to the tokens the schema allows there (see -schema)")
	fs.StringVar(&o.schema, "schema", "userprofile", "generated schema package the completions follow (-validate checks them, -mask-loss applies its token masks): "+strings.Join(schemaNames(), ", "))
	fs.BoolVar(&o.bf16MLP, "bf16-mlp", false, "keep the MLP's largest activations in bf16 (a bf16 or NF4 base), as transformers does: less memory (default: on with a bf16 or NF4 base)")
	fs.BoolVar(&o.oneProgram, "one-program", false, "run each micro-batch as one program (autodiff keeps every layer's activations: fast, much memory) instead of layer by layer with recomputation")
	fs.StringVar(&o.saveInputs, "save-inputs", "", "dtype of the layer inputs kept for the backward pass: f32, bf16 (default: bf16 when the base computes in bf16, else f32)")
	fs.IntVar(&o.bench, "bench", 0, "benchmark: N timed optimizer steps (after one untimed, compiling step) on random tokens of -batch × -max-len, no -data or -o; prints tokens/s and the device-memory estimate as JSON")
	fs.Float64Var(&o.memoryLimit, "memory-limit", 0, "with -bench on the XLA CUDA backend: cap XLA's allocator at this many GB (10^9 bytes), reserved up front, so the run either fits or fails with an out-of-memory error")
	fs.BoolVar(&o.sampleMemory, "sample-memory", false, "with -bench on the XLA CUDA backend: XLA's platform allocator (no pool: each buffer is freed when it dies) and the device memory in use sampled during the timed steps; reports their maximum (tokens/s is then not representative)")
	fs.BoolVar(&o.measureMemory, "measure-memory", false, "with -bench on the XLA CUDA backend: let XLA's allocator grow on demand and report the memory in use after the run (its pool's high-water mark: an upper bound, as the pool grows by ever larger regions) beside the estimate")
	fs.StringVar(&o.backend, "backend", "", "GoMLX backend (default $GOMLX_BACKEND, else go); e.g. xla:/path/to/xla_cuda_plugin.so")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitFailure
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.doubleQuantSet, o.bf16MLPSet = set["double-quant"], set["bf16-mlp"]
	if err := run(o, fs.Args(), stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "train:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return ExitFailure
	}
	return ExitOK
}

func usage(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

func run(o *options, extra []string, stdout, stderr io.Writer) error {
	switch {
	case len(extra) > 0:
		return usage("unexpected arguments %q", extra)
	case o.bench < 0:
		return usage("-bench %d: must not be negative", o.bench)
	case o.bench > 0:
		return bench(o, stdout, stderr)
	case o.data == "":
		return usage("-data is required")
	case o.out == "":
		return usage("-o is required")
	case o.lossMode != "completion" && o.lossMode != "full":
		return usage("-loss %q: completion or full", o.lossMode)
	case o.batch <= 0 || o.accum <= 0 || o.maxLen < 2 || o.pad <= 0 || o.steps < 0 || o.epochs <= 0:
		return usage("-batch, -accum, -pad, -epochs must be positive, -max-len at least 2, -steps not negative")
	case o.evalEvery < 0 || o.saveEvery < 0:
		return usage("-eval-every and -save-every must not be negative")
	case (o.maskLoss || o.validate) && schemas[o.schema] == nil:
		return usage("-schema %q: one of %s", o.schema, strings.Join(schemaNames(), ", "))
	}
	dtype, quant, err := storage(o)
	if err != nil {
		return err
	}
	if o.full && o.mergeInto != "" {
		return usage("-merge-into merges an adapter; -full writes the model itself")
	}
	random := model.IsNamed(o.modelName)
	if o.mergeInto != "" && random && quant != model.Dense {
		return usage("-merge-into needs a dense base: -model DIR, or -quant bf16/f32")
	}

	// Configuration and tokenizer, checked before any data or weights.
	cfg, err := model.ConfigFor(o.modelName)
	if err != nil {
		return err
	}
	tokPath := o.tokenizer
	if tokPath == "" {
		tokPath = DefaultTokenizer
		if !random {
			if p := filepath.Join(o.modelName, "tokenizer.json"); fileExists(p) {
				tokPath = p
			}
		}
	}
	tok, err := tokenizer.Load(tokPath)
	if err != nil {
		return fmt.Errorf("tokenizer %s: %w", tokPath, err)
	}
	if tok.VocabSize() > cfg.VocabSize {
		return fmt.Errorf("tokenizer %s has %d tokens, the model's vocabulary only %d", tokPath, tok.VocabSize(), cfg.VocabSize)
	}
	var table *mask.Table
	if o.maskLoss {
		if table, err = schemas[o.schema](tok.Fingerprint()); err != nil {
			return fmt.Errorf("-mask-loss: schema %s: %w", o.schema, err)
		}
		if table.VocabSize != tok.VocabSize() || table.VocabSize != cfg.VocabSize {
			return fmt.Errorf("-mask-loss: schema %s's table is for a vocabulary of %d tokens; tokenizer %s has %d, the model %d",
				o.schema, table.VocabSize, tokPath, tok.VocabSize(), cfg.VocabSize)
		}
	}

	// Data.
	f, err := os.Open(o.data)
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	var check func([]byte) error
	if o.validate {
		check = validators[o.schema]
	}
	recs, bad, err := train.ReadCheckedRecords(f, o.data, o.skipBad, check)
	f.Close()
	if err != nil {
		var le *train.LineError
		if errors.As(err, &le) {
			hint := "use -skip-bad to skip bad lines"
			if o.validate {
				hint += fmt.Sprintf(", -validate=false for data of a contract other than -schema %s", o.schema)
			}
			return &exitError{ExitBadData, fmt.Errorf("%w (%s)", err, hint)}
		}
		return err
	}
	for _, b := range bad {
		fmt.Fprintf(stderr, "train: skipped %v\n", b)
	}
	var trainRecs, valRecs []dataset.Record
	for _, r := range recs {
		switch r.Split {
		case dataset.Train:
			trainRecs = append(trainRecs, r)
		case dataset.Validation:
			valRecs = append(valRecs, r)
		}
	}
	fullLoss := o.lossMode == "full"
	var trainSeqs, valSeqs []train.Sequence
	var trunc, dropped, vtrunc, vdropped int
	if table != nil {
		if trainSeqs, trunc, dropped, err = train.TokenizeMasked(tok, trainRecs, o.maxLen, fullLoss, table); err == nil {
			valSeqs, vtrunc, vdropped, err = train.TokenizeMasked(tok, valRecs, o.maxLen, fullLoss, table)
		}
		if err != nil {
			return &exitError{ExitBadData, fmt.Errorf("%s: -mask-loss with schema %s: %w", o.data, o.schema, err)}
		}
	} else {
		trainSeqs, trunc, dropped = train.Tokenize(tok, trainRecs, o.maxLen, fullLoss)
		valSeqs, vtrunc, vdropped = train.Tokenize(tok, valRecs, o.maxLen, fullLoss)
	}
	if len(trainSeqs) == 0 {
		return &exitError{ExitBadData, fmt.Errorf("%s: no training example (%d records in the train split, %d cut to nothing by -max-len %d)", o.data, len(trainRecs), dropped, o.maxLen)}
	}
	if trunc+vtrunc+dropped+vdropped > 0 {
		fmt.Fprintf(stderr, "train: %d sequences longer than -max-len %d were cut (%d train, %d validation); %d had no loss token left and were dropped\n",
			trunc+vtrunc, o.maxLen, trunc, vtrunc, dropped+vdropped)
	}
	steps := o.steps
	if steps == 0 {
		steps = train.StepsFor(len(trainSeqs), o.batch, o.accum, o.epochs)
	}

	// Weights.
	backend, err := model.NewBackend(o.backend)
	if err != nil {
		return err
	}
	defer backend.Finalize()
	start := time.Now()
	base, err := loadBase(o, backend, cfg, dtype, quant)
	if err != nil {
		return err
	}
	defer base.Finalize()
	topts := trainOptions(o, steps)
	if table != nil {
		topts.MaskTable, topts.MaskName = table, o.schema
	}
	tr, err := train.New(backend, base, topts)
	if err != nil {
		return err
	}
	defer tr.Finalize()
	fmt.Fprintf(stderr, "train: %s (%s %s), %d trainable values, %d train / %d validation sequences, %d steps of %d×%d sequences; weights ready in %v\n",
		o.modelName, dtype, quantLabel(quant), tr.NumTrainable(), len(trainSeqs), len(valSeqs), steps, o.accum, o.batch, time.Since(start).Round(time.Millisecond))
	if table != nil {
		fmt.Fprintf(stderr, "train: loss masked by schema %s's tables (%d states, %d rows)\n", o.schema, table.NumStates, table.NumRows())
	}

	log := &train.RunLog{}
	ckpt := filepath.Join(o.out, train.CheckpointFile)
	if o.resume {
		if err := tr.LoadCheckpoint(ckpt); err != nil {
			return err
		}
		if log, err = train.ReadLog(o.out); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "train: resuming at step %d from %s\n", tr.Step, ckpt)
	} else if fileExists(ckpt) {
		return usage("%s exists: pass -resume to continue that run, or choose another -o", ckpt)
	}
	lo := train.LoopOptions{Batch: o.batch, Accum: o.accum, Steps: steps, PadTo: o.pad, EvalEvery: o.evalEvery,
		SaveEvery: o.saveEvery, Seed: o.seed, Dir: o.out, Progress: stderr}
	if err := train.Loop(tr, log, trainSeqs, valSeqs, lo); err != nil {
		var nan *train.NaNError
		if errors.As(err, &nan) {
			return &exitError{ExitDiverged, err}
		}
		return oomHint(err)
	}
	fmt.Fprintf(stderr, "train: %s\n", memLine(tr))

	// Results.
	if o.full {
		err = tr.SaveModel(o.out, false)
	} else {
		err = tr.SaveAdapter(o.out, o.modelName)
	}
	if err != nil {
		return err
	}
	if png, err := train.LossPNG(log); err == nil {
		if err := os.WriteFile(filepath.Join(o.out, "loss.png"), png, 0o644); err != nil {
			return err
		}
	}
	if o.mergeInto != "" {
		if err := merge(o, backend, cfg, base, dtype); err != nil {
			return fmt.Errorf("-merge-into %s: %w", o.mergeInto, err)
		}
	}
	summary := map[string]any{"steps": tr.Step, "out": o.out, "trainable": tr.NumTrainable()}
	if n := len(log.Steps); n > 0 {
		summary["loss"] = log.Steps[n-1].Loss
		summary["first_loss"] = log.Steps[0].Loss
		for i := n - 1; i >= 0; i-- {
			if e := log.Steps[i].EvalLoss; e != nil {
				summary["eval_loss"] = *e
				break
			}
		}
	}
	text, _ := json.Marshal(summary)
	fmt.Fprintln(stdout, string(text))
	return nil
}

// storage is the dtype and quantization of the base that -quant and
// -full ask for.
func storage(o *options) (dtypes.DType, model.Quant, error) {
	dtype, quant := dtypes.BFloat16, model.NF4
	switch o.quant {
	case "":
		if o.full {
			dtype, quant = dtypes.Float32, model.Dense
		}
	case "nf4":
	case "bf16":
		quant = model.Dense
	case "f32":
		dtype, quant = dtypes.Float32, model.Dense
	default:
		return 0, "", usage("-quant %q: nf4, bf16 or f32", o.quant)
	}
	if o.full && (dtype != dtypes.Float32 || quant != model.Dense) {
		return 0, "", usage("-full trains float32 weights: -quant f32 (or none)")
	}
	// unless given, both are on where they apply: they take the 7B
	// recipe (batch 4 × 1024) under 10 GB without losing speed
	if !o.doubleQuantSet {
		o.doubleQuant = quant == model.NF4
	}
	if !o.bf16MLPSet {
		o.bf16MLP = dtype == dtypes.BFloat16
	}
	if o.doubleQuant && quant != model.NF4 {
		return 0, "", usage("-double-quant needs -quant nf4")
	}
	if o.bf16MLP && dtype != dtypes.BFloat16 {
		return 0, "", usage("-bf16-mlp needs a bf16 compute base: -quant nf4 or bf16")
	}
	switch o.saveInputs {
	case "", "f32", "bf16":
	default:
		return 0, "", usage("-save-inputs %q: f32 or bf16", o.saveInputs)
	}
	return dtype, quant, nil
}

// loadBase draws (random:NAME) or loads the base weights.
func loadBase(o *options, backend backends.Backend, cfg *model.Config, dtype dtypes.DType, quant model.Quant) (*model.Weights, error) {
	var w *model.Weights
	if model.IsNamed(o.modelName) {
		w, err := model.RandomWeights(backend, cfg, dtype, quant, o.seed, randomStd)
		if err != nil {
			return nil, err
		}
		return doubleQuant(o, backend, w)
	}
	set, err := safetensors.OpenModel(o.modelName)
	if err != nil {
		return nil, err
	}
	defer set.Close()
	if w, err = model.LoadWeights(cfg, set, model.LoadOptions{DType: dtype, Quant: quant, Backend: backend}); err != nil {
		return nil, err
	}
	return doubleQuant(o, backend, w)
}

// doubleQuant applies -double-quant to loaded weights (freed on error).
func doubleQuant(o *options, backend backends.Backend, w *model.Weights) (*model.Weights, error) {
	if !o.doubleQuant {
		return w, nil
	}
	if err := w.DoubleQuantize(backend); err != nil {
		w.Finalize()
		return nil, err
	}
	return w, nil
}

// trainOptions are the trainer's options from the flags.
func trainOptions(o *options, steps int) train.Options {
	topts := train.DefaultOptions()
	topts.Full, topts.R, topts.Alpha, topts.Dropout = o.full, o.r, o.alpha, o.dropout
	topts.LR, topts.WeightDecay, topts.MaxGradNorm, topts.WarmupRatio = o.lr, o.wd, o.clip, o.warmup
	topts.Steps, topts.Seed = steps, o.seed
	topts.OneProgram, topts.SaveInputs, topts.BF16MLP = o.oneProgram, o.saveInputs, o.bf16MLP
	return topts
}

// oomHint adds the knobs that lower device memory to an out-of-memory
// error of the backend.
func oomHint(err error) error {
	s := err.Error()
	if !strings.Contains(s, "RESOURCE_EXHAUSTED") && !strings.Contains(strings.ToLower(s), "out of memory") {
		return err
	}
	return fmt.Errorf("%w\nout of device memory: lower -batch (and raise -accum to keep the batch), -max-len or -r; use -save-inputs bf16, -double-quant, -bf16-mlp; without -one-program only one layer's activations are kept", err)
}

// memLine describes the trainer's device-memory estimate.
func memLine(tr *train.Trainer) string {
	m := tr.MemStats()
	base, params, moments := tr.ResidentParts()
	src := "XLA's compiled sizes"
	if !m.Compiled {
		src = "tensor sizes only: this backend reports no program temporaries"
	}
	return fmt.Sprintf("device memory estimate: peak %s (resident %s: base %s, trainable %s, AdamW %s; step tensors %s; program %s %s) from %s",
		gib(m.Peak), gib(m.Resident), gib(base), gib(params), gib(moments), gib(m.PeakStep), m.PeakName, gib(m.PeakProgram), src)
}

// gib formats bytes in GiB (MiB below one GiB).
func gib(n int64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// merge writes the base with the saved adapter merged, in bf16.
func merge(o *options, backend backends.Backend, cfg *model.Config, base *model.Weights, dtype dtypes.DType) error {
	var w *model.Weights
	var err error
	if model.IsNamed(o.modelName) {
		// The same random draw as the base.
		w, err = model.RandomWeights(backend, cfg, dtype, model.Dense, o.seed, randomStd)
	} else {
		var set *safetensors.Set
		if set, err = safetensors.OpenModel(o.modelName); err != nil {
			return err
		}
		w, err = model.LoadWeights(cfg, set, model.LoadOptions{DType: dtypes.BFloat16, Backend: backend})
		set.Close()
	}
	if err != nil {
		return err
	}
	defer w.Finalize()
	a, err := model.ReadAdapter(o.out, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := w.AddLoRA(backend, a, true); err != nil {
		return err
	}
	if err := train.SaveWeights(w, o.mergeInto); err != nil {
		return err
	}
	if !model.IsNamed(o.modelName) {
		if text, err := os.ReadFile(filepath.Join(o.modelName, "tokenizer.json")); err == nil {
			return os.WriteFile(filepath.Join(o.mergeInto, "tokenizer.json"), text, 0o644)
		}
	}
	return nil
}

func quantLabel(q model.Quant) string {
	if q == model.Dense {
		return "dense"
	}
	return string(q)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
