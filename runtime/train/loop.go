package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"
)

// LoopOptions say how Loop feeds a Trainer.
type LoopOptions struct {
	Batch     int // sequences per micro-batch
	Accum     int // micro-batches per optimizer step (gradient accumulation)
	Steps     int // optimizer steps of the whole run (see StepsFor)
	PadTo     int // batches are padded to a multiple of this many tokens (fewer compiled shapes)
	EvalEvery int // evaluation loss every N steps (0: only at the end); needs validation sequences
	SaveEvery int // checkpoint every N steps (0: never before the end)
	Seed      int64
	Dir       string    // output directory: checkpoint, log; "" writes nothing
	Progress  io.Writer // one line per step (nil: none)

	// StopAfter ends the loop after that step (0: run to Steps), with a
	// checkpoint, as an interrupted run would have: tests of resume use it.
	StopAfter int
}

// StepsFor is the number of optimizer steps of epochs passes over n
// sequences (at least 1).
func StepsFor(n, batch, accum, epochs int) int {
	perEpoch := (n + batch - 1) / batch
	return max(1, perEpoch*epochs/max(accum, 1))
}

// LogEntry is one line of the training log.
type LogEntry struct {
	Step     int      `json:"step"`
	Loss     float64  `json:"loss"`
	GradNorm float64  `json:"grad_norm"`
	LR       float64  `json:"lr"`
	Tokens   int      `json:"tokens"`
	TokensPS float64  `json:"tokens_per_s"`
	EvalLoss *float64 `json:"eval_loss,omitempty"`
	ElapsedS float64  `json:"elapsed_s"`
}

// RunLog is the JSON log of a run (log.json in the output directory).
type RunLog struct {
	Steps []LogEntry `json:"steps"`
}

// LogFile is the name of the JSON log in the output directory.
const LogFile = "log.json"

// ReadLog reads a run's log.json (an empty log when there is none).
func ReadLog(dir string) (*RunLog, error) {
	text, err := os.ReadFile(filepath.Join(dir, LogFile))
	if errors.Is(err, os.ErrNotExist) {
		return &RunLog{}, nil
	}
	if err != nil {
		return nil, err
	}
	var l RunLog
	if err := json.Unmarshal(text, &l); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, LogFile), err)
	}
	return &l, nil
}

func (l *RunLog) write(dir string) error {
	text, err := json.MarshalIndent(l, "", " ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, LogFile), append(text, '\n'))
}

// NaNError is a loss or gradient norm that is not finite; the run stopped
// and the last checkpoint (if any) is the last good state.
type NaNError struct {
	Step       int
	Loss, Norm float64
	Checkpoint string // path of the last good checkpoint, "" if none
	CheckStep  int
}

func (e *NaNError) Error() string {
	s := fmt.Sprintf("step %d: loss %g, gradient norm %g: training diverged (lower -lr, check the data)", e.Step, e.Loss, e.Norm)
	if e.Checkpoint != "" {
		return s + fmt.Sprintf("; the last good checkpoint is %s (step %d)", e.Checkpoint, e.CheckStep)
	}
	return s + "; no checkpoint was written"
}

// schedule gives the micro-batches of each optimizer step: a stream of
// length-grouped batches (Order), epoch after epoch.
type schedule struct {
	seqs    []Sequence
	lengths []int
	o       LoopOptions
	epochs  map[int][][]int
}

func newSchedule(seqs []Sequence, o LoopOptions) *schedule {
	s := &schedule{seqs: seqs, o: o, epochs: map[int][][]int{}}
	for _, q := range seqs {
		s.lengths = append(s.lengths, len(q.Tokens))
	}
	return s
}

// micro returns the micro-batches of optimizer step (0-based).
func (s *schedule) micro(step int) []Batch {
	perEpoch := (len(s.seqs) + s.o.Batch - 1) / s.o.Batch
	var out []Batch
	for k := range s.o.Accum {
		i := step*s.o.Accum + k
		epoch := i / perEpoch
		order, ok := s.epochs[epoch]
		if !ok {
			order = Order(s.lengths, s.o.Batch, s.o.Seed, epoch)
			s.epochs = map[int][][]int{epoch: order} // keep one epoch
		}
		var batch []Sequence
		for _, j := range order[i%perEpoch] {
			batch = append(batch, s.seqs[j])
		}
		out = append(out, MakeBatch(batch, s.o.PadTo))
	}
	return out
}

// evalBatches are the validation sequences in batches of similar length.
func evalBatches(seqs []Sequence, o LoopOptions) []Batch {
	lengths := make([]int, len(seqs))
	for i, q := range seqs {
		lengths[i] = len(q.Tokens)
	}
	var out []Batch
	for _, idx := range Order(lengths, o.Batch, 0, 0) {
		var b []Sequence
		for _, j := range idx {
			b = append(b, seqs[j])
		}
		out = append(out, MakeBatch(b, o.PadTo))
	}
	return out
}

// Loop trains t from its current step to o.Steps on the training
// sequences: progress on o.Progress, evaluation loss on val every
// o.EvalEvery steps and at the end, a checkpoint every o.SaveEvery steps
// and at the end, the JSON log (log.json) beside it. A loss that is not
// finite stops the run with a *NaNError and writes nothing more, so the
// last checkpoint stays the last good state. The data order depends only
// on o.Seed and the step, so a run resumed from a checkpoint (Trainer.
// LoadCheckpoint, the log read back with ReadLog) continues exactly.
func Loop(t *Trainer, log *RunLog, trainSeqs, val []Sequence, o LoopOptions) error {
	if len(trainSeqs) == 0 {
		return errors.New("no training sequences")
	}
	if o.Batch <= 0 || o.Accum <= 0 || o.Steps <= 0 {
		return fmt.Errorf("batch %d, accumulation %d, steps %d: must be positive", o.Batch, o.Accum, o.Steps)
	}
	if o.Dir != "" {
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return err
		}
	}
	schedule := fmt.Sprintf("batch %d, accumulation %d, pad %d, seed %d, %d sequences", o.Batch, o.Accum, o.PadTo, o.Seed, len(trainSeqs))
	if t.Step > 0 && t.Schedule != "" && t.Schedule != schedule {
		return fmt.Errorf("the checkpoint's run fed its data with %s; this run with %s: resume with the same settings and data", t.Schedule, schedule)
	}
	t.Schedule = schedule
	// Entries past the trainer's step come from an interrupted run.
	for len(log.Steps) > 0 && log.Steps[len(log.Steps)-1].Step > t.Step {
		log.Steps = log.Steps[:len(log.Steps)-1]
	}
	sched := newSchedule(trainSeqs, o)
	var evals []Batch
	if len(val) > 0 {
		evals = evalBatches(val, o)
	}
	ckpt, ckptStep := "", 0
	if o.Dir != "" {
		if _, err := os.Stat(filepath.Join(o.Dir, CheckpointFile)); err == nil {
			ckpt, ckptStep = filepath.Join(o.Dir, CheckpointFile), t.Step
		}
	}
	save := func() error {
		if o.Dir == "" {
			return nil
		}
		path := filepath.Join(o.Dir, CheckpointFile)
		if err := t.SaveCheckpoint(path); err != nil {
			return err
		}
		ckpt, ckptStep = path, t.Step
		return log.write(o.Dir)
	}
	start := time.Now()
	first := t.Step
	tokens := 0
	end := o.Steps
	if o.StopAfter > 0 {
		end = min(end, o.StopAfter)
	}
	for t.Step < end {
		stepStart := time.Now()
		res, err := t.TrainStep(sched.micro(t.Step))
		if err != nil {
			return err
		}
		if math.IsNaN(res.Loss) || math.IsInf(res.Loss, 0) || math.IsNaN(res.GradNorm) || math.IsInf(res.GradNorm, 0) {
			return &NaNError{Step: t.Step, Loss: res.Loss, Norm: res.GradNorm, Checkpoint: ckpt, CheckStep: ckptStep}
		}
		tokens += res.Tokens
		elapsed := time.Since(start)
		e := LogEntry{Step: t.Step, Loss: res.Loss, GradNorm: res.GradNorm, LR: res.LR, Tokens: res.Tokens,
			TokensPS: float64(res.Tokens) / time.Since(stepStart).Seconds(), ElapsedS: elapsed.Seconds()}
		last := t.Step == end
		if len(evals) > 0 && (last || (o.EvalEvery > 0 && t.Step%o.EvalEvery == 0)) {
			l, err := t.EvalLoss(evals)
			if err != nil {
				return err
			}
			e.EvalLoss = &l
		}
		log.Steps = append(log.Steps, e)
		if o.Progress != nil {
			done := t.Step - first
			eta := time.Duration(float64(elapsed) / float64(done) * float64(o.Steps-t.Step))
			line := fmt.Sprintf("step %d/%d  loss %.4f  lr %.2e  grad norm %.3f  %.0f tokens/s  ETA %v",
				t.Step, o.Steps, res.Loss, res.LR, res.GradNorm, float64(tokens)/elapsed.Seconds(), eta.Round(time.Second))
			if e.EvalLoss != nil {
				line += fmt.Sprintf("  eval loss %.4f", *e.EvalLoss)
			}
			fmt.Fprintln(o.Progress, line)
		}
		if last || (o.SaveEvery > 0 && t.Step%o.SaveEvery == 0) {
			if err := save(); err != nil {
				return err
			}
		}
	}
	return nil
}
