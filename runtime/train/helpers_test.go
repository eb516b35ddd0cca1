package train

import (
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
	"github.com/gomlx/gomlx/pkg/core/dtypes"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/model"
)

func TestMain(m *testing.M) {
	// Everything runs on the pure-Go backend: nothing may fall through to XLA.
	os.Setenv("GOMLX_BACKEND", "go")
	os.Exit(m.Run())
}

// testBackend is simplego with unlimited parallelism: its worker pool can
// deadlock on 2 CPUs when nested parallel work waits for workers (see
// runtime/model's tests).
var testBackend = sync.OnceValue(func() backends.Backend {
	b, err := simplego.New("parallelism=-1")
	if err != nil {
		panic(err)
	}
	return b
})

// microConfig is a model small enough for finite differences.
func microConfig() *model.Config {
	return &model.Config{
		Architecture: "MistralForCausalLM", HiddenSize: 16, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 4, IntermediateSize: 24, VocabSize: 48, MaxPositionEmbeddings: 64,
		RMSNormEps: 1e-5, RopeTheta: 10000, SlidingWindow: 4, BOSTokenID: 1, EOSTokenID: 2,
	}
}

func randomWeights(t testing.TB, cfg *model.Config, dtype dtypes.DType, quant model.Quant, seed int64, std float64) *model.Weights {
	t.Helper()
	w, err := model.RandomWeights(testBackend(), cfg, dtype, quant, seed, std)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func floats(t testing.TB, x *tensors.Tensor) []float32 {
	t.Helper()
	v, err := tensors.CopyFlatData[float32](x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		if math.IsNaN(float64(a[i] - b[i])) {
			return math.NaN()
		}
	}
	return d
}

// checkDirectional compares the directional derivative of the loss along
// a random unit direction (over every value of vals) computed from the
// gradients with central finite differences of lossAt (the loss with
// delta(i, j) added to vals[i][j]), and returns both.
func checkDirectional(t *testing.T, r *rand.Rand, vals, grads [][]float32, lossAt func(delta func(i, j int) float32) float64) (num, gd float64) {
	t.Helper()
	dir := make([][]float32, len(vals))
	var norm float64
	for i := range vals {
		dir[i] = make([]float32, len(vals[i]))
		for j := range dir[i] {
			dir[i][j] = float32(r.NormFloat64())
			norm += float64(dir[i][j]) * float64(dir[i][j])
		}
	}
	norm = math.Sqrt(norm)
	for i := range dir {
		for j := range dir[i] {
			dir[i][j] /= float32(norm)
			gd += float64(dir[i][j]) * float64(grads[i][j])
		}
	}
	const eps = 1e-2
	num = (lossAt(func(i, j int) float32 { return eps * dir[i][j] }) - lossAt(func(i, j int) float32 { return -eps * dir[i][j] })) / (2 * eps)
	if math.Abs(num-gd) > 2e-3*math.Max(1, math.Abs(gd)) || math.Abs(num-gd) > 0.02*math.Abs(gd) {
		t.Errorf("directional derivative: finite differences %.6g, gradient %.6g", num, gd)
	}
	return num, gd
}

// checkCoordinates compares, for each tensor i that pick selects, the
// gradient at its largest-magnitude coordinate with central finite
// differences of lossAt (as in checkDirectional).
func checkCoordinates(t *testing.T, names []string, grads [][]float32, lossAt func(delta func(i, j int) float32) float64, pick func(i int) bool) {
	t.Helper()
	const eps = 1e-2
	checked := 0
	for i := range grads {
		if !pick(i) {
			continue
		}
		best := 0
		for j := range grads[i] {
			if math.Abs(float64(grads[i][j])) > math.Abs(float64(grads[i][best])) {
				best = j
			}
		}
		at := func(sign float32) float64 {
			return lossAt(func(a, c int) float32 {
				if a == i && c == best {
					return sign * eps
				}
				return 0
			})
		}
		num := (at(1) - at(-1)) / (2 * eps)
		g := float64(grads[i][best])
		if math.Abs(num-g) > 1e-3+0.03*math.Abs(g) {
			t.Errorf("%s[%d]: finite differences %.6g, gradient %.6g", names[i], best, num, g)
		}
		checked++
	}
	t.Logf("%d coordinates checked", checked)
}
