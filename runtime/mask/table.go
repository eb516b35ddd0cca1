package mask

import (
	"fmt"
	"math"
)

// Table is the decode-time view of a compiled schema for one vocabulary.
//
// States are the byte DFA's states (0..NumStates-1); the state after a
// token is the DFA state reached by the token's bytes. Fields are exported
// so a compiler can fill them; Load and Validate check their consistency.
type Table struct {
	// VocabSize is the number of tokens; EOS is the end-of-sequence token
	// (-1 if the vocabulary has none). EOS is never in a row: it is allowed
	// exactly in accepting states.
	VocabSize int
	EOS       int32
	// StartState is the state before the first token.
	StartState int32
	NumStates  int
	// Class maps each byte to its class (< NumClasses); Trans holds the
	// byte transitions, Trans[s*NumClasses+Class[b]], -1 for none.
	NumClasses int
	Class      [256]uint8
	Trans      []int32
	// Accept marks the accepting states (where EOS is allowed).
	Accept []bool
	// RowOf is, per state, the index of its allowed-token row; Rows holds
	// the rows flat, row r at Rows[r*Words:(r+1)*Words], token t at bit
	// t%64 of word t/64.
	RowOf []int32
	Rows  []uint64
	Words int
	// ForcedData[ForcedOff[s]:ForcedOff[s+1]] are the bytes forced from
	// state s (NumStates+1 offsets).
	ForcedOff  []uint32
	ForcedData []byte
	// TokenData[TokenOff[t]:TokenOff[t+1]] are the bytes of token t
	// (VocabSize+1 offsets; empty for control tokens).
	TokenOff  []uint32
	TokenData []byte
	// Vocab is the fingerprint of the tokenizer the table was built for,
	// e.g. "sha256:…".
	Vocab string
}

// StepError reports a token that may not be emitted in a state.
type StepError struct {
	State int32
	Token int
	// Reason says why: "EOS ends the output", "token not allowed",
	// "token out of range", "state out of range".
	Reason string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("mask: token %d in state %d: %s", e.Token, e.State, e.Reason)
}

// Start returns the state before the first token.
func (t *Table) Start() int32 { return t.StartState }

// NumRows is the number of distinct allowed-token rows.
func (t *Table) NumRows() int {
	if t.Words == 0 {
		return 0
	}
	return len(t.Rows) / t.Words
}

func (t *Table) valid(s int32) bool { return uint32(s) < uint32(len(t.RowOf)) }

// Accepting reports whether the output may end in state s (EOS allowed).
func (t *Table) Accepting(s int32) bool {
	return t.valid(s) && t.Accept[s]
}

// Allowed reports whether token tok may be emitted in state s. EOS is
// allowed exactly where the state is accepting; an out-of-range state or
// token is never allowed.
func (t *Table) Allowed(s int32, tok int) bool {
	if !t.valid(s) {
		return false
	}
	if tok == int(t.EOS) {
		return t.Accept[s]
	}
	if uint(tok) >= uint(t.VocabSize) {
		return false
	}
	return t.Rows[int(t.RowOf[s])*t.Words+tok>>6]&(1<<(tok&63)) != 0
}

// RowIndex returns the index of state s's row (for a device-resident copy
// of RowMatrix), or -1 for an out-of-range state.
func (t *Table) RowIndex(s int32) int32 {
	if !t.valid(s) {
		return -1
	}
	return t.RowOf[s]
}

// Row returns the allowed-token bitset of state s, Words words, EOS bit
// never set (nil for an out-of-range state). The slice aliases the table:
// copy it, do not modify it.
func (t *Table) Row(s int32) []uint64 {
	if !t.valid(s) {
		return nil
	}
	r := int(t.RowOf[s]) * t.Words
	return t.Rows[r : r+t.Words : r+t.Words]
}

// RowMatrix returns all rows, row-major, Words words each (aliases the
// table: do not modify).
func (t *Table) RowMatrix() []uint64 { return t.Rows }

// Forced returns the bytes forced from state s (no choice and no
// acceptance before them), aliasing the table; nil if none.
func (t *Table) Forced(s int32) []byte {
	if !t.valid(s) {
		return nil
	}
	a, b := t.ForcedOff[s], t.ForcedOff[s+1]
	if a == b {
		return nil
	}
	return t.ForcedData[a:b:b]
}

// TokenBytes returns the bytes token tok adds to the output, aliasing the
// table; nil for control tokens and ids out of range.
func (t *Table) TokenBytes(tok int) []byte {
	if tok < 0 || tok >= t.VocabSize {
		return nil
	}
	a, b := t.TokenOff[tok], t.TokenOff[tok+1]
	if a == b {
		return nil
	}
	return t.TokenData[a:b:b]
}

// Next returns the state after emitting tok in state s. It fails with a
// *StepError naming the state and token when tok is not allowed there, and
// for EOS, which ends the output. It does not allocate when it succeeds.
func (t *Table) Next(s int32, tok int) (int32, error) {
	if !t.valid(s) {
		return -1, &StepError{s, tok, "state out of range"}
	}
	if tok == int(t.EOS) {
		return -1, &StepError{s, tok, "EOS ends the output"}
	}
	if uint(tok) >= uint(t.VocabSize) {
		return -1, &StepError{s, tok, "token out of range"}
	}
	if t.Rows[int(t.RowOf[s])*t.Words+tok>>6]&(1<<(tok&63)) == 0 {
		return -1, &StepError{s, tok, "token not allowed"}
	}
	nc := t.NumClasses
	next, class := t.Trans, &t.Class
	q := s
	for _, c := range t.TokenData[t.TokenOff[tok]:t.TokenOff[tok+1]] {
		q = next[int(q)*nc+int(class[c])]
		if q < 0 {
			// a table built by the compiler never gets here: rows only
			// hold tokens whose bytes run in the DFA
			return -1, &StepError{s, tok, "token bytes leave the automaton"}
		}
	}
	return q, nil
}

// Match runs the byte DFA over text from StartState. ok reports whether
// every byte has a transition and the state after the last one is
// accepting; at is the offset of the first byte without a transition, or
// len(text) when all bytes were consumed, accepting or not. It does not
// allocate.
func (t *Table) Match(text []byte) (ok bool, at int) {
	s := t.StartState
	if !t.valid(s) {
		return false, 0
	}
	nc := t.NumClasses
	next, class := t.Trans, &t.Class
	for i, c := range text {
		if s = next[int(s)*nc+int(class[c])]; s < 0 {
			return false, i
		}
	}
	return t.Accept[s], len(text)
}

var negInf = float32(math.Inf(-1))

// MaskLogits sets, in place, the logits of tokens not allowed in state s to
// -Inf. EOS keeps its logit only in accepting states; logits beyond
// VocabSize are set to -Inf. A shorter slice is masked as far as it goes.
// An out-of-range state masks everything.
func (t *Table) MaskLogits(s int32, logits []float32) {
	if !t.valid(s) {
		for i := range logits {
			logits[i] = negInf
		}
		return
	}
	keepEOS := t.Accept[s] && t.EOS >= 0 && int(t.EOS) < len(logits)
	var eos float32
	if keepEOS {
		eos = logits[t.EOS]
	}
	n := min(len(logits), t.VocabSize)
	row := t.Row(s)
	for w, bits := range row {
		lo := w * 64
		if lo >= n {
			break
		}
		hi := min(lo+64, n)
		switch bits {
		case ^uint64(0):
		case 0:
			for i := lo; i < hi; i++ {
				logits[i] = negInf
			}
		default:
			for i := lo; i < hi; i++ {
				if bits&(1<<(i&63)) == 0 {
					logits[i] = negInf
				}
			}
		}
	}
	for i := n; i < len(logits); i++ {
		logits[i] = negInf
	}
	if keepEOS {
		logits[t.EOS] = eos
	}
}

// CheckVocab fails unless fingerprint is the fingerprint of the tokenizer
// the table was built for.
func (t *Table) CheckVocab(fingerprint string) error {
	if fingerprint != t.Vocab {
		return fmt.Errorf("mask: table was built for tokenizer %s, but tokenizer %s is in use; recompile the schema for this tokenizer", orNone(t.Vocab), orNone(fingerprint))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(no fingerprint)"
	}
	return fmt.Sprintf("%q", s)
}

// Validate checks that the table is consistent: sizes agree, every
// transition, row index, class and offset is in range, and no row has EOS
// or a bit beyond VocabSize set.
func (t *Table) Validate() error {
	if t.VocabSize < 1 || t.VocabSize > math.MaxInt32-1 {
		return fmt.Errorf("mask: vocabulary size %d out of range", t.VocabSize)
	}
	if t.EOS < -1 || int(t.EOS) >= t.VocabSize {
		return fmt.Errorf("mask: EOS %d out of range [0,%d)", t.EOS, t.VocabSize)
	}
	if t.NumStates < 1 || t.NumStates > math.MaxInt32 {
		return fmt.Errorf("mask: %d states", t.NumStates)
	}
	if t.StartState < 0 || int(t.StartState) >= t.NumStates {
		return fmt.Errorf("mask: start state %d out of range [0,%d)", t.StartState, t.NumStates)
	}
	if t.NumClasses < 1 || t.NumClasses > 256 {
		return fmt.Errorf("mask: %d byte classes", t.NumClasses)
	}
	for b, c := range t.Class {
		if int(c) >= t.NumClasses {
			return fmt.Errorf("mask: byte 0x%02X in class %d of %d", b, c, t.NumClasses)
		}
	}
	if len(t.Trans) != t.NumStates*t.NumClasses {
		return fmt.Errorf("mask: %d transitions for %d states × %d classes", len(t.Trans), t.NumStates, t.NumClasses)
	}
	for i, n := range t.Trans {
		if n < -1 || int(n) >= t.NumStates {
			return fmt.Errorf("mask: transition %d of state %d goes to %d, out of range", i%t.NumClasses, i/t.NumClasses, n)
		}
	}
	if len(t.Accept) != t.NumStates || len(t.RowOf) != t.NumStates {
		return fmt.Errorf("mask: %d accept flags and %d row indexes for %d states", len(t.Accept), len(t.RowOf), t.NumStates)
	}
	if t.Words != (t.VocabSize+63)/64 {
		return fmt.Errorf("mask: %d words per row for %d tokens", t.Words, t.VocabSize)
	}
	if len(t.Rows)%t.Words != 0 {
		return fmt.Errorf("mask: row data of %d words is not a multiple of %d", len(t.Rows), t.Words)
	}
	nrows := t.NumRows()
	for s, r := range t.RowOf {
		if r < 0 || int(r) >= nrows {
			return fmt.Errorf("mask: state %d has row %d, out of range [0,%d)", s, r, nrows)
		}
	}
	last := t.VocabSize - (t.Words-1)*64 // bits used in the last word
	var tail uint64
	if last < 64 {
		tail = ^uint64(0) << last
	}
	for r := 0; r < nrows; r++ {
		row := t.Rows[r*t.Words : (r+1)*t.Words]
		if row[t.Words-1]&tail != 0 {
			return fmt.Errorf("mask: row %d has tokens beyond the vocabulary", r)
		}
		if t.EOS >= 0 && row[t.EOS>>6]&(1<<(t.EOS&63)) != 0 {
			return fmt.Errorf("mask: row %d contains EOS", r)
		}
	}
	if err := checkOffsets("forced", t.ForcedOff, t.NumStates, len(t.ForcedData)); err != nil {
		return err
	}
	if err := checkOffsets("token", t.TokenOff, t.VocabSize, len(t.TokenData)); err != nil {
		return err
	}
	return nil
}

func checkOffsets(what string, off []uint32, n, size int) error {
	if len(off) != n+1 {
		return fmt.Errorf("mask: %d %s offsets for %d entries", len(off), what, n)
	}
	if off[0] != 0 {
		return fmt.Errorf("mask: first %s offset is %d, not 0", what, off[0])
	}
	for i := 1; i < len(off); i++ {
		if off[i] < off[i-1] {
			return fmt.Errorf("mask: %s offsets decrease at entry %d", what, i)
		}
	}
	if int(off[n]) != size {
		return fmt.Errorf("mask: %s offsets end at %d, data has %d bytes", what, off[n], size)
	}
	return nil
}
