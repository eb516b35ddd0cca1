package mask

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// FormatVersion is the version of the blob layout this runtime writes and
// reads. Generated code that embeds a blob can pin it at compile time (both
// lines compile only while FormatVersion is 1):
//
//	const _ = uint(mask.FormatVersion - 1)
//	const _ = uint(1 - mask.FormatVersion)
const FormatVersion = 1

// Magic opens every table blob.
const Magic = "SCMT"

// Blob layout, all integers little-endian:
//
//	offset  size          field
//	0       4             magic "SCMT"
//	4       4   u32       format version (FormatVersion)
//	8       4   u32       VocabSize
//	12      4   i32       EOS (-1: none)
//	16      4   i32       StartState
//	20      4   u32       NumStates (S)
//	24      4   u32       NumClasses (C)
//	28      4   u32       number of rows (R)
//	32      4   u32       Words (W)
//	36      4   u32       forced data length (F)
//	40      4   u32       token data length (T)
//	44      4   u32       vocabulary fingerprint length (V)
//	48      256 u8        Class
//	        4·S·C i32     Trans
//	        S   u8        Accept (0 or 1)
//	        4·S i32       RowOf
//	        8·R·W u64     Rows
//	        4·(S+1) u32   ForcedOff
//	        F             ForcedData
//	        4·(VocabSize+1) u32 TokenOff
//	        T             TokenData
//	        V             Vocab
//	        4   u32       CRC-32C (Castagnoli) of every byte before it
const headerSize = 48

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the table as a blob (see the layout above). Equal
// tables give identical bytes.
func (t *Table) MarshalBinary() ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if len(t.ForcedData) > math.MaxUint32 || len(t.TokenData) > math.MaxUint32 || len(t.Vocab) > math.MaxUint32 {
		return nil, errors.New("mask: table too large for the blob format")
	}
	size := headerSize + 256 + 4*len(t.Trans) + t.NumStates + 4*t.NumStates + 8*len(t.Rows) +
		4*len(t.ForcedOff) + len(t.ForcedData) + 4*len(t.TokenOff) + len(t.TokenData) + len(t.Vocab) + 4
	b := make([]byte, 0, size)
	le := binary.LittleEndian
	b = append(b, Magic...)
	for _, v := range []uint32{FormatVersion, uint32(t.VocabSize), uint32(t.EOS), uint32(t.StartState),
		uint32(t.NumStates), uint32(t.NumClasses), uint32(t.NumRows()), uint32(t.Words),
		uint32(len(t.ForcedData)), uint32(len(t.TokenData)), uint32(len(t.Vocab))} {
		b = le.AppendUint32(b, v)
	}
	b = append(b, t.Class[:]...)
	for _, v := range t.Trans {
		b = le.AppendUint32(b, uint32(v))
	}
	for _, a := range t.Accept {
		if a {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	for _, v := range t.RowOf {
		b = le.AppendUint32(b, uint32(v))
	}
	for _, v := range t.Rows {
		b = le.AppendUint64(b, v)
	}
	for _, v := range t.ForcedOff {
		b = le.AppendUint32(b, v)
	}
	b = append(b, t.ForcedData...)
	for _, v := range t.TokenOff {
		b = le.AppendUint32(b, v)
	}
	b = append(b, t.TokenData...)
	b = append(b, t.Vocab...)
	b = le.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return b, nil
}

// reader walks a blob, reporting the first truncation.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.err = fmt.Errorf("mask: table truncated at offset %d (need %d more bytes, have %d)", len(r.b), n, len(r.b)-r.off)
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

func (r *reader) u32() uint32 {
	s := r.take(4)
	if s == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(s)
}

// Load decodes and checks a blob written by MarshalBinary. It fails, never
// panics, on a wrong magic or version, truncation, trailing bytes, a
// checksum mismatch, or any count, index or offset out of range. The table
// does not alias blob.
func Load(blob []byte) (*Table, error) {
	r := &reader{b: blob}
	if m := r.take(4); m == nil {
		return nil, r.err
	} else if string(m) != Magic {
		return nil, fmt.Errorf("mask: not a table (magic %q, want %q)", m, Magic)
	}
	if v := r.u32(); r.err != nil {
		return nil, r.err
	} else if v != FormatVersion {
		return nil, fmt.Errorf("mask: table format version %d, this runtime reads %d", v, FormatVersion)
	}
	var h [10]uint32
	for i := range h {
		h[i] = r.u32()
	}
	if r.err != nil {
		return nil, r.err
	}
	vocab, eos, start, ns, nc, nrows, words, nf, nt, nv := h[0], int32(h[1]), int32(h[2]), uint64(h[3]), uint64(h[4]), uint64(h[5]), uint64(h[6]), uint64(h[7]), uint64(h[8]), uint64(h[9])
	// the total size follows from the header: check it before allocating
	// anything (with nc <= 256 and words < 2^26 no term overflows)
	if nc > 256 || words >= 1<<26 {
		return nil, fmt.Errorf("mask: header out of range (%d byte classes, %d words per row)", nc, words)
	}
	total := uint64(headerSize) + 256 + 4*ns*nc + ns + 4*ns + 8*nrows*words +
		4*(ns+1) + nf + 4*(uint64(vocab)+1) + nt + nv + 4
	if total > uint64(len(blob)) {
		return nil, fmt.Errorf("mask: table truncated at offset %d (header describes %d bytes)", len(blob), total)
	}
	if total < uint64(len(blob)) {
		return nil, fmt.Errorf("mask: %d trailing bytes after the table", uint64(len(blob))-total)
	}
	sum := binary.LittleEndian.Uint32(blob[len(blob)-4:])
	if crc32.Checksum(blob[:len(blob)-4], castagnoli) != sum {
		return nil, errors.New("mask: checksum mismatch: corrupt table")
	}
	le := binary.LittleEndian
	t := &Table{
		VocabSize:  int(vocab),
		EOS:        eos,
		StartState: start,
		NumStates:  int(ns),
		NumClasses: int(nc),
		Words:      int(words),
	}
	copy(t.Class[:], r.take(256))
	t.Trans = int32s(r.take(4 * ns * nc))
	acc := r.take(ns)
	t.Accept = make([]bool, ns)
	for i, a := range acc {
		if a > 1 {
			return nil, fmt.Errorf("mask: accept flag of state %d is %d", i, a)
		}
		t.Accept[i] = a == 1
	}
	t.RowOf = int32s(r.take(4 * ns))
	rows := r.take(8 * nrows * words)
	t.Rows = make([]uint64, nrows*words)
	for i := range t.Rows {
		t.Rows[i] = le.Uint64(rows[8*i:])
	}
	t.ForcedOff = uint32s(r.take(4 * (ns + 1)))
	t.ForcedData = clone(r.take(nf))
	t.TokenOff = uint32s(r.take(4 * (uint64(vocab) + 1)))
	t.TokenData = clone(r.take(nt))
	t.Vocab = string(r.take(nv))
	if r.err != nil { // cannot happen: total was checked
		return nil, r.err
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}

func int32s(b []byte) []int32 {
	out := make([]int32, len(b)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func uint32s(b []byte) []uint32 {
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

func clone(b []byte) []byte { return append([]byte{}, b...) }
