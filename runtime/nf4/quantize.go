package nf4

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Code holds the 16 NF4 values (bitsandbytes' get_4bit_type("nf4")).
var Code = [16]float32{
	-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
	-0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
	0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
	0.44070982933044434, 0.5626170039176941, 0.7229568362236328, 1.0,
}

// BlockSize is the number of weights sharing one absmax.
const BlockSize = 64

// Quantized is one NF4 tensor.
type Quantized struct {
	Shape  []int
	Packed []byte    // len = n/2; element 2i in the high nibble of byte i, 2i+1 in the low
	Absmax []float32 // len = n/64 (nil when double-quantized)
	Double *DoubleQuant
}

// NumElements is the product of the shape.
func (q *Quantized) NumElements() int { return len(q.Packed) * 2 }

// Quantize quantizes w (row-major, of the given shape). The number of
// elements must be a multiple of BlockSize. name is used in errors.
func Quantize(name string, w []float32, shape []int) (*Quantized, error) {
	n := 1
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("nf4: %s: shape %v", name, shape)
		}
		n *= d
	}
	if n != len(w) {
		return nil, fmt.Errorf("nf4: %s: shape %v has %d elements, given %d values", name, shape, n, len(w))
	}
	if n%BlockSize != 0 {
		return nil, fmt.Errorf("nf4: %s: %d elements is not a multiple of the block size %d", name, n, BlockSize)
	}
	q := &Quantized{Shape: append([]int(nil), shape...), Packed: make([]byte, n/2), Absmax: make([]float32, n/BlockSize)}
	// Blocks are independent: split them over the CPUs.
	nb := len(q.Absmax)
	workers := min(runtime.GOMAXPROCS(0), max(1, nb/1024))
	bad := make([]int, workers)
	var wg sync.WaitGroup
	for wk := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bad[wk] = -1
			for b := wk * nb / workers; b < (wk+1)*nb/workers; b++ {
				if !q.quantizeBlock(b, w[b*BlockSize:(b+1)*BlockSize]) && bad[wk] < 0 {
					bad[wk] = b
				}
			}
		}()
	}
	wg.Wait()
	for _, b := range bad {
		if b >= 0 {
			return nil, fmt.Errorf("nf4: %s: non-finite value in block %d", name, b)
		}
	}
	return q, nil
}

// quantizeBlock fills block b; false when it holds a NaN or an infinity.
func (q *Quantized) quantizeBlock(b int, block []float32) bool {
	var amax float32
	for _, x := range block {
		a := float32(math.Abs(float64(x)))
		if !(a <= math.MaxFloat32) {
			return false
		}
		amax = max(amax, a)
	}
	q.Absmax[b] = amax
	div := max(amax, 1e-30)
	for i := 0; i < BlockSize; i += 2 {
		hi, lo := nearest(block[i]/div), nearest(block[i+1]/div)
		q.Packed[(b*BlockSize+i)/2] = hi<<4 | lo
	}
	return true
}

// mids are the midpoints between consecutive code values.
var mids = func() (m [15]float32) {
	for i := range m {
		m[i] = (Code[i] + Code[i+1]) / 2
	}
	return
}()

// nearest is the index of the code value closest to x in float32 (the
// first on a tie), as an argmin over the 16 distances: a binary search of
// the midpoints gives the candidate, its neighbours settle rounding.
func nearest(x float32) byte {
	lo, hi := 0, 15 // k = number of midpoints below x, in [lo, hi]
	for lo < hi {
		m := (lo + hi) / 2
		if mids[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	k := lo
	dk := dist(x, k)
	if k > 0 && dist(x, k-1) <= dk {
		k, dk = k-1, dist(x, k-1)
	}
	if k < 15 && dist(x, k+1) < dk {
		k++
	}
	return byte(k)
}

func dist(x float32, i int) float32 {
	d := x - Code[i]
	if d < 0 {
		return -d
	}
	return d
}

// nearestSlow is the plain argmin (tests check nearest against it).
func nearestSlow(x float32) byte {
	best, bestD := 0, float32(math.Inf(1))
	for i := range Code {
		if d := dist(x, i); d < bestD {
			best, bestD = i, d
		}
	}
	return byte(best)
}

// Indices unpacks the 4-bit indices, one per element.
func (q *Quantized) Indices() []byte {
	out := make([]byte, 2*len(q.Packed))
	for i, p := range q.Packed {
		out[2*i], out[2*i+1] = p>>4, p&15
	}
	return out
}

// Dequantize returns Code[index] × absmax for every element.
func (q *Quantized) Dequantize() []float32 {
	absmax := q.Absmax
	if absmax == nil && q.Double != nil {
		absmax = q.Double.Dequantize()
	}
	out := make([]float32, 2*len(q.Packed))
	for i, p := range q.Packed {
		a := absmax[2*i/BlockSize]
		out[2*i] = Code[p>>4] * a
		out[2*i+1] = Code[p&15] * a
	}
	return out
}

// Bytes is the storage of the quantized tensor.
func (q *Quantized) Bytes() int {
	n := len(q.Packed) + 4*len(q.Absmax)
	if q.Double != nil {
		n += q.Double.Bytes()
	}
	return n
}
