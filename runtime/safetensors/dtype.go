package safetensors

import "fmt"

// DType is a safetensors element type, spelled as in the header ("BF16").
type DType string

// The element types this package knows. Float conversions (convert.go)
// exist for BF16, F16 and F32; the others are available as raw bytes.
const (
	BOOL DType = "BOOL"
	U8   DType = "U8"
	I8   DType = "I8"
	I16  DType = "I16"
	U16  DType = "U16"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I32  DType = "I32"
	U32  DType = "U32"
	F32  DType = "F32"
	F64  DType = "F64"
	I64  DType = "I64"
	U64  DType = "U64"
)

var dtypeSizes = map[DType]int{
	BOOL: 1, U8: 1, I8: 1,
	I16: 2, U16: 2, F16: 2, BF16: 2,
	I32: 4, U32: 4, F32: 4,
	F64: 8, I64: 8, U64: 8,
}

// Size is the number of bytes of one element, or 0 for an unknown type.
func (d DType) Size() int { return dtypeSizes[d] }

// Valid reports whether d is a type this package knows.
func (d DType) Valid() bool { return d.Size() > 0 }

// IsFloat reports whether d converts to float32 with Float32s.
func (d DType) IsFloat() bool { return d == BF16 || d == F16 || d == F32 }

// String returns the lower-case name used in messages ("bf16").
func (d DType) String() string {
	b := []byte(d)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// numBytes is the byte size of a tensor of the given shape, or an error
// when a dimension is negative or the size overflows int64.
func numBytes(d DType, shape []int) (int64, error) {
	n := int64(d.Size())
	for _, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if s != 0 && n > (1<<62)/int64(s) {
			return 0, fmt.Errorf("shape %v × %s overflows", shape, d)
		}
		n *= int64(s)
	}
	return n, nil
}
