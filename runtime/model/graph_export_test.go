package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestDotGeneralGradient compares the gradient of products built by
// dotGeneral (two products) with GoMLX's own DotGeneral gradient
// (broadcast and sum) on small operands, for batch axes, several and
// unsorted contracting axes, and crosses on both sides. Rsqrt's gradient
// is checked against the one of 1/Sqrt.
func TestDotGeneralGradient(t *testing.T) {
	cases := []struct {
		l, r           []int
		lc, lb, rc, rb []int
	}{
		{[]int{5, 3}, []int{4, 3}, []int{1}, nil, []int{1}, nil},                             // linear
		{[]int{2, 3, 6, 4}, []int{2, 3, 5, 4}, []int{3}, []int{0, 1}, []int{3}, []int{0, 1}}, // attention scores
		{[]int{2, 3, 6, 5}, []int{2, 3, 5, 4}, []int{3}, []int{0, 1}, []int{2}, []int{0, 1}}, // probs × values
		{[]int{4, 2, 3, 5}, []int{5, 3, 2}, []int{1, 3}, nil, []int{2, 0}, nil},              // unsorted contractions
		{[]int{3, 4, 2}, []int{2, 6, 3}, []int{2}, []int{0}, []int{0}, []int{2}},             // batch axis last on rhs
	}
	r := rand.New(rand.NewPCG(1, 1))
	random := func(dims []int) *tensors.Tensor {
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var outDims []int
			probe := NewGraph(testBackend(), "shape")
			y := DotGeneral(Parameter(probe, "l", shapes.Make(dtypes.Float32, c.l...)), c.lc, c.lb,
				Parameter(probe, "r", shapes.Make(dtypes.Float32, c.r...)), c.rc, c.rb)
			outDims = y.Shape().Dimensions
			probe.Finalize()
			weights := random(outDims)
			grads := func(dot func(l *Node, lc, lb []int, r *Node, rc, rb []int) *Node) [][]float32 {
				exec, err := NewExec(testBackend(), func(l, rr, w *Node) []*Node {
					y := dot(l, c.lc, c.lb, rr, c.rc, c.rb)
					return Gradient(ReduceAllSum(Mul(y, w)), l, rr)
				})
				if err != nil {
					t.Fatal(err)
				}
				defer exec.Finalize()
				outs, err := exec.Exec(random(c.l), random(c.r), weights)
				if err != nil {
					t.Fatal(err)
				}
				return [][]float32{tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])}
			}
			r = rand.New(rand.NewPCG(2, uint64(i)))
			want := grads(DotGeneral)
			r = rand.New(rand.NewPCG(2, uint64(i)))
			got := grads(dotGeneral)
			for k := range want {
				if d, at := maxAbsDiff(got[k], want[k]); d > 1e-4 {
					t.Errorf("operand %d: max |diff| %g at %d", k, d, at)
				}
			}
		})
	}
	t.Run("rsqrt", func(t *testing.T) {
		x := tensors.FromValue([]float32{0.5, 1, 2, 7})
		g := func(f func(*Node) *Node) []float32 {
			exec, err := NewExec(testBackend(), func(x *Node) *Node { return Gradient(ReduceAllSum(f(x)), x)[0] })
			if err != nil {
				t.Fatal(err)
			}
			defer exec.Finalize()
			out, err := exec.Exec1(x)
			if err != nil {
				t.Fatal(err)
			}
			return tensors.MustCopyFlatData[float32](out)
		}
		if d, _ := maxAbsDiff(g(Rsqrt), g(func(x *Node) *Node { return Inverse(Sqrt(x)) })); d > 1e-6 {
			t.Errorf("Rsqrt gradient off by %g", d)
		}
	})
}
