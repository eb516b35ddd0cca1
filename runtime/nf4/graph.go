package nf4

import (
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
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

// RowTimes is x·Wᵀ for one row x [1, in] (float32) and an NF4 matrix W
// [out, in] given as packed [out·in/2] uint8 and absmax [out·in/64]
// float32, read packed: it returns [1, out] float32. Each byte's two code
// values multiply the two activations they belong to, the products are
// summed per block of 64 weights, and each block sum is scaled by its
// absmax once (not every weight). It needs in to be a multiple of
// BlockSize, so that blocks never straddle rows; see RowTimesOK.
//
// This is the decode-step path: on an H100 (XLA CUDA plugin) a 14336×4096
// matrix takes ~37 µs this way against ~137 µs for Dequantize followed by
// a dot and ~54 µs for the same matrix in bf16; looking up a 256-entry
// table of code pairs per byte was 3× slower than the two 16-entry
// lookups, and scaling every product by its absmax 15–35% slower.
func RowTimes(x, packed, absmax *Node, out, in int) *Node {
	g := x.Graph()
	nb, half := in/BlockSize, BlockSize/2
	if x.DType() != dtypes.Float32 {
		x = ConvertDType(x, dtypes.Float32)
	}
	p := Reshape(packed, out, nb, half)
	// Division by 16 (not a shift, which not every backend has) gives the
	// high nibble, the weight at the even column.
	hi := ConvertDType(Div(p, Scalar(g, dtypes.Uint8, 16)), dtypes.Int32)
	lo := ConvertDType(BitwiseAnd(p, Scalar(g, dtypes.Uint8, 15)), dtypes.Int32)
	code := Const(g, Code[:])
	lookup := func(idx *Node) *Node { // flat indices: simplego's Gather wants rank-2 ones
		return Reshape(Gather(code, Reshape(idx, out*nb*half, 1)), out, nb, half)
	}
	vh, vl := lookup(hi), lookup(lo)
	xr := Reshape(x, nb, half, 2)
	xe := BroadcastToDims(Reshape(Slice(xr, AxisRange(), AxisRange(), AxisRange(0, 1)), 1, nb, half), out, nb, half)
	xo := BroadcastToDims(Reshape(Slice(xr, AxisRange(), AxisRange(), AxisRange(1, 2)), 1, nb, half), out, nb, half)
	blocks := ReduceSum(Add(Mul(vh, xe), Mul(vl, xo)), 2) // [out, nb]
	y := ReduceSum(Mul(blocks, Reshape(absmax, out, nb)), 1)
	return Reshape(y, 1, out)
}

// RowTimesOK says whether RowTimes handles a matrix of shape [out, in].
func RowTimesOK(shape []int) bool {
	return len(shape) == 2 && shape[1]%BlockSize == 0
}

// DoubleTensors returns the device-ready tensors of a double-quantized
// absmax vector: q [m] int8, scale [⌈m/256⌉] float32 and mean [1] float32.
func (d *DoubleQuant) DoubleTensors() (q, scale, mean *tensors.Tensor) {
	return tensors.FromFlatDataAndDimensions(d.Q, len(d.Q)),
		tensors.FromFlatDataAndDimensions(d.Scale, len(d.Scale)),
		tensors.FromFlatDataAndDimensions([]float32{d.Mean}, 1)
}

// DequantizeAbsmax builds the absmax values [m] float32 from their double
// quantization (see DoubleTensors): q[i]·scale[i/256] + mean, as
// DoubleQuant.Dequantize computes on the host.
func DequantizeAbsmax(q, scale, mean *Node) *Node {
	g := q.Graph()
	m := q.Shape().Dimensions[0]
	blocks := scale.Shape().Dimensions[0]
	v := ConvertDType(q, dtypes.Float32)
	if pad := blocks*DoubleBlockSize - m; pad > 0 {
		v = Concatenate([]*Node{v, Zeros(g, shapes.Make(dtypes.Float32, pad))}, 0)
	}
	v = Mul(Reshape(v, blocks, DoubleBlockSize), InsertAxes(scale, -1))
	v = Reshape(v, blocks*DoubleBlockSize)
	if blocks*DoubleBlockSize > m {
		v = Slice(v, AxisRange(0, m))
	}
	return Add(v, Reshape(mean)) // mean [1] as a scalar
}
