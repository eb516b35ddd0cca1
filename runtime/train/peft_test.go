package train

import (
	"encoding/binary"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/runtime/dataset"
	"github.com/schemac-dev/schemac/runtime/model"
	"github.com/schemac-dev/schemac/runtime/safetensors"
)

var update = flag.Bool("update", false, "rewrite testdata/peft (adapter and expected logits)")

const (
	peftDir     = "testdata/peft"
	tinyMistral = "../../testdata/fixtures/tiny-mistral"
)

// loadTinyMistral loads the fixture checkpoint (bf16-exact) as float32.
func loadTinyMistral(t *testing.T) *model.Weights {
	t.Helper()
	cfg, err := model.ReadConfig(tinyMistral)
	if err != nil {
		t.Skipf("fixture absent: %v", err)
	}
	set, err := safetensors.OpenModel(tinyMistral)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	w, err := model.LoadWeights(cfg, set, model.LoadOptions{DType: dtypes.Float32, Backend: testBackend()})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// peftProbe is the sequence whose logits the fixture holds.
func peftProbe(t *testing.T) []int32 {
	return sequences(t, shortRecords(1, 11), dataset.Train)[0].Tokens
}

// TestPEFTFixture checks our side of the peft comparison: the adapter in
// testdata/peft (trained by this package on testdata/fixtures/tiny-mistral,
// -update rewrites it) applied by model.ReadAdapter/AddLoRA gives the
// logits in testdata/peft/expected.safetensors. testdata/peft/check_peft.py
// checks the other side: transformers + peft load the same base and
// adapter unchanged and compute the same logits.
func TestPEFTFixture(t *testing.T) {
	base := loadTinyMistral(t)
	defer base.Finalize()
	probe := peftProbe(t)
	if *update {
		opts := DefaultOptions()
		opts.R, opts.Alpha, opts.LR, opts.Steps = 4, 8, 1e-2, 4
		tr, err := New(testBackend(), base, opts)
		if err != nil {
			t.Fatal(err)
		}
		seqs := sequences(t, shortRecords(16, 12), dataset.Train)
		if err := Loop(tr, &RunLog{}, seqs, nil, LoopOptions{Batch: 4, Accum: 1, Steps: 4, PadTo: 16, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		if err := tr.SaveAdapter(peftDir, "testdata/fixtures/tiny-mistral"); err != nil {
			t.Fatal(err)
		}
		tr.Finalize()
	}
	a, err := model.ReadAdapter(peftDir, base.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := base.AddLoRA(testBackend(), a, false); err != nil {
		t.Fatal(err)
	}
	m, err := model.New(testBackend(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Finalize()
	logits, err := m.Forward(probe)
	if err != nil {
		t.Fatal(err)
	}
	lse := make([]float32, len(logits))
	for i, row := range logits {
		mx := math.Inf(-1)
		for _, x := range row {
			mx = math.Max(mx, float64(x))
		}
		s := 0.0
		for _, x := range row {
			s += math.Exp(float64(x) - mx)
		}
		lse[i] = float32(mx + math.Log(s))
	}
	last := logits[len(logits)-1]
	path := filepath.Join(peftDir, "expected.safetensors")
	if *update {
		w := safetensors.NewWriter()
		ids := make([]byte, 8*len(probe))
		for i, id := range probe {
			binary.LittleEndian.PutUint64(ids[8*i:], uint64(id))
		}
		must(t, w.Add("probe", safetensors.I64, []int{len(probe)}, ids))
		must(t, w.AddFloat32("logits_last", safetensors.F32, []int{len(last)}, last))
		must(t, w.AddFloat32("logsumexp", safetensors.F32, []int{len(lse)}, lse))
		must(t, w.WriteFile(path))
		must(t, os.Chmod(path, 0o644))
	}
	f, err := safetensors.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	get := func(name string) []float32 {
		tn, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		v, err := tn.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if d := maxAbsDiff(last, get("logits_last")); d > 1e-5 {
		t.Errorf("last logits differ from the fixture by %g", d)
	}
	if d := maxAbsDiff(lse, get("logsumexp")); d > 1e-5 {
		t.Errorf("logsumexp differs from the fixture by %g", d)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
