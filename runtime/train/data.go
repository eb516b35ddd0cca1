package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/schemac-dev/schemac/runtime/dataset"
	"github.com/schemac-dev/schemac/runtime/mask"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
	"github.com/schemac-dev/schemac/templates"
)

// LineError is a malformed line of a JSONL data file.
type LineError struct {
	File string
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ReadRecords reads a JSONL data file (dataset.Record lines, as cmd/datagen
// writes them). A record needs a prompt and a completion, or only a text
// that templates.Split cuts at the cue; when both are given, text must be
// prompt + completion. A missing split is "train". Blank lines are skipped.
// A malformed line is fatal (the error is a *LineError naming file and
// line) unless skipBad, which skips it and returns it among bad.
func ReadRecords(rd io.Reader, file string, skipBad bool) (recs []dataset.Record, bad []*LineError, err error) {
	return ReadCheckedRecords(rd, file, skipBad, nil)
}

// ReadCheckedRecords is ReadRecords that also passes each completion to
// check (when not nil; for example a generated package's strict Parse): a
// completion it refuses makes its line a bad line like a malformed one.
func ReadCheckedRecords(rd io.Reader, file string, skipBad bool, check func(completion []byte) error) (recs []dataset.Record, bad []*LineError, err error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		r, lerr := parseRecord(b)
		if lerr == nil && check != nil {
			if cerr := check([]byte(r.Completion)); cerr != nil {
				lerr = fmt.Errorf("record id %d: the completion does not validate: %w", r.ID, cerr)
			}
		}
		if lerr != nil {
			le := &LineError{File: file, Line: line, Err: lerr}
			if !skipBad {
				return recs, bad, le
			}
			bad = append(bad, le)
			continue
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		return recs, bad, fmt.Errorf("%s: %w", file, err)
	}
	return recs, bad, nil
}

func parseRecord(b []byte) (dataset.Record, error) {
	var r dataset.Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("not a data record: %w", err)
	}
	if dec.More() {
		return r, errors.New("more than one JSON value on the line")
	}
	if r.Prompt == "" && r.Completion == "" && r.Text != "" {
		p, c, ok := templates.Split(r.Text)
		if !ok {
			return r, fmt.Errorf("text has no %q cue and there is no prompt/completion", templates.Cue)
		}
		r.Prompt, r.Completion = p, c
	}
	switch {
	case r.Prompt == "" || r.Completion == "":
		return r, errors.New("empty prompt or completion")
	case r.Text != "" && r.Text != r.Prompt+r.Completion:
		return r, errors.New("text is not prompt + completion")
	case r.Split == "":
		r.Split = dataset.Train
	case r.Split != dataset.Train && r.Split != dataset.Validation && r.Split != dataset.Test:
		return r, fmt.Errorf("unknown split %q (train, validation, test)", r.Split)
	}
	return r, nil
}

// Sequence is one tokenized example: BOS + prompt (tokenizer.Default),
// the completion (tokenizer.Continuation), EOS.
type Sequence struct {
	Tokens    []int32
	Start     int  // index of the first token the loss covers (the first completion token; 1 with full-text loss)
	Truncated bool // cut to the maximum length
	// MaskRows (TokenizeMasked only; nil otherwise) holds, per position j,
	// the row (model.MaskRowEOS) of the schema state in which Tokens[j+1]
	// is emitted, for the positions predicting the completion and the EOS
	// after it; -1 elsewhere (the full softmax).
	MaskRows []int32
}

// Tokenize turns records into sequences of at most maxLen tokens (longer
// ones are cut at the end, and counted in truncated). With fullLoss the
// loss covers every token after BOS (the text, as the article's
// SFTTrainer does); else only the completion and EOS. A sequence whose
// loss would cover no token after truncation is dropped (counted in
// dropped).
func Tokenize(tok *tokenizer.Tokenizer, recs []dataset.Record, maxLen int, fullLoss bool) (seqs []Sequence, truncated, dropped int) {
	seqs, truncated, dropped, _ = tokenize(tok, recs, maxLen, fullLoss, nil)
	return seqs, truncated, dropped
}

// TokenizeMasked is Tokenize for a loss masked by a schema's table
// (Options.MaskTable): each sequence also gets its MaskRows, found by
// running the completion's tokens through the table from its start state
// (the state before each token gives the row of the position predicting
// it; the state after the last one, which must be accepting, that of the
// position predicting EOS). A completion the table refuses — a token not
// allowed, or a value that ends where the schema does not accept — is an
// error (a *CompletionError naming the record): completions must be
// what the constrained decoder writes.
func TokenizeMasked(tok *tokenizer.Tokenizer, recs []dataset.Record, maxLen int, fullLoss bool, table *mask.Table) (seqs []Sequence, truncated, dropped int, err error) {
	if table == nil {
		return nil, 0, 0, errors.New("TokenizeMasked: no mask table")
	}
	return tokenize(tok, recs, maxLen, fullLoss, table)
}

// CompletionError is a completion a mask table refuses.
type CompletionError struct {
	ID    int           // the record's id
	Split dataset.Split // and split
	Text  string        // the completion
	Pos   int           // 0-based index of the refused token in the completion's tokens; the token count when it ends too early
	Err   error
}

func (e *CompletionError) Error() string {
	c := e.Text
	if len(c) > 60 {
		c = c[:60] + "…"
	}
	return fmt.Sprintf("record id %d (%s split, completion %q): the schema's table refuses it at completion token %d: %v", e.ID, e.Split, c, e.Pos, e.Err)
}

func (e *CompletionError) Unwrap() error { return e.Err }

func tokenize(tok *tokenizer.Tokenizer, recs []dataset.Record, maxLen int, fullLoss bool, table *mask.Table) (seqs []Sequence, truncated, dropped int, err error) {
	for _, r := range recs {
		p := tok.Encode(r.Prompt, tokenizer.Default)
		c := tok.Encode(r.Completion, tokenizer.Continuation)
		ids := make([]int32, 0, len(p)+len(c)+1)
		for _, id := range p {
			ids = append(ids, int32(id))
		}
		for _, id := range c {
			ids = append(ids, int32(id))
		}
		ids = append(ids, int32(tok.EOS()))
		s := Sequence{Tokens: ids, Start: len(p)}
		if fullLoss {
			s.Start = 1
		}
		if table != nil {
			if s.MaskRows, err = maskRows(table, r, len(p), c, len(ids)); err != nil {
				return nil, 0, 0, err
			}
		}
		if maxLen > 0 && len(ids) > maxLen {
			s.Tokens, s.Truncated = ids[:maxLen], true
			if s.MaskRows != nil {
				s.MaskRows = s.MaskRows[:maxLen]
				s.MaskRows[maxLen-1] = -1 // predicts nothing now
			}
			truncated++
		}
		if s.Start >= len(s.Tokens) {
			dropped++
			continue
		}
		seqs = append(seqs, s)
	}
	return seqs, truncated, dropped, nil
}

// maskRows walks the completion c (after a prompt of np tokens, in a
// sequence of n tokens) through table.
func maskRows(table *mask.Table, r dataset.Record, np int, c []int, n int) ([]int32, error) {
	rows := make([]int32, n)
	for i := range rows {
		rows[i] = -1
	}
	fail := func(pos int, err error) error {
		return &CompletionError{ID: r.ID, Split: r.Split, Text: r.Completion, Pos: pos, Err: err}
	}
	s := table.Start()
	for k, id := range c {
		rows[np-1+k] = model.MaskRowEOS(table, s)
		next, err := table.Next(s, id)
		if err != nil {
			return nil, fail(k, fmt.Errorf("token %d %q: %w", id, table.TokenBytes(id), err))
		}
		s = next
	}
	if !table.Accepting(s) {
		return nil, fail(len(c), errors.New("the completion ends before the value is complete (EOS not allowed there)"))
	}
	rows[np-1+len(c)] = model.MaskRowEOS(table, s)
	return rows, nil
}

// Batch is B sequences padded to T tokens (a multiple of the pad
// multiple), as the training graph takes them.
type Batch struct {
	B, T    int
	Tokens  []int32   // [B·T]: the sequences, padded with 0
	Labels  []int32   // [B·T]: the token at t+1 (0 where none)
	Mask    []float32 // [B·T]: 1 where the prediction at t counts in the loss
	Targets int       // number of ones in Mask
	Real    int       // tokens that are not padding
	// MaskRows [B·T] are the sequences' MaskRows where Mask is 1, -1
	// elsewhere; nil when no sequence has them.
	MaskRows []int32
}

// MakeBatch pads seqs to a common length, a multiple of padTo (≥ 1).
func MakeBatch(seqs []Sequence, padTo int) Batch {
	t := 0
	for _, s := range seqs {
		t = max(t, len(s.Tokens))
	}
	padTo = max(padTo, 1)
	t = (t + padTo - 1) / padTo * padTo
	b := Batch{B: len(seqs), T: t}
	b.Tokens = make([]int32, b.B*t)
	b.Labels = make([]int32, b.B*t)
	b.Mask = make([]float32, b.B*t)
	for _, s := range seqs {
		if s.MaskRows != nil {
			b.MaskRows = make([]int32, b.B*t)
			for i := range b.MaskRows {
				b.MaskRows[i] = -1
			}
			break
		}
	}
	for i, s := range seqs {
		row := i * t
		copy(b.Tokens[row:], s.Tokens)
		b.Real += len(s.Tokens)
		for j := 0; j+1 < len(s.Tokens); j++ {
			b.Labels[row+j] = s.Tokens[j+1]
			if j+1 >= s.Start {
				b.Mask[row+j] = 1
				b.Targets++
				if b.MaskRows != nil && s.MaskRows != nil {
					b.MaskRows[row+j] = s.MaskRows[j]
				}
			}
		}
	}
	return b
}

// megabatchMult is the number of batches in a megabatch of length
// grouping: Hugging Face's LengthGroupedSampler sorts groups of 50
// batches by length, so that a batch holds sequences of similar length
// (little padding) while the order stays random.
const megabatchMult = 50

// Order returns the sequence indices of one epoch, cut into batches of
// size (the last one may be smaller), grouped by length: a permutation
// seeded by (seed, epoch), megabatches of 50 batches each sorted by
// decreasing length, the longest batch first (as Hugging Face does, so an
// out-of-memory shows at once), the others in seeded random order.
func Order(lengths []int, size int, seed int64, epoch int) [][]int {
	r := rand.New(rand.NewPCG(uint64(seed), uint64(epoch)+0x9e3779b97f4a7c15))
	perm := r.Perm(len(lengths))
	var batches [][]int
	mega := size * megabatchMult
	for lo := 0; lo < len(perm); lo += mega {
		group := slices.Clone(perm[lo:min(lo+mega, len(perm))])
		slices.SortStableFunc(group, func(a, b int) int { return lengths[b] - lengths[a] })
		for i := 0; i < len(group); i += size {
			batches = append(batches, group[i:min(i+size, len(group))])
		}
	}
	if len(batches) > 1 {
		longest := 0
		for i, b := range batches {
			if lengths[b[0]] > lengths[batches[longest][0]] {
				longest = i
			}
		}
		batches[0], batches[longest] = batches[longest], batches[0]
		rest := batches[1:]
		r.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	}
	return batches
}
