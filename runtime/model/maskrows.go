package model

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/mask"
)

// MaskRowsEOS lays out a table's allowed-token rows for AllowedTokens, as
// bits the way SetMask stores them (⌈V/8⌉ bytes a row, token t at bit t%8
// of byte t/8), each row twice: row 2r is the table's row r with EOS not
// allowed, row 2r+1 the same with EOS allowed. MaskRowEOS gives a state's
// index into it, so one index per position carries the state's EOS rule
// too (EOS allowed exactly in accepting states, as in maskLogits). vocab
// must be the table's vocabulary size. The tensor is on the host.
func MaskRowsEOS(t *mask.Table, vocab int) (*tensors.Tensor, error) {
	if t.VocabSize != vocab {
		return nil, fmt.Errorf("mask table for a vocabulary of %d tokens, the model has %d", t.VocabSize, vocab)
	}
	v8 := (vocab + 7) / 8
	rows := t.NumRows()
	data := make([]uint8, 2*rows*v8)
	words := t.RowMatrix()
	eos := int(t.EOS)
	for r := range rows {
		lo, hi := data[2*r*v8:(2*r+1)*v8], data[(2*r+1)*v8:(2*r+2)*v8]
		for b := range v8 {
			w := words[r*t.Words+b/8]
			lo[b] = uint8(w >> (8 * (b % 8)))
		}
		if eos >= 0 && eos < vocab {
			lo[eos/8] &^= 1 << (eos % 8)
		}
		copy(hi, lo)
		if eos >= 0 && eos < vocab {
			hi[eos/8] |= 1 << (eos % 8)
		}
	}
	return tensors.FromFlatDataAndDimensions(data, 2*rows, v8), nil
}

// MaskRowEOS is state s's row in MaskRowsEOS's layout: 2·RowIndex(s), +1
// when s is accepting; -1 for a state out of range.
func MaskRowEOS(t *mask.Table, s int32) int32 {
	r := t.RowIndex(s)
	if r < 0 {
		return -1
	}
	if t.Accepting(s) {
		return 2*r + 1
	}
	return 2 * r
}

// AllowedTokens is, for row indices idx [N] int32 into rows [R, ⌈V/8⌉]
// uint8 (MaskRowsEOS), the allowed tokens [N, vocab] (Bool); a negative
// index allows every token. Bits are read as maskLogits reads them: an
// integer division by 2^(t%8) and a mask (not every backend has shifts).
func AllowedTokens(rows, idx *Node, vocab int) *Node {
	g := rows.Graph()
	n, v8 := idx.Shape().Dimensions[0], rows.Shape().Dimensions[1]
	pow := make([]uint8, 8)
	for i := range pow {
		pow[i] = uint8(1) << i
	}
	r := Max(idx, ScalarZero(g, dtypes.Int32))
	bytes := Gather(rows, InsertAxes(r, -1)) // [N, ⌈V/8⌉]
	spread := BroadcastToDims(InsertAxes(bytes, -1), n, v8, 8)
	div := BroadcastToDims(Reshape(Const(g, pow), 1, 1, 8), n, v8, 8)
	bits := BitwiseAnd(Div(spread, div), Scalar(g, dtypes.Uint8, 1)) // [N, ⌈V/8⌉, 8]: token 8b+i at [b, i]
	bits = Reshape(bits, n, v8*8)
	if v8*8 != vocab {
		bits = Slice(bits, AxisRange(), AxisRange(0, vocab))
	}
	allowed := NotEqual(bits, ScalarZero(g, dtypes.Uint8))
	all := BroadcastToDims(InsertAxes(LessThan(idx, ScalarZero(g, dtypes.Int32)), -1), n, vocab)
	return Or(allowed, all)
}
