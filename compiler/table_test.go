package compiler_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/internal/oracle"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/mask"
)

type tableFixture struct {
	doc   *schema.Document
	res   *compiler.Result
	table *mask.Table // converted
	blob  []byte
	err   error
}

var (
	upOnce sync.Once
	up     tableFixture
)

// userProfileTable compiles the UserProfile schema once for the table tests
// and benchmarks, converts it and marshals it.
func userProfileTable(t testing.TB) *tableFixture {
	tk := mistral(t)
	upOnce.Do(func() {
		up.doc, up.err = schema.Load("../schemas/user_profile.schema.json")
		if up.err != nil {
			return
		}
		up.res, up.err = compiler.Compile(up.doc, tk, compiler.Options{})
		if up.err != nil {
			return
		}
		up.table = up.res.Table(tk.Fingerprint())
		up.blob, up.err = up.table.MarshalBinary()
	})
	if up.err != nil {
		t.Fatal(up.err)
	}
	return &up
}

func TestTableMatchesAutomaton(t *testing.T) {
	f := userProfileTable(t)
	tk := mistral(t)
	a := f.res.Tokens
	tb, err := mask.Load(f.blob)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tb, f.table) {
		t.Fatal("loaded table differs from the converted one")
	}
	if again, _ := f.res.Table(tk.Fingerprint()).MarshalBinary(); !bytes.Equal(again, f.blob) {
		t.Fatal("converting and marshalling twice gives different blobs")
	}
	if err := tb.CheckVocab(tk.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	if err := tb.CheckVocab("sha256:0000"); err == nil {
		t.Fatal("CheckVocab accepted another tokenizer")
	}
	if tb.Start() != a.Start || tb.NumStates != a.NumStates() || tb.VocabSize != a.VocabSize || tb.EOS != a.EOS {
		t.Fatal("header differs")
	}
	for s := int32(0); s < int32(a.NumStates()); s++ {
		if tb.Accepting(s) != a.Accepting(s) || !bytes.Equal(tb.Forced(s), a.Forced[s]) {
			t.Fatalf("state %d: accepting or forced bytes differ", s)
		}
		if !slicesEqual(tb.Row(s), a.Rows[a.Row[s]]) {
			t.Fatalf("state %d: row differs", s)
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	states := []int32{a.Start}
	for range 50 {
		states = append(states, int32(r.IntN(a.NumStates())))
	}
	logits := make([]float32, a.VocabSize+3)
	inf := float32(math.Inf(-1))
	for _, s := range states {
		for i := range logits {
			logits[i] = 1
		}
		tb.MaskLogits(s, logits)
		for tok := 0; tok < len(logits); tok++ {
			allowed := a.Allowed(s, tok)
			if got := tb.Allowed(s, tok); got != allowed {
				t.Fatalf("Allowed(%d, %d) = %v, automaton %v", s, tok, got, allowed)
			}
			if (logits[tok] != inf) != allowed {
				t.Fatalf("MaskLogits(%d): logit %d = %v, allowed %v", s, tok, logits[tok], allowed)
			}
			want := a.Next(s, tok)
			got, err := tb.Next(s, tok)
			if got != want || (err == nil) != (want >= 0) {
				t.Fatalf("Next(%d, %d) = %d, %v; automaton %d", s, tok, got, err, want)
			}
		}
	}
}

func slicesEqual(x, y []uint64) bool { return reflect.DeepEqual(x, y) }

// TestTableDecode decodes as a service would: random logits, MaskLogits,
// argmax, Next, until EOS; every output must validate.
func TestTableDecode(t *testing.T) {
	f := userProfileTable(t)
	tk := mistral(t)
	tb, err := mask.Load(f.blob)
	if err != nil {
		t.Fatal(err)
	}
	v, err := oracle.NewValidator(f.doc)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 9))
	logits := make([]float32, tb.VocabSize)
	const walks, maxSteps = 20, 4000
	done := 0
	for w := 0; w < walks; w++ {
		s := tb.Start()
		var out []byte
		for step := 0; step < maxSteps; step++ {
			for i := range logits {
				logits[i] = r.Float32()
			}
			tb.MaskLogits(s, logits)
			best := 0
			for i, l := range logits {
				if l > logits[best] {
					best = i
				}
			}
			if math.IsInf(float64(logits[best]), -1) {
				t.Fatalf("walk %d: state %d allows nothing", w, s)
			}
			if best == int(tb.EOS) {
				if err := v.Validate(out); err != nil {
					t.Fatalf("walk %d produced %s: %v", w, oracle.Quote(out), err)
				}
				done++
				break
			}
			next, err := tb.Next(s, best)
			if err != nil {
				t.Fatalf("walk %d: %v", w, err)
			}
			out = append(out, tk.TokenBytes(best)...)
			s = next
		}
	}
	if done < walks/2 {
		t.Errorf("only %d of %d walks reached EOS", done, walks)
	}
	t.Logf("%d of %d walks reached EOS and validated", done, walks)
}

// decodeSteps is a sequence of (state, token) pairs from a masked random
// walk: typical decode steps.
func decodeSteps(tb testing.TB, t *mask.Table) (states []int32, toks []int) {
	r := rand.New(rand.NewPCG(5, 5))
	logits := make([]float32, t.VocabSize)
	s := t.Start()
	for len(states) < 4096 {
		for i := range logits {
			logits[i] = r.Float32()
		}
		t.MaskLogits(s, logits)
		best := 0
		for i, l := range logits {
			if l > logits[best] {
				best = i
			}
		}
		if best == int(t.EOS) {
			s = t.Start()
			continue
		}
		next, err := t.Next(s, best)
		if err != nil {
			tb.Fatal(err)
		}
		states, toks = append(states, s), append(toks, best)
		s = next
	}
	return states, toks
}

// BenchmarkDecodeStep measures one decode step's table work: the row index
// of the state (to pick the device-resident mask) and the next state.
func BenchmarkDecodeStep(b *testing.B) {
	f := userProfileTable(b)
	t, err := mask.Load(f.blob)
	if err != nil {
		b.Fatal(err)
	}
	states, toks := decodeSteps(b, t)
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

// BenchmarkDecodeStepMaskLogits measures masking 32 000 logits in place.
func BenchmarkDecodeStepMaskLogits(b *testing.B) {
	f := userProfileTable(b)
	t := f.table
	states, _ := decodeSteps(b, t)
	logits := make([]float32, t.VocabSize)
	i := 0
	for b.Loop() {
		t.MaskLogits(states[i], logits)
		i = (i + 1) & 4095
	}
}

// BenchmarkLoadTable measures Load of the UserProfile blob (checksum and
// full validation included).
func BenchmarkLoadTable(b *testing.B) {
	f := userProfileTable(b)
	b.SetBytes(int64(len(f.blob)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mask.Load(f.blob); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(f.blob)), "blob_bytes")
	b.ReportMetric(float64(f.table.NumStates), "states")
	b.ReportMetric(float64(f.table.NumRows()), "rows")
}
