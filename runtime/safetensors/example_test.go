package safetensors_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/schemac-dev/schemac/runtime/safetensors"
)

func Example() {
	dir, _ := os.MkdirTemp("", "st")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	w := safetensors.NewWriter()
	w.Metadata = map[string]string{"format": "pt"}
	w.AddFloat32("layer.weight", safetensors.BF16, []int{2, 2}, []float32{1, 2, 3, 4.01})
	if err := w.WriteFile(path); err != nil {
		fmt.Println(err)
		return
	}

	f, err := safetensors.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	t, _ := f.Tensor("layer.weight")
	v, _ := t.Float32s()
	fmt.Println(f.Names(), string(t.DType), t.Shape, v)
	// Output: [layer.weight] BF16 [2 2] [1 2 3 4]
}
