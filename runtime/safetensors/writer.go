package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Writer collects tensors and writes one safetensors file. The output is
// deterministic: data ordered by element size (largest first, so every
// tensor stays aligned to its element) then by name; the header lists
// "__metadata__" (keys sorted) and then the tensors in data order, padded
// with spaces to a multiple of 8 bytes. For the same tensors this is byte
// for byte what the Python safetensors package writes.
type Writer struct {
	Metadata map[string]string
	tensors  map[string]Tensor
}

// NewWriter returns an empty writer.
func NewWriter() *Writer { return &Writer{tensors: map[string]Tensor{}} }

// Add adds a tensor from its little-endian bytes (not copied).
func (w *Writer) Add(name string, d DType, shape []int, data []byte) error {
	if name == "" || name == "__metadata__" {
		return fmt.Errorf("safetensors writer: invalid tensor name %q", name)
	}
	if !d.Valid() {
		return fmt.Errorf("safetensors writer: tensor %s: unknown dtype %q", name, string(d))
	}
	if _, dup := w.tensors[name]; dup {
		return fmt.Errorf("safetensors writer: tensor %s added twice", name)
	}
	need, err := numBytes(d, shape)
	if err != nil {
		return fmt.Errorf("safetensors writer: tensor %s: %v", name, err)
	}
	if need != int64(len(data)) {
		return fmt.Errorf("safetensors writer: tensor %s: shape %v × %s needs %d bytes, given %d", name, shape, d, need, len(data))
	}
	w.tensors[name] = Tensor{TensorInfo: TensorInfo{Name: name, DType: d, Shape: slices.Clone(shape)}, Data: data}
	return nil
}

// AddFloat32 adds float32 values stored as d (BF16, F16 or F32).
func (w *Writer) AddFloat32(name string, d DType, shape []int, v []float32) error {
	data, err := FromFloat32(d, v)
	if err != nil {
		return fmt.Errorf("safetensors writer: tensor %s: %v", name, err)
	}
	return w.Add(name, d, shape, data)
}

type headerEntry struct {
	DType       DType    `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// WriteTo writes the file.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	order := make([]Tensor, 0, len(w.tensors))
	for _, t := range w.tensors {
		order = append(order, t)
	}
	slices.SortFunc(order, func(a, b Tensor) int {
		if a.DType.Size() != b.DType.Size() {
			return b.DType.Size() - a.DType.Size()
		}
		return strings.Compare(a.Name, b.Name)
	})
	// The header lists "__metadata__" first, then the tensors in data
	// order, as the reference implementation writes it.
	var buf bytes.Buffer
	buf.WriteByte('{')
	if w.Metadata != nil {
		md, err := marshal(w.Metadata)
		if err != nil {
			return 0, err
		}
		buf.WriteString(`"__metadata__":`)
		buf.Write(md)
	}
	var pos int64
	for i, t := range order {
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		name, err := marshal(t.Name)
		if err != nil {
			return 0, err
		}
		entry, err := marshal(headerEntry{DType: t.DType, Shape: shape, DataOffsets: [2]int64{pos, pos + int64(len(t.Data))}})
		if err != nil {
			return 0, err
		}
		if i > 0 || w.Metadata != nil {
			buf.WriteByte(',')
		}
		buf.Write(name)
		buf.WriteByte(':')
		buf.Write(entry)
		pos += int64(len(t.Data))
	}
	buf.WriteByte('}')
	text := buf.Bytes()
	for len(text)%8 != 0 {
		text = append(text, ' ')
	}
	var n int64
	var prefix [8]byte
	binary.LittleEndian.PutUint64(prefix[:], uint64(len(text)))
	for _, b := range [][]byte{prefix[:], text} {
		k, err := out.Write(b)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	for _, t := range order {
		k, err := out.Write(t.Data)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// WriteFile writes the file atomically (a temporary file renamed over path).
func (w *Writer) WriteFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".safetensors-*")
	if err != nil {
		return err
	}
	_, err = w.WriteTo(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
