package model

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/dtypes"

	"github.com/schemac-dev/schemac/runtime/safetensors"
)

// bf16Tol: with bf16 weights the matrix products take bf16 inputs (the
// activations, products, keys and values are rounded to 8 bits of
// mantissa; simplego accumulates in float32 as GPUs do), so logits (standard
// deviation 0.8, largest 3.5 here) move by a few percent: measured 0.064 for the
// whole-sequence forward, 0.10 through the bf16 KV cache.
const bf16Tol = 0.25

// TestForwardBF16 runs the bf16 path (weights stored as bf16 as on the
// GPU, cache in bf16) against the float32 reference.
func TestForwardBF16(t *testing.T) {
	ref := openReference(t)
	dir := filepath.Join(fixtureDir, "tiny-mistral")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("fixture absent")
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	set, err := safetensors.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	w, err := LoadWeights(cfg, set, LoadOptions{DType: dtypes.BFloat16, Backend: testBackend()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(testBackend(), w)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Finalize()
	prompt := ref.Ints(t, "p0.prompt")
	last, _ := ref.Floats(t, "p0.logits_last")
	logits, err := m.Forward(prompt)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := maxAbsDiff(logits[len(prompt)-1], last)
	c, err := m.NewCache(32)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Finalize()
	_, stepLogits, err := c.Step(prompt, Sampling{}, true)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := maxAbsDiff(stepLogits, last)
	t.Logf("bf16: forward max |diff| %.3g, step max |diff| %.3g", d1, d2)
	if d1 > bf16Tol || d2 > bf16Tol {
		t.Errorf("bf16 logits off by %g / %g > %g", d1, d2, bf16Tol)
	}
}
