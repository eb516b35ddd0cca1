package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixtureDir = "../../testdata/fixtures"

func writeTemp(t *testing.T, w *Writer) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.safetensors")
	if err := w.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTrip(t *testing.T) {
	w := NewWriter()
	w.Metadata = map[string]string{"format": "pt", "b": "x"}
	f32 := []float32{1, -2.5, 3.25, 0, float32(math.Inf(1)), 1e-8}
	must(t, w.AddFloat32("a.f32", F32, []int{2, 3}, f32))
	must(t, w.AddFloat32("b.bf16", BF16, []int{3, 2}, f32))
	must(t, w.AddFloat32("c.f16", F16, []int{6}, f32))
	must(t, w.Add("d.i8", I8, []int{3}, []byte{1, 2, 255}))
	must(t, w.Add("e.i64", I64, []int{}, make([]byte, 8)))
	must(t, w.Add("f.empty", F32, []int{0, 4}, nil))
	p := writeTemp(t, w)
	f, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !f.Mapped {
		t.Log("file was read, not mapped")
	}
	if got := strings.Join(f.Names(), ","); got != "a.f32,b.bf16,c.f16,d.i8,e.i64,f.empty" {
		t.Errorf("names %s", got)
	}
	if f.Metadata()["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata())
	}
	for _, tc := range []struct {
		name  string
		dtype DType
		want  []float32
	}{
		{"a.f32", F32, f32},
		{"b.bf16", BF16, []float32{1, -2.5, 3.25, 0, float32(math.Inf(1)), BF16ToFloat32(Float32ToBF16(1e-8))}},
		{"c.f16", F16, []float32{1, -2.5, 3.25, 0, float32(math.Inf(1)), F16ToFloat32(Float32ToF16(1e-8))}},
	} {
		tn, err := f.Tensor(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if tn.DType != tc.dtype {
			t.Errorf("%s: dtype %s", tc.name, tn.DType)
		}
		got, err := tn.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s[%d] = %g, want %g", tc.name, i, got[i], tc.want[i])
			}
		}
	}
	if tn, _ := f.Tensor("d.i8"); !bytes.Equal(tn.Data, []byte{1, 2, 255}) {
		t.Errorf("i8 data %v", tn.Data)
	}
	if tn, _ := f.Tensor("e.i64"); len(tn.Shape) != 0 || tn.NumElements() != 1 {
		t.Errorf("scalar %v", tn.Shape)
	}
	// Deterministic: writing again gives the same bytes.
	p2 := writeTemp(t, w)
	a, _ := os.ReadFile(p)
	b, _ := os.ReadFile(p2)
	if !bytes.Equal(a, b) {
		t.Error("two writes differ")
	}
	hlen := binary.LittleEndian.Uint64(a)
	if hlen%8 != 0 {
		t.Errorf("header length %d not a multiple of 8", hlen)
	}
	if _, err := f.Tensor("nope"); err == nil || !strings.Contains(err.Error(), "tensor nope") {
		t.Errorf("missing tensor error: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestConvert(t *testing.T) {
	// F16: every one of the 65536 values survives a round trip through float32.
	for h := 0; h < 1<<16; h++ {
		f := F16ToFloat32(uint16(h))
		back := Float32ToF16(f)
		if f != f { // NaN
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("f16 NaN %04x -> %04x", h, back)
			}
			continue
		}
		if back != uint16(h) {
			t.Fatalf("f16 %04x -> %g -> %04x", h, f, back)
		}
	}
	for _, tc := range []struct {
		in   float32
		bf16 uint16
		f16  uint16
	}{
		{1, 0x3f80, 0x3c00},
		{-2, 0xc000, 0xc000},
		{65504, 0x4780, 0x7bff},
		{65520, 0x4780, 0x7c00},      // rounds to Inf in f16
		{1.00390625, 0x3f80, 0x3c04}, // bf16 tie → even
		{1.01171875, 0x3f82, 0x3c0c}, // bf16 tie → even (up)
		{5.960464477539063e-08, 0x3380, 0x0001},
		{2.9802322387695312e-08, 0x3300, 0x0000}, // half of the smallest subnormal: tie → even (0)
	} {
		if got := Float32ToBF16(tc.in); got != tc.bf16 {
			t.Errorf("bf16(%g) = %04x, want %04x", tc.in, got, tc.bf16)
		}
		if got := Float32ToF16(tc.in); got != tc.f16 {
			t.Errorf("f16(%g) = %04x, want %04x", tc.in, got, tc.f16)
		}
	}
	if _, err := ToFloat32(I32, make([]byte, 4)); err == nil {
		t.Error("I32 to float32 should fail")
	}
	if _, err := ToFloat32(BF16, make([]byte, 3)); err == nil {
		t.Error("odd length should fail")
	}
}

// header builds a file from a header text and a data size.
func header(text string, data int) []byte {
	b := make([]byte, 8, 8+len(text)+data)
	binary.LittleEndian.PutUint64(b, uint64(len(text)))
	b = append(b, text...)
	return append(b, make([]byte, data)...)
}

func TestBadHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"short", []byte{1, 2, 3}, "too short"},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'}, "exceeds the limit"},
		{"length past end", append([]byte{100, 0, 0, 0, 0, 0, 0, 0}, "{}"...), "truncated"},
		{"not object", header(`[1]`, 0), "does not start with '{'"},
		{"bad json", header(`{"a":`, 0), "header"},
		{"trailing", header(`{} x`, 0), "after the object"},
		{"no dtype", header(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, 4), "tensor a: header entry has no dtype"},
		{"bad dtype", header(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,4]}}`, 4), `unknown dtype "Q4"`},
		{"negative dim", header(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "out of range"},
		{"float dim", header(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), "tensor a"},
		{"one offset", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4), "data_offsets must be"},
		{"negative offset", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, 4), "not a byte offset"},
		{"size", header(`{"a.w":{"dtype":"BF16","shape":[14336,4096],"data_offsets":[0,117440510]}}`, 117440510/1000), "tensor a.w: data_offsets [0 117440510] run past the end"},
		{"size mismatch", header(`{"a.w":{"dtype":"BF16","shape":[3,2],"data_offsets":[0,10]}}`, 10), "tensor a.w: shape [3 2] × bf16 needs 12 bytes, header says 10"},
		{"reversed", header(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, 4), "end before they begin"},
		{"overlap", header(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}`, 6), "overlap tensor a"},
		{"hole", header(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}}`, 10), "hole of 2 bytes"},
		{"extra data", header(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 6), "data section has 6 bytes"},
		{"duplicate", header(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 4), "tensor a: appears twice"},
		{"metadata not strings", header(`{"__metadata__":{"a":1}}`, 0), "__metadata__"},
		{"overflow", header(`{"a":{"dtype":"F64","shape":[1099511627776,1099511627776],"data_offsets":[0,0]}}`, 0), "overflows"},
		{"invalid utf8", header("{\"\xff\":1}", 0), "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHeader(tc.file, int64(len(tc.file)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not an *Error: %T", err)
			}
		})
	}
}

func TestOpenErrorsNameFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "model-00002-of-00003.safetensors")
	os.WriteFile(p, header(`{"model.layers.3.mlp.up_proj.weight":{"dtype":"BF16","shape":[14,4],"data_offsets":[0,110]}}`, 110), 0o644)
	_, err := Open(p)
	want := "model-00002-of-00003.safetensors: tensor model.layers.3.mlp.up_proj.weight: shape [14 4] × bf16 needs 112 bytes, header says 110"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	// Truncated: a valid file cut short.
	w := NewWriter()
	must(t, w.AddFloat32("x", F32, []int{16}, make([]float32, 16)))
	good := writeTemp(t, w)
	b, _ := os.ReadFile(good)
	for _, cut := range []int{0, 4, 8, 20, len(b) - 1} {
		os.WriteFile(p, b[:cut], 0o644)
		if _, err := Open(p); err == nil || !strings.HasPrefix(err.Error(), "model-00002-of-00003.safetensors: ") {
			t.Errorf("cut at %d: %v", cut, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.safetensors")); err == nil {
		t.Error("missing file opened")
	}
}

func TestSharded(t *testing.T) {
	dir := t.TempDir()
	w1, w2 := NewWriter(), NewWriter()
	must(t, w1.AddFloat32("a", BF16, []int{2}, []float32{1, 2}))
	must(t, w2.AddFloat32("b", F32, []int{1}, []float32{3}))
	must(t, w1.WriteFile(filepath.Join(dir, "model-00001-of-00002.safetensors")))
	must(t, w2.WriteFile(filepath.Join(dir, "model-00002-of-00002.safetensors")))
	index := `{"metadata":{"total_size":8},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}`
	must(t, os.WriteFile(filepath.Join(dir, IndexFile), []byte(index), 0o644))
	s, err := OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	s.Progress = func(name string, done, total int64) { calls = append(calls, name) }
	if got := strings.Join(s.Names(), ","); got != "a,b" {
		t.Errorf("names %s", got)
	}
	v, shape, err := s.Float32s("b")
	if err != nil || v[0] != 3 || shape[0] != 1 {
		t.Errorf("b = %v %v %v", v, shape, err)
	}
	if _, err := s.Tensor("c"); err == nil || !strings.Contains(err.Error(), "tensor c: missing") {
		t.Errorf("missing: %v", err)
	}
	if len(calls) != 1 || s.TotalSize() != 8 {
		t.Errorf("progress %v total %d", calls, s.TotalSize())
	}
	s.Close()

	for _, tc := range []struct{ name, index, want string }{
		{"missing shard", `{"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00003-of-00003.safetensors"}}`, "shard model-00003-of-00003.safetensors"},
		{"missing tensor", `{"weight_map":{"a":"model-00001-of-00002.safetensors","z":"model-00001-of-00002.safetensors"}}`, "model-00001-of-00002.safetensors: tensor z: listed in"},
		{"path escape", `{"weight_map":{"a":"../x.safetensors"}}`, "not a file name"},
		{"empty", `{"weight_map":{}}`, "empty"},
		{"bad json", `{"weight_map":`, IndexFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			must(t, os.WriteFile(filepath.Join(dir, IndexFile), []byte(tc.index), 0o644))
			_, err := OpenModel(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := OpenModel(t.TempDir()); err == nil || !strings.Contains(err.Error(), "neither") {
		t.Errorf("empty dir: %v", err)
	}
}

// TestPythonFixture reads the checkpoint written by Python's safetensors
// (testdata/fixtures/make_reference.py) and writes it back byte for byte.
func TestPythonFixture(t *testing.T) {
	p := filepath.Join(fixtureDir, "tiny-mistral", SingleFile)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture absent (%v): run testdata/fixtures/make_reference.py", err)
	}
	s, err := OpenModel(filepath.Dir(p))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	names := s.Names()
	if len(names) != 2+2*9+1 {
		t.Errorf("%d tensors: %v", len(names), names)
	}
	info, ok := s.Info("model.layers.1.self_attn.k_proj.weight")
	if !ok || info.DType != BF16 || len(info.Shape) != 2 || info.Shape[0] != 32 || info.Shape[1] != 64 {
		t.Errorf("k_proj: %+v", info)
	}
	w := NewWriter()
	w.Metadata = s.Files[0].Metadata()
	for _, n := range names {
		tn, err := s.Tensor(n)
		must(t, err)
		must(t, w.Add(n, tn.DType, tn.Shape, tn.Data))
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(p)
	if !bytes.Equal(buf.Bytes(), orig) {
		t.Errorf("rewritten file differs from Python's (%d vs %d bytes)", buf.Len(), len(orig))
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(header(`{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}`, 4))
	f.Add(header(`{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, 4))
	f.Add(header(`{"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[0],"data_offsets":[8,8]}}`, 8))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b, int64(len(b)))
		if err != nil {
			return
		}
		var pos int64
		for _, ti := range h.Tensors {
			if ti.Begin != pos || ti.End > h.DataSize {
				t.Fatalf("accepted bad placement %+v", ti)
			}
			pos = ti.End
		}
	})
}
