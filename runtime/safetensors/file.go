package safetensors

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// File is an open safetensors file. Its tensors are views of the mapped (or
// read) file; they stay valid until Close.
type File struct {
	Path   string
	Header *Header
	data   []byte // the whole file
	unmap  func() error
	byName map[string]int
	// Mapped reports whether the file is memory-mapped (else read into memory).
	Mapped bool
}

// Tensor is one tensor: its header entry and its bytes (little-endian).
type Tensor struct {
	TensorInfo
	Data []byte
}

// Open opens, maps and checks a safetensors file.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &Error{File: path, Err: err}
	}
	if !st.Mode().IsRegular() {
		return nil, errorf(path, "", "not a regular file")
	}
	size := st.Size()
	sf := &File{Path: path}
	if data, unmap, ok := mapFile(f, size); ok {
		sf.data, sf.unmap, sf.Mapped = data, unmap, true
	} else {
		data := make([]byte, size)
		if _, err := io.ReadFull(f, data); err != nil {
			return nil, &Error{File: path, Err: fmt.Errorf("reading: %w", err)}
		}
		sf.data = data
	}
	h, err := ParseHeader(sf.data, size)
	if err != nil {
		sf.Close()
		return nil, withFile(err, path)
	}
	sf.Header = h
	sf.byName = make(map[string]int, len(h.Tensors))
	for i, t := range h.Tensors {
		sf.byName[t.Name] = i
	}
	return sf, nil
}

// Close unmaps the file. Tensors returned earlier must not be used after.
func (f *File) Close() error {
	var err error
	if f.unmap != nil {
		err = f.unmap()
		f.unmap = nil
	}
	f.data = nil
	return err
}

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.byName))
	for n := range f.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Metadata returns the header's "__metadata__" map (nil when absent).
func (f *File) Metadata() map[string]string { return f.Header.Metadata }

// Info returns a tensor's header entry.
func (f *File) Info(name string) (TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Header.Tensors[i], true
}

// Tensor returns a tensor whose Data is a view of the file.
func (f *File) Tensor(name string) (Tensor, error) {
	i, ok := f.byName[name]
	if !ok {
		return Tensor{}, errorf(f.Path, name, "not in the file")
	}
	if f.data == nil {
		return Tensor{}, errorf(f.Path, name, "file is closed")
	}
	ti := f.Header.Tensors[i]
	off := f.Header.DataOffset()
	return Tensor{TensorInfo: ti, Data: f.data[off+ti.Begin : off+ti.End : off+ti.End]}, nil
}

// Float32s converts a tensor of BF16, F16 or F32 to a new []float32.
func (t Tensor) Float32s() ([]float32, error) {
	out, err := ToFloat32(t.DType, t.Data)
	if err != nil {
		return nil, &Error{Tensor: t.Name, Err: err}
	}
	return out, nil
}
