package model

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/internal/fixtures"
	"github.com/schemac-dev/schemac/runtime/safetensors"
)

const fixtureDir = "../../testdata/fixtures"

func TestMain(m *testing.M) {
	// Everything runs on the pure-Go backend: nothing may fall through to XLA.
	os.Setenv("GOMLX_BACKEND", "go")
	os.Exit(m.Run())
}

// testBackend is simplego, or the backend SCHEMAC_TEST_BACKEND names
// (e.g. "xla:/path/to/xla_cuda_plugin.so") when the tests are built with
// -tags xla, which links the XLA backend (xla_test.go): that runs every
// reference test on a GPU.
var testBackend = sync.OnceValue(func() backends.Backend {
	if name := os.Getenv("SCHEMAC_TEST_BACKEND"); name != "" {
		b, err := backends.NewWithConfig(name)
		if err != nil {
			panic(err)
		}
		return b
	}
	// simplego's worker pool can deadlock when nested parallel work (a
	// DotGeneral splitting its batch) waits for workers that all belong to
	// parallel nodes waiting the same way: with 2 CPUs the pool holds 4
	// workers and the LoRA graph has more parallel products than that.
	// Unlimited parallelism never waits for a worker.
	b, err := simplego.New("parallelism=-1")
	if err != nil {
		panic(err)
	}
	return b
})

// openReference opens testdata/fixtures/reference.safetensors (the test
// skips when it is absent).
func openReference(t *testing.T) *fixtures.Reference { return fixtures.OpenReference(t, fixtureDir) }

// loadTiny loads a fixture checkpoint (tiny-mistral, tiny-llama) as
// float32 weights.
func loadTiny(t *testing.T, name string, tweak func(*Config)) *Model {
	t.Helper()
	dir := filepath.Join(fixtureDir, name)
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Skipf("fixture absent (%v): run testdata/fixtures/make_reference.py", err)
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(cfg)
	}
	set, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	w, err := LoadWeights(cfg, set, LoadOptions{DType: dtypes.Float32, Backend: testBackend()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(testBackend(), w)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Finalize)
	return m
}

func logSumExp(v []float32) float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = math.Max(mx, float64(x))
	}
	s := 0.0
	for _, x := range v {
		s += math.Exp(float64(x) - mx)
	}
	return mx + math.Log(s)
}

func argmax(v []float32) int32 {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return int32(best)
}

func maxAbsDiff(a, b []float32) (float64, int) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("lengths %d %d", len(a), len(b)))
	}
	d, at := 0.0, -1
	for i := range a {
		if e := math.Abs(float64(a[i] - b[i])); e > d || math.IsNaN(e) {
			d, at = e, i
		}
	}
	return d, at
}

func ln(x float64) float32 { return float32(math.Log(x)) }
