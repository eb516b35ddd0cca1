package nf4

import "math"

// DoubleBlockSize is the number of absmax values sharing one scale.
const DoubleBlockSize = 256

// DoubleQuant is the absmax vector quantized to int8: absmax[i] ≈
// Q[i] × Scale[i/256] + Mean.
type DoubleQuant struct {
	Q     []int8
	Scale []float32
	Mean  float32
}

// Bytes is the storage of the quantized absmaxes.
func (d *DoubleQuant) Bytes() int { return len(d.Q) + 4*len(d.Scale) + 4 }

// QuantizeAbsmax replaces q.Absmax by its double quantization.
func (q *Quantized) QuantizeAbsmax() {
	if q.Absmax == nil {
		return
	}
	q.Double = DoubleQuantize(q.Absmax)
	q.Absmax = nil
}

// DoubleQuantize quantizes absmax values: the mean is subtracted, then each
// block of 256 is scaled by its largest magnitude to [-127, 127] and
// rounded to nearest.
func DoubleQuantize(absmax []float32) *DoubleQuant {
	var sum float64
	for _, a := range absmax {
		sum += float64(a)
	}
	d := &DoubleQuant{Q: make([]int8, len(absmax))}
	if len(absmax) > 0 {
		d.Mean = float32(sum / float64(len(absmax)))
	}
	for start := 0; start < len(absmax); start += DoubleBlockSize {
		end := min(start+DoubleBlockSize, len(absmax))
		var m float32
		for _, a := range absmax[start:end] {
			m = max(m, float32(math.Abs(float64(a-d.Mean))))
		}
		scale := m / 127
		d.Scale = append(d.Scale, scale)
		if scale == 0 {
			continue
		}
		for i := start; i < end; i++ {
			v := math.Round(float64((absmax[i] - d.Mean) / scale))
			d.Q[i] = int8(max(-127, min(127, v)))
		}
	}
	return d
}

// Dequantize returns the absmax values.
func (d *DoubleQuant) Dequantize() []float32 {
	out := make([]float32, len(d.Q))
	for i, v := range d.Q {
		out[i] = float32(v)*d.Scale[i/DoubleBlockSize] + d.Mean
	}
	return out
}
