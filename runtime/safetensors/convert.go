package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// ToFloat32 converts little-endian BF16, F16 or F32 bytes to float32.
func ToFloat32(d DType, data []byte) ([]float32, error) {
	if !d.IsFloat() {
		return nil, fmt.Errorf("cannot convert %s to float32", d)
	}
	if len(data)%d.Size() != 0 {
		return nil, fmt.Errorf("%d bytes is not a whole number of %s values", len(data), d)
	}
	out := make([]float32, len(data)/d.Size())
	switch d {
	case BF16:
		for i := range out {
			out[i] = BF16ToFloat32(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case F16:
		for i := range out {
			out[i] = F16ToFloat32(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	}
	return out, nil
}

// FromFloat32 encodes float32 values as little-endian BF16, F16 or F32
// (rounding to nearest even).
func FromFloat32(d DType, v []float32) ([]byte, error) {
	if !d.IsFloat() {
		return nil, fmt.Errorf("cannot convert float32 to %s", d)
	}
	out := make([]byte, len(v)*d.Size())
	switch d {
	case BF16:
		for i, x := range v {
			binary.LittleEndian.PutUint16(out[2*i:], Float32ToBF16(x))
		}
	case F16:
		for i, x := range v {
			binary.LittleEndian.PutUint16(out[2*i:], Float32ToF16(x))
		}
	case F32:
		for i, x := range v {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
		}
	}
	return out, nil
}

// BF16ToFloat32 widens a bfloat16 (exact).
func BF16ToFloat32(b uint16) float32 { return math.Float32frombits(uint32(b) << 16) }

// Float32ToBF16 rounds to the nearest bfloat16, ties to even, as torch does;
// NaN stays NaN.
func Float32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 { // NaN: keep it quiet and signed
		return uint16(u>>16) | 0x40
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// F16ToFloat32 widens an IEEE half (exact, subnormals included).
func F16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: man × 2^-24
		f := float32(man) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | man<<13)
}

// Float32ToF16 rounds to the nearest IEEE half, ties to even; out of range
// values become ±Inf.
func Float32ToF16(f float32) uint16 {
	u := math.Float32bits(f)
	sign := uint16(u>>16) & 0x8000
	exp := int32(u>>23) & 0xff
	man := u & 0x7fffff
	if exp == 0xff {
		if man != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // subnormal half or zero
		if e < -10 {
			return sign
		}
		man |= 0x800000
		shift := uint32(14 - e)
		half := man >> shift
		rem := man & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(e)<<10 | man>>13
	rem := man & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, up to Inf: correct
	}
	return sign | uint16(half)
}
