package nf4

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestRowTimes checks the packed one-row product against the host
// dequantization times x, in float64.
func TestRowTimes(t *testing.T) {
	backend, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sh := range [][2]int{{3, 64}, {5, 192}, {128, 64}} {
		out, in := sh[0], sh[1]
		w := make([]float32, out*in)
		for i := range w {
			w[i] = float32(rng.NormFloat64())
		}
		q, err := Quantize("w", w, []int{out, in})
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float32, in)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		deq := q.Dequantize()
		packed, absmax := q.Tensors()
		exec, err := NewExec(backend, func(x, p, a *Node) *Node { return RowTimes(x, p, a, out, in) })
		if err != nil {
			t.Fatal(err)
		}
		res, err := exec.Exec1(tensors.FromFlatDataAndDimensions(x, 1, in), packed, absmax)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tensors.CopyFlatData[float32](res)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != out {
			t.Fatalf("%v: %d outputs", sh, len(got))
		}
		var num, den float64
		for o := range out {
			var ref float64
			for j := range in {
				ref += float64(deq[o*in+j]) * float64(x[j])
			}
			num += (float64(got[o]) - ref) * (float64(got[o]) - ref)
			den += ref * ref
		}
		if e := math.Sqrt(num / den); !(e < 1e-6) {
			t.Errorf("%v: relative error %g", sh, e)
		}
		exec.Finalize()
	}
	if RowTimesOK([]int{4, 100}) || !RowTimesOK([]int{4, 128}) {
		t.Error("RowTimesOK")
	}
}
