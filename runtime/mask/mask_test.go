package mask

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"reflect"
	"strings"
	"testing"
)

// tiny is the language "ab+" over a vocabulary of six tokens:
// 0 "<s>" (control), 1 "</s>" (EOS), 2 "a", 3 "b", 4 "ab", 5 "bb".
// States: 0 --a--> 1 --b--> 2 (accepting) --b--> 2.
func tiny() *Table {
	t := &Table{
		VocabSize:  6,
		EOS:        1,
		StartState: 0,
		NumStates:  3,
		NumClasses: 3,
		Trans: []int32{
			-1, 1, -1,
			-1, -1, 2,
			-1, -1, 2,
		},
		Accept:     []bool{false, false, true},
		RowOf:      []int32{0, 1, 1},
		Rows:       []uint64{1<<2 | 1<<4, 1<<3 | 1<<5},
		Words:      1,
		ForcedOff:  []uint32{0, 2, 3, 3},
		ForcedData: []byte("abb"),
		TokenOff:   []uint32{0, 0, 0, 1, 2, 4, 6},
		TokenData:  []byte("ababbb"),
		Vocab:      "sha256:tiny",
	}
	t.Class['a'] = 1
	t.Class['b'] = 2
	return t
}

func tinyBlob(t testing.TB) []byte {
	b, err := tiny().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	tb := tiny()
	if err := tb.Validate(); err != nil {
		t.Fatal(err)
	}
	b := tinyBlob(t)
	b2 := tinyBlob(t)
	if !bytes.Equal(b, b2) {
		t.Fatal("MarshalBinary is not deterministic")
	}
	got, err := Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, tb) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, tb)
	}
	b3, err := got.MarshalBinary()
	if err != nil || !bytes.Equal(b, b3) {
		t.Fatalf("re-marshal differs (err %v)", err)
	}
	if string(b[:4]) != "SCMT" || binary.LittleEndian.Uint32(b[4:]) != FormatVersion {
		t.Errorf("bad prefix % x", b[:8])
	}
}

func TestBehaviour(t *testing.T) {
	tb, err := Load(tinyBlob(t))
	if err != nil {
		t.Fatal(err)
	}
	if tb.Start() != 0 {
		t.Errorf("Start = %d", tb.Start())
	}
	allowed := map[int32][]int{0: {2, 4}, 1: {3, 5}, 2: {1, 3, 5}}
	for s := int32(-1); s <= 3; s++ {
		for tok := -1; tok <= 7; tok++ {
			want := false
			for _, a := range allowed[s] {
				want = want || a == tok
			}
			if got := tb.Allowed(s, tok); got != want {
				t.Errorf("Allowed(%d, %d) = %v, want %v", s, tok, got, want)
			}
		}
	}
	for _, c := range []struct {
		s    int32
		tok  int
		want int32
		err  string
	}{
		{0, 2, 1, ""}, {0, 4, 2, ""}, {1, 3, 2, ""}, {1, 5, 2, ""}, {2, 5, 2, ""},
		{0, 3, -1, "token 3 in state 0: token not allowed"},
		{0, 0, -1, "token 0 in state 0: token not allowed"},
		{2, 1, -1, "EOS ends the output"},
		{0, 1, -1, "EOS ends the output"},
		{0, 6, -1, "out of range"},
		{3, 2, -1, "state out of range"},
		{-1, 2, -1, "state out of range"},
	} {
		got, err := tb.Next(c.s, c.tok)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("Next(%d, %d) = %d, %v; want %d, %q", c.s, c.tok, got, err, c.want, c.err)
		}
	}
	if !tb.Accepting(2) || tb.Accepting(1) || tb.Accepting(5) {
		t.Error("Accepting wrong")
	}
	if string(tb.Forced(0)) != "ab" || string(tb.Forced(1)) != "b" || tb.Forced(2) != nil || tb.Forced(9) != nil {
		t.Errorf("Forced: %q %q %q", tb.Forced(0), tb.Forced(1), tb.Forced(2))
	}
	if tb.RowIndex(2) != 1 || tb.RowIndex(0) != 0 || tb.RowIndex(7) != -1 {
		t.Error("RowIndex wrong")
	}
	if r := tb.Row(1); len(r) != 1 || r[0] != 1<<3|1<<5 {
		t.Errorf("Row(1) = %v", r)
	}
	if m := tb.RowMatrix(); len(m) != 2*tb.Words {
		t.Errorf("RowMatrix has %d words", len(m))
	}
	if tb.NumRows() != 2 {
		t.Errorf("NumRows = %d", tb.NumRows())
	}
	if err := tb.CheckVocab("sha256:tiny"); err != nil {
		t.Error(err)
	}
	if err := tb.CheckVocab("sha256:other"); err == nil || !strings.Contains(err.Error(), "sha256:other") {
		t.Errorf("CheckVocab(other) = %v", err)
	}
}

// TestMatch runs texts through the byte DFA of tiny, the language "ab+".
func TestMatch(t *testing.T) {
	tb, err := Load(tinyBlob(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		ok   bool
		at   int
	}{
		{"ab", true, 2}, {"abbbb", true, 5},
		{"", false, 0}, {"a", false, 1}, // consumed, not accepting
		{"b", false, 0}, {"aab", false, 1}, {"abx", false, 2}, {"abba", false, 3}, {"x", false, 0},
	} {
		if ok, at := tb.Match([]byte(c.text)); ok != c.ok || at != c.at {
			t.Errorf("Match(%q) = %v, %d; want %v, %d", c.text, ok, at, c.ok, c.at)
		}
	}
	bad := tiny()
	bad.StartState = 7
	if ok, at := bad.Match([]byte("ab")); ok || at != 0 {
		t.Errorf("Match from an out-of-range start = %v, %d", ok, at)
	}
}

func TestMaskLogits(t *testing.T) {
	tb := tiny()
	inf := float32(math.Inf(-1))
	for _, c := range []struct {
		s    int32
		n    int
		keep []int
	}{
		{0, 8, []int{2, 4}},
		{1, 8, []int{3, 5}},
		{2, 8, []int{1, 3, 5}},
		{2, 6, []int{1, 3, 5}},
		{2, 3, []int{1}},
		{0, 1, nil},
		{7, 6, nil},
	} {
		l := make([]float32, c.n)
		for i := range l {
			l[i] = float32(i) + 0.5
		}
		tb.MaskLogits(c.s, l)
		for i, v := range l {
			keep := false
			for _, k := range c.keep {
				keep = keep || k == i
			}
			if keep && v != float32(i)+0.5 || !keep && v != inf {
				t.Errorf("state %d, %d logits: logit %d = %v (keep %v)", c.s, c.n, i, v, keep)
			}
		}
	}
}

func TestMaskLogitsWide(t *testing.T) {
	// 200 tokens: full, empty and mixed words
	tb := &Table{VocabSize: 200, EOS: 199, NumStates: 1, NumClasses: 1, Trans: []int32{0},
		Accept: []bool{true}, RowOf: []int32{0}, Words: 4,
		Rows:      []uint64{^uint64(0), 0, 0x5555, 1 << 6},
		ForcedOff: []uint32{0, 0}, TokenOff: make([]uint32, 201)}
	for i := range tb.TokenOff[1:] {
		tb.TokenOff[i+1] = uint32(i + 1)
	}
	tb.TokenData = make([]byte, 200)
	if err := tb.Validate(); err != nil {
		t.Fatal(err)
	}
	l := make([]float32, 256)
	tb.MaskLogits(0, l)
	for i, v := range l {
		want := tb.Allowed(0, i)
		if (v == 0) != want {
			t.Errorf("logit %d = %v, allowed %v", i, v, want)
		}
	}
}

func TestCorruptFlips(t *testing.T) {
	b := tinyBlob(t)
	for i := range b {
		for _, x := range []byte{0x01, 0x80, 0xFF} {
			c := bytes.Clone(b)
			c[i] ^= x
			if _, err := Load(c); err == nil {
				t.Errorf("flip 0x%02X at %d: no error", x, i)
			}
		}
	}
}

func TestCorruptTruncated(t *testing.T) {
	b := tinyBlob(t)
	for n := 0; n < len(b); n++ {
		_, err := Load(b[:n])
		if err == nil {
			t.Fatalf("truncated to %d: no error", n)
		}
		if !strings.Contains(err.Error(), "truncated at offset") {
			t.Errorf("truncated to %d: %v", n, err)
		}
	}
	if _, err := Load(append(bytes.Clone(b), 0)); err == nil || !strings.Contains(err.Error(), "trailing") {
		t.Errorf("trailing byte: %v", err)
	}
}

func TestCorruptHeader(t *testing.T) {
	b := tinyBlob(t)
	c := bytes.Clone(b)
	copy(c, "SCMX")
	if _, err := Load(c); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Errorf("wrong magic: %v", err)
	}
	c = bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[4:], 2)
	if _, err := Load(c); err == nil || !strings.Contains(err.Error(), "table format version 2, this runtime reads 1") {
		t.Errorf("wrong version: %v", err)
	}
	c = bytes.Clone(b)
	c[len(c)-10] ^= 1
	if _, err := Load(c); err == nil || !strings.Contains(err.Error(), "checksum mismatch: corrupt table") {
		t.Errorf("flipped byte: %v", err)
	}
}

// reseal recomputes the checksum, so corruption reaches the semantic checks.
func reseal(b []byte) {
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(b[:len(b)-4], castagnoli))
}

// TestCorruptResealed flips every byte of the body with a valid checksum:
// Load must fail or give a consistent table that never panics in use.
func TestCorruptResealed(t *testing.T) {
	b := tinyBlob(t)
	for i := 8; i < len(b)-4; i++ {
		for x := 1; x < 256; x++ {
			c := bytes.Clone(b)
			c[i] ^= byte(x)
			reseal(c)
			tb, err := Load(c)
			if err == nil {
				exercise(t, tb, c)
			}
		}
	}
}

// exercise uses every method on every state and token; Load accepted blob.
func exercise(t testing.TB, tb *Table, blob []byte) {
	out, err := tb.MarshalBinary()
	if err != nil || !bytes.Equal(out, blob) {
		t.Fatalf("loaded table does not re-marshal to its blob (err %v)", err)
	}
	_ = tb.RowMatrix()
	l := make([]float32, tb.VocabSize+2)
	for s := int32(-1); s <= int32(tb.NumStates); s++ {
		tb.Accepting(s)
		tb.Forced(s)
		tb.Row(s)
		tb.RowIndex(s)
		tb.MaskLogits(s, l)
		for tok := -1; tok <= tb.VocabSize; tok++ {
			ok := tb.Allowed(s, tok)
			if _, err := tb.Next(s, tok); ok && tok != int(tb.EOS) && err != nil && !strings.Contains(err.Error(), "leave the automaton") {
				t.Fatalf("Next(%d, %d) of an allowed token: %v", s, tok, err)
			}
		}
	}
}

func FuzzLoad(f *testing.F) {
	b := tinyBlob(f)
	f.Add(b)
	f.Add(b[:len(b)/2])
	f.Add([]byte("SCMT"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, blob []byte) {
		if len(blob) > 1<<16 {
			return
		}
		if tb, err := Load(blob); err == nil {
			exercise(t, tb, blob)
		}
		// and with the checksum made right, to reach the semantic checks
		if len(blob) >= 4 {
			c := bytes.Clone(blob)
			reseal(c)
			if tb, err := Load(c); err == nil {
				exercise(t, tb, c)
			}
		}
	})
}

func TestTokenBytes(t *testing.T) {
	tb := tiny()
	for id := 0; id < tb.VocabSize; id++ {
		want := tb.TokenData[tb.TokenOff[id]:tb.TokenOff[id+1]]
		if got := tb.TokenBytes(id); string(got) != string(want) {
			t.Errorf("TokenBytes(%d) = %q, want %q", id, got, want)
		}
	}
	for _, id := range []int{-1, tb.VocabSize, tb.VocabSize + 5} {
		if got := tb.TokenBytes(id); got != nil {
			t.Errorf("TokenBytes(%d) = %q, want nil", id, got)
		}
	}
}
