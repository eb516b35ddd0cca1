package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf8"
)

// MaxHeaderSize bounds the JSON header, as the reference implementation
// does (100 MB): a corrupt length field must not make us allocate
// gigabytes.
const MaxHeaderSize = 100_000_000

// TensorInfo is one tensor's header entry. Begin and End are byte offsets
// relative to the start of the data section (just after the header).
type TensorInfo struct {
	Name       string
	DType      DType
	Shape      []int
	Begin, End int64
}

// NumElements is the product of the shape (1 for a scalar).
func (t *TensorInfo) NumElements() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// Header is a parsed, checked safetensors header.
type Header struct {
	// Size is the length of the JSON text; the data starts at 8+Size.
	Size int64
	// Metadata is the "__metadata__" map (nil when absent).
	Metadata map[string]string
	// Tensors in order of their data offsets.
	Tensors []TensorInfo
	// DataSize is the size of the data section.
	DataSize int64
}

// DataOffset is the file offset of the data section.
func (h *Header) DataOffset() int64 { return 8 + h.Size }

// Find returns the entry of a tensor.
func (h *Header) Find(name string) (*TensorInfo, bool) {
	for i := range h.Tensors {
		if h.Tensors[i].Name == name {
			return &h.Tensors[i], true
		}
	}
	return nil, false
}

// ReadHeaderLength decodes the 8-byte prefix and checks it against the
// file size and MaxHeaderSize.
func ReadHeaderLength(prefix []byte, fileSize int64) (int64, error) {
	if len(prefix) < 8 || fileSize < 8 {
		return 0, fmt.Errorf("file of %d bytes is too short for a safetensors header", fileSize)
	}
	n := binary.LittleEndian.Uint64(prefix[:8])
	if n > MaxHeaderSize {
		return 0, fmt.Errorf("header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if int64(n) > fileSize-8 {
		return 0, fmt.Errorf("header length %d runs past the end of the file (%d bytes): truncated file?", n, fileSize)
	}
	return int64(n), nil
}

type rawEntry struct {
	DType       *string       `json:"dtype"`
	Shape       []int64       `json:"shape"`
	DataOffsets []json.Number `json:"data_offsets"`
}

// ParseHeader checks and decodes a whole file prefix: the 8-byte length,
// the JSON header and, against fileSize, the placement of every tensor.
// buf must hold at least the first 8+N bytes of the file; it may hold the
// whole file. Errors are *Error values without a file name.
func ParseHeader(buf []byte, fileSize int64) (*Header, error) {
	n, err := ReadHeaderLength(buf, fileSize)
	if err != nil {
		return nil, &Error{Err: err}
	}
	if int64(len(buf)) < 8+n {
		return nil, errorf("", "", "header length %d runs past the %d bytes given", n, len(buf))
	}
	h, err := parseJSON(buf[8 : 8+n])
	if err != nil {
		return nil, err
	}
	h.Size = n
	h.DataSize = fileSize - 8 - n
	if err := h.check(); err != nil {
		return nil, err
	}
	return h, nil
}

func parseJSON(text []byte) (*Header, error) {
	if !utf8.Valid(text) {
		return nil, errorf("", "", "header is not valid UTF-8")
	}
	if len(text) == 0 || text[0] != '{' {
		return nil, errorf("", "", "header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return nil, errorf("", "", "header JSON: %v", err)
	}
	h := &Header{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errorf("", "", "header JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errorf("", "", "header JSON: key expected, found %v", tok)
		}
		if seen[name] {
			return nil, errorf("", name, "appears twice in the header")
		}
		seen[name] = true
		if name == "__metadata__" {
			var md map[string]string
			if err := dec.Decode(&md); err != nil {
				return nil, errorf("", "", "__metadata__ must map strings to strings: %v", err)
			}
			if md == nil {
				md = map[string]string{}
			}
			h.Metadata = md
			continue
		}
		var e rawEntry
		if err := dec.Decode(&e); err != nil {
			return nil, errorf("", name, "header entry: %v", err)
		}
		ti, err := e.info(name)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, ti)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, errorf("", "", "header JSON: %v", err)
	}
	off := dec.InputOffset()
	for _, c := range text[off:] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, errorf("", "", "header JSON: unexpected bytes after the object")
		}
	}
	return h, nil
}

func (e *rawEntry) info(name string) (TensorInfo, error) {
	ti := TensorInfo{Name: name}
	if e.DType == nil {
		return ti, errorf("", name, "header entry has no dtype")
	}
	ti.DType = DType(*e.DType)
	if !ti.DType.Valid() {
		return ti, errorf("", name, "unknown dtype %q", *e.DType)
	}
	if e.Shape == nil {
		return ti, errorf("", name, "header entry has no shape")
	}
	for _, s := range e.Shape {
		if s < 0 || s > 1<<40 {
			return ti, errorf("", name, "dimension %d out of range in shape %v", s, e.Shape)
		}
		ti.Shape = append(ti.Shape, int(s))
	}
	if len(e.DataOffsets) != 2 {
		return ti, errorf("", name, "data_offsets must be [begin, end], found %d numbers", len(e.DataOffsets))
	}
	var off [2]int64
	for i, num := range e.DataOffsets {
		v, err := num.Int64()
		if err != nil || v < 0 {
			return ti, errorf("", name, "data_offsets[%d] = %s is not a byte offset", i, num)
		}
		off[i] = v
	}
	ti.Begin, ti.End = off[0], off[1]
	return ti, nil
}

// check verifies sizes and placement: each range inside the data, of the
// size its shape needs, ranges contiguous from 0 to the end of the data.
func (h *Header) check() error {
	for i := range h.Tensors {
		t := &h.Tensors[i]
		need, err := numBytes(t.DType, t.Shape)
		if err != nil {
			return errorf("", t.Name, "%v", err)
		}
		if t.End < t.Begin {
			return errorf("", t.Name, "data_offsets [%d %d] end before they begin", t.Begin, t.End)
		}
		if t.End > h.DataSize {
			return errorf("", t.Name, "data_offsets [%d %d] run past the end of the data (%d bytes): truncated file?", t.Begin, t.End, h.DataSize)
		}
		if got := t.End - t.Begin; got != need {
			return errorf("", t.Name, "shape %v × %s needs %d bytes, header says %d", t.Shape, t.DType, need, got)
		}
	}
	slices.SortStableFunc(h.Tensors, func(a, b TensorInfo) int {
		if a.Begin != b.Begin {
			return cmpInt64(a.Begin, b.Begin)
		}
		return cmpInt64(a.End, b.End)
	})
	var pos int64
	for i := range h.Tensors {
		t := &h.Tensors[i]
		if t.Begin < pos {
			return errorf("", t.Name, "data_offsets [%d %d] overlap tensor %s", t.Begin, t.End, h.Tensors[i-1].Name)
		}
		if t.Begin > pos {
			return errorf("", t.Name, "data_offsets [%d %d] leave a hole of %d bytes before the tensor", t.Begin, t.End, t.Begin-pos)
		}
		pos = t.End
	}
	if pos != h.DataSize {
		return errorf("", "", "tensors end at data offset %d but the data section has %d bytes", pos, h.DataSize)
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
