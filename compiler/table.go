package compiler

import (
	"github.com/schemac-dev/schemac/runtime/mask"
)

// Table converts the compiled token automaton into the runtime's
// decode-time table (see package mask), recording vocabFingerprint (the
// tokenizer's Fingerprint) so the runtime can refuse another tokenizer.
func (r *Result) Table(vocabFingerprint string) *mask.Table {
	a := r.Tokens
	d := a.DFA
	n := a.NumStates()
	words := (a.VocabSize + 63) / 64
	t := &mask.Table{
		VocabSize:  a.VocabSize,
		EOS:        a.EOS,
		StartState: a.Start,
		NumStates:  n,
		NumClasses: d.NumClasses,
		Class:      d.Class,
		Trans:      append([]int32(nil), d.Next[:n*d.NumClasses]...),
		Accept:     append([]bool(nil), d.Accept[:n]...),
		RowOf:      append([]int32(nil), a.Row...),
		Rows:       make([]uint64, 0, len(a.Rows)*words),
		Words:      words,
		ForcedOff:  make([]uint32, 1, n+1),
		TokenOff:   make([]uint32, 1, a.VocabSize+1),
		Vocab:      vocabFingerprint,
	}
	for _, row := range a.Rows {
		t.Rows = append(t.Rows, row[:words]...)
	}
	for s := 0; s < n; s++ {
		if s < len(a.Forced) {
			t.ForcedData = append(t.ForcedData, a.Forced[s]...)
		}
		t.ForcedOff = append(t.ForcedOff, uint32(len(t.ForcedData)))
	}
	for id := 0; id < a.VocabSize; id++ {
		t.TokenData = append(t.TokenData, a.TokenBytes[id]...)
		t.TokenOff = append(t.TokenOff, uint32(len(t.TokenData)))
	}
	return t
}
