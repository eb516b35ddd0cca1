package model

import (
	"fmt"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/mask"
)

// SetMask uploads the allowed-token rows of a compiled schema's table to
// the device, once: afterwards StepMasked takes a row index per step. The
// table must be for this model's vocabulary size. The rows are stored as
// bits, ⌈V/8⌉ bytes a row (4 000 bytes for 32 000 tokens), token t at bit
// t%8 of byte t/8: the little-endian bytes of the table's 64-bit words.
func (m *Model) SetMask(t *mask.Table) error {
	if t.VocabSize != m.Config.VocabSize {
		return fmt.Errorf("mask table for a vocabulary of %d tokens, the model has %d", t.VocabSize, m.Config.VocabSize)
	}
	v8 := (m.Config.VocabSize + 7) / 8
	rows := t.NumRows()
	data := make([]uint8, rows*v8)
	words := t.RowMatrix()
	for r := range rows {
		for b := range v8 {
			w := words[r*t.Words+b/8]
			data[r*v8+b] = uint8(w >> (8 * (b % 8)))
		}
	}
	tt := tensors.FromFlatDataAndDimensions(data, rows, v8)
	if err := tt.MaterializeOnDevice(m.Backend, false, 0); err != nil {
		return err
	}
	tt.FinalizeLocal()
	if m.maskRows != nil {
		m.maskRows.FinalizeAll()
	}
	m.maskRows, m.maskRowCount, m.eos, m.maskTable = tt, rows, int(t.EOS), t
	return nil
}

// ensureMask puts a one-row stand-in on the device when no table is set,
// so that the step program has the same inputs either way.
func (m *Model) ensureMask() error {
	if m.maskRows != nil {
		return nil
	}
	v8 := (m.Config.VocabSize + 7) / 8
	tt := tensors.FromFlatDataAndDimensions(make([]uint8, v8), 1, v8)
	if err := tt.MaterializeOnDevice(m.Backend, false, 0); err != nil {
		return err
	}
	tt.FinalizeLocal()
	m.maskRows, m.maskRowCount = tt, 0
	return nil
}

// maskLogits sets to -inf the logits [V] of tokens that row (an index
// into rows [R, ⌈V/8⌉] uint8) does not allow; EOS (id eos ≥ 0) is allowed
// exactly when eosOK; row < 0 allows everything. Bits are read with an
// integer division by 2^(t%8) and a mask: not every backend has shifts.
func maskLogits(logits, rows, row, eosOK *Node, eos int) *Node {
	g := logits.Graph()
	v := logits.Shape().Dimensions[0]
	byteIdx := make([]int32, v)
	pow := make([]uint8, v)
	for t := range v {
		byteIdx[t], pow[t] = int32(t/8), uint8(1)<<(t%8)
	}
	r := Max(row, ScalarZero(g, dtypes.Int32))
	rowBytes := Gather(rows, Reshape(r, 1))                        // [⌈V/8⌉]
	tokByte := Gather(rowBytes, InsertAxes(Const(g, byteIdx), -1)) // [V]
	bit := BitwiseAnd(Div(tokByte, Const(g, pow)), Scalar(g, dtypes.Uint8, 1))
	allowed := NotEqual(bit, ScalarZero(g, dtypes.Uint8))
	if eos >= 0 && eos < v {
		isEOS := Equal(Iota(g, shapes.Make(dtypes.Int32, v), 0), Scalar(g, dtypes.Int32, eos))
		allowed = Where(isEOS, BroadcastToDims(eosOK, v), allowed)
	}
	allowed = Or(allowed, BroadcastToDims(LessThan(row, ScalarZero(g, dtypes.Int32)), v))
	return Where(allowed, logits, Infinity(g, dtypes.Float32, -1))
}

// MaskRows returns the mask rows SetMask put on the device (nil before
// the first SetMask), their count and the EOS id of their table (-1:
// none), for a Stepper that applies them itself.
func (m *Model) MaskRows() (rows *tensors.Tensor, count, eos int) {
	if m.maskTable == nil {
		return nil, 0, -1
	}
	return m.maskRows, m.maskRowCount, m.eos
}
