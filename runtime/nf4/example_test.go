package nf4_test

import (
	"fmt"

	"github.com/schemac-dev/schemac/runtime/nf4"
)

func Example() {
	w := make([]float32, 64)
	for i := range w {
		w[i] = float32(i-32) / 32
	}
	q, err := nf4.Quantize("w", w, []int{1, 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	d := q.Dequantize()
	fmt.Printf("%d bytes, absmax %g, w[0]=%g→%g, w[40]=%g→%.4f\n", q.Bytes(), q.Absmax[0], w[0], d[0], w[40], d[40])
	// Output: 36 bytes, absmax 1, w[0]=-1→-1, w[40]=0.25→0.2461
}
