package nf4

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/internal/fixtures"
)

func TestMain(m *testing.M) {
	os.Setenv("GOMLX_BACKEND", "go") // nothing may fall through to XLA
	os.Exit(m.Run())
}

// TestReference quantizes the fixture's weights and compares indices,
// packing, absmax and dequantized values with make_reference.py's NF4
// (bitsandbytes' algorithm written out in torch): all must be equal.
func TestReference(t *testing.T) {
	ref := fixtures.Open(t, filepath.Join("../../testdata/fixtures", "nf4_reference.safetensors"))
	floats := func(name string) ([]float32, []int) { return ref.Floats(t, name) }
	raw := func(name string) []byte { return ref.Raw(t, name) }
	code, _ := floats("code")
	for i := range Code {
		if code[i] != Code[i] {
			t.Errorf("code[%d] = %g, reference %g", i, Code[i], code[i])
		}
	}
	for _, name := range []string{"model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight"} {
		t.Run(name, func(t *testing.T) {
			w, shape := floats(name + ".weight_bf16")
			q, err := Quantize(name, w, shape)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(q.Indices(), raw(name+".codes")) {
				t.Error("indices differ")
			}
			if !bytes.Equal(q.Packed, raw(name+".packed")) {
				t.Error("packed bytes differ")
			}
			absmax, _ := floats(name + ".absmax")
			for i := range absmax {
				if absmax[i] != q.Absmax[i] {
					t.Fatalf("absmax[%d] = %g, reference %g", i, q.Absmax[i], absmax[i])
				}
			}
			want, _ := floats(name + ".dequant")
			got := q.Dequantize()
			for i := range want {
				if want[i] != got[i] {
					t.Fatalf("dequant[%d] = %g, reference %g", i, got[i], want[i])
				}
			}
			// In the graph: the same values.
			packed, am := q.Tensors()
			inGraph := dequantGraph(t, packed, am, shape)
			for i := range want {
				if want[i] != inGraph[i] {
					t.Fatalf("graph dequant[%d] = %g, reference %g", i, inGraph[i], want[i])
				}
			}
		})
	}
}

func dequantGraph(t *testing.T, packed, absmax *tensors.Tensor, shape []int) []float32 {
	t.Helper()
	b, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	out, err := ExecOnce(b, func(p, a *Node) *Node { return Dequantize(p, a, shape, dtypes.Float32) }, packed, absmax)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tensors.CopyFlatData[float32](out)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		w     []float32
		shape []int
		want  string
	}{
		{"block", make([]float32, 96), []int{3, 32}, "not a multiple of the block size 64"},
		{"count", make([]float32, 64), []int{2, 64}, "has 128 elements, given 64"},
		{"nan", append(make([]float32, 63), float32(math.NaN())), []int{64}, "non-finite"},
		{"shape", nil, []int{0, 64}, "shape"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Quantize("w.weight", tc.w, tc.shape)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "w.weight") {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestDoubleQuant: absmax values come back within half a step of their
// block's scale; the quantization error of the weights barely moves.
func TestDoubleQuant(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 64 * 1000
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(r.NormFloat64() * 0.02)
	}
	q, err := Quantize("w", w, []int{n / 64, 64})
	if err != nil {
		t.Fatal(err)
	}
	plain := q.Dequantize()
	absmax := append([]float32(nil), q.Absmax...)
	q.QuantizeAbsmax()
	if q.Absmax != nil || q.Double == nil {
		t.Fatal("absmax not replaced")
	}
	back := q.Double.Dequantize()
	for i := range absmax {
		step := q.Double.Scale[i/DoubleBlockSize]
		if d := math.Abs(float64(back[i] - absmax[i])); d > float64(step)*0.5001+1e-9 {
			t.Fatalf("absmax[%d] %g → %g: off by %g > half step %g", i, absmax[i], back[i], d, step/2)
		}
	}
	double := q.Dequantize()
	rms := func(a []float32) float64 {
		s := 0.0
		for i := range a {
			d := float64(a[i] - w[i])
			s += d * d
		}
		return math.Sqrt(s / float64(len(a)))
	}
	e1, e2 := rms(plain), rms(double)
	t.Logf("rms error: nf4 %.3g, with double quantization %.3g (weights rms 0.02); %d → %d bytes", e1, e2, 4*n/64, q.Double.Bytes())
	if e2 > e1*1.05 {
		t.Errorf("double quantization raised the error from %g to %g", e1, e2)
	}
	if e1 > 0.02*0.12 {
		t.Errorf("nf4 rms error %g too large", e1)
	}
}

func BenchmarkQuantize4096x14336(b *testing.B) {
	w := make([]float32, 4096*14336)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	b.SetBytes(int64(2 * len(w)))
	for b.Loop() {
		if _, err := Quantize("w", w, []int{4096, 14336}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestNearest: the fast search agrees with the plain argmin everywhere,
// midpoints and their float32 neighbours included.
func TestNearest(t *testing.T) {
	var xs []float32
	for i := -1100; i <= 1100; i++ {
		xs = append(xs, float32(i)/1000)
	}
	for _, m := range mids {
		xs = append(xs, m, math.Nextafter32(m, -2), math.Nextafter32(m, 2))
	}
	xs = append(xs, Code[:]...)
	for _, x := range xs {
		if a, b := nearest(x), nearestSlow(x); a != b {
			t.Errorf("nearest(%g) = %d, argmin %d", x, a, b)
		}
	}
}

// TestDequantizeAbsmaxGraph rebuilds double-quantized absmax vectors in a
// graph (lengths that fill whole blocks of 256, a partial last block, and
// fewer than one block) and compares with the host's Dequantize.
func TestDequantizeAbsmaxGraph(t *testing.T) {
	backend, err := simplego.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Finalize()
	exec, err := NewExec(backend, DequantizeAbsmax)
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	r := rand.New(rand.NewPCG(4, 4))
	for _, m := range []int{512, 300, 64} {
		absmax := make([]float32, m)
		for i := range absmax {
			absmax[i] = 0.01 + 0.2*r.Float32()
		}
		d := DoubleQuantize(absmax)
		want := d.Dequantize()
		q, scale, mean := d.DoubleTensors()
		out, err := exec.Exec1(q, scale, mean)
		if err != nil {
			t.Fatal(err)
		}
		got := tensors.MustCopyFlatData[float32](out)
		if len(got) != m {
			t.Fatalf("m=%d: %d values", m, len(got))
		}
		for i := range got {
			if diff := math.Abs(float64(got[i] - want[i])); diff > 1e-6*math.Abs(float64(want[i])) {
				t.Fatalf("m=%d, absmax %d: %g in the graph, %g on the host", m, i, got[i], want[i])
			}
			if math.Abs(float64(got[i]-absmax[i])) > 0.2/127 {
				t.Fatalf("m=%d, absmax %d: %g, was %g before double quantization", m, i, got[i], absmax[i])
			}
		}
	}
}
