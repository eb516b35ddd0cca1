package nf4

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Tensors returns the device-ready tensors of q: packed [n/2] uint8 and
// absmax [n/64] float32 (double quantization undone on the host: the
// absmax vector is 1/128 of the packed size).
func (q *Quantized) Tensors() (packed, absmax *tensors.Tensor) {
	a := q.Absmax
	if a == nil && q.Double != nil {
		a = q.Double.Dequantize()
	}
	return tensors.FromFlatDataAndDimensions(q.Packed, len(q.Packed)),
		tensors.FromFlatDataAndDimensions(a, len(a))
}

// Dequantize builds the dequantization in a graph: packed [n/2] uint8 and
// absmax [n/64] float32 give the weights of the given shape in dtype. The
// 4-bit indices are split with an integer division and a mask (shifts are
// not available on every backend) and looked up in the 16-entry code table
// with Gather.
func Dequantize(packed, absmax *Node, shape []int, dtype dtypes.DType) *Node {
	g := packed.Graph()
	n := 2 * packed.Shape().Dimensions[0]
	sixteen := Scalar(g, dtypes.Uint8, 16)
	hi := Div(packed, sixteen)
	lo := BitwiseAnd(packed, Scalar(g, dtypes.Uint8, 15))
	idx := Reshape(Stack([]*Node{hi, lo}, -1), n) // [n]: element 2i from the high nibble
	idx = ConvertDType(idx, dtypes.Int32)
	code := Const(g, Code[:])
	vals := Gather(code, InsertAxes(idx, -1)) // [n]
	vals = Mul(Reshape(vals, n/BlockSize, BlockSize), InsertAxes(absmax, -1))
	vals = Reshape(vals, shape...)
	if dtype != dtypes.Float32 {
		vals = ConvertDType(vals, dtype)
	}
	return vals
}
