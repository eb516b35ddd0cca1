package contract_test

import (
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/schemac-dev/schemac/gen/functioncall"
	"github.com/schemac-dev/schemac/gen/invoice"
	"github.com/schemac-dev/schemac/gen/supportticket"
	"github.com/schemac-dev/schemac/gen/userprofile"
	"github.com/schemac-dev/schemac/runtime/mask"
)

var generated = []struct {
	name  string
	table func() (*mask.Table, error)
}{
	{"userprofile", userprofile.Table},
	{"invoice", invoice.Table},
	{"supportticket", supportticket.Table},
	{"functioncall", functioncall.Table},
}

// BenchmarkLoad measures loading each generated package's embedded blob
// (checksum and full validation included), as Table does once.
func BenchmarkLoad(b *testing.B) {
	for _, g := range generated {
		b.Run(g.name, func(b *testing.B) {
			t, err := g.table()
			if err != nil {
				b.Fatal(err)
			}
			blob, err := t.MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(blob)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := mask.Load(blob); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(blob)), "blob_bytes")
			b.ReportMetric(float64(t.NumStates), "states")
			b.ReportMetric(float64(t.NumRows()), "rows")
		})
	}
}

// BenchmarkDecodeStep measures one decode step's table work on
// gen/userprofile: the row index of the state's mask (what a device-side
// decoder uploads) and the next state for the sampled token.
func BenchmarkDecodeStep(b *testing.B) {
	t, err := userprofile.Table()
	if err != nil {
		b.Fatal(err)
	}
	states, toks := steps(t, 4096)
	var sink int32
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		s := states[i]
		sink += t.RowIndex(s)
		n, err := t.Next(s, toks[i])
		if err != nil {
			b.Fatal(err)
		}
		sink += n
		i = (i + 1) & 4095
	}
	_ = sink
}

// BenchmarkMaskLogits measures masking a 32 000-logit vector in place, the
// CPU decoder's per-step work.
func BenchmarkMaskLogits(b *testing.B) {
	t, err := userprofile.Table()
	if err != nil {
		b.Fatal(err)
	}
	states, _ := steps(t, 4096)
	logits := make([]float32, t.VocabSize)
	i := 0
	for b.Loop() {
		t.MaskLogits(states[i], logits)
		i = (i + 1) & 4095
	}
}

// steps records n (state, allowed token) pairs of random decodes.
func steps(t *mask.Table, n int) ([]int32, []int) {
	r := rand.New(rand.NewPCG(5, 5))
	var states []int32
	var toks []int
	s := t.Start()
	for len(states) < n {
		row := t.Row(s)
		count := 0
		for _, w := range row {
			count += bits.OnesCount64(w)
		}
		if count == 0 {
			s = t.Start()
			continue
		}
		k := r.IntN(count)
		tok := -1
		for i, w := range row {
			c := bits.OnesCount64(w)
			if k >= c {
				k -= c
				continue
			}
			for ; k > 0; k-- {
				w &= w - 1
			}
			tok = i*64 + bits.TrailingZeros64(w)
			break
		}
		states, toks = append(states, s), append(toks, tok)
		next, err := t.Next(s, tok)
		if err != nil {
			panic(err)
		}
		s = next
	}
	return states, toks
}
