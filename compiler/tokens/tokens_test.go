package tokens

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/compiler/rx"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

type fakeVocab struct {
	pieces []string
	eos    int
}

func (v *fakeVocab) VocabSize() int           { return len(v.pieces) }
func (v *fakeVocab) TokenBytes(id int) []byte { return []byte(v.pieces[id]) }
func (v *fakeVocab) EOS() int                 { return v.eos }

// checkRows compares every state's mask with brute force: token t is
// allowed in s exactly when the DFA survives t's bytes from s.
func checkRows(t *testing.T, a *Automaton, v Vocab, states []int32) {
	t.Helper()
	for _, s := range states {
		for id := 0; id < v.VocabSize(); id++ {
			bs := v.TokenBytes(id)
			want := len(bs) > 0 && a.DFA.Run(s, bs) >= 0
			if id == v.EOS() {
				want = a.DFA.Accept[s]
			}
			if got := a.Allowed(s, id); got != want {
				t.Fatalf("state %d token %d %q: allowed %v, want %v", s, id, bs, got, want)
			}
			if want && id != v.EOS() && a.Next(s, id) != a.DFA.Run(s, bs) {
				t.Fatalf("state %d token %d: wrong next state", s, id)
			}
		}
	}
}

// TestRowsBruteForce builds random DFAs over a small alphabet and a random
// vocabulary, and checks every mask against brute force.
func TestRowsBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alpha := "ab\"\n,"
	for i := 0; i < 100; i++ {
		v := &fakeVocab{pieces: []string{"", "</s>"}, eos: 1}
		for k := 0; k < 60; k++ {
			var sb strings.Builder
			for n := 1 + r.IntN(5); n > 0; n-- {
				sb.WriteByte(alpha[r.IntN(len(alpha))])
			}
			v.pieces = append(v.pieces, sb.String())
		}
		for _, c := range alpha { // every byte spellable
			v.pieces = append(v.pieces, string(c))
		}
		v.pieces[1] = "" // EOS has no bytes
		b := rx.NewBuilder()
		var parts []rx.Expr
		for k := 0; k < 3; k++ {
			var w strings.Builder
			for n := r.IntN(6); n > 0; n-- {
				w.WriteByte(alpha[r.IntN(len(alpha))])
			}
			parts = append(parts, b.Concat(b.Literal(w.String()), b.Star(b.Byte(alpha[r.IntN(len(alpha))]))))
		}
		d, err := b.Compile(b.Concat(b.Or(parts...), b.Repeat(b.Byte('a'), 0, r.IntN(8))), rx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		a, err := Build(d, v, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var all []int32
		for s := 0; s < d.NumStates(); s++ {
			all = append(all, int32(s))
		}
		checkRows(t, a, v, all)
	}
}

// TestRowsMistral checks masks with the real vocabulary on a JSON-like
// language with a bounded string, where grouping states matters most.
func TestRowsMistral(t *testing.T) {
	tk, err := tokenizer.Load("../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json")
	if err != nil {
		t.Fatal(err)
	}
	b := rx.NewBuilder()
	char := b.Minus(b.AnyRune(), b.Bytes(byteSet("\"\\\n")))
	str := b.Concat(b.Byte('"'), b.Repeat(char, 0, 40), b.Byte('"'))
	e := b.Concat(b.Literal("{\n  \"name\": "), str, b.Literal(",\n  \"n\": "), b.Plus(b.Range('0', '9')), b.Literal("\n}"))
	d, err := b.Compile(e, rx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Build(d, tk, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Walks >= d.NumStates() {
		t.Errorf("%d walks for %d states: grouping did not help", a.Walks, d.NumStates())
	}
	var sample []int32
	for s := 0; s < d.NumStates(); s += 7 {
		sample = append(sample, int32(s))
	}
	checkRows(t, a, tk, sample)
	if got := string(a.Forced[a.Start]); got != "{\n  \"name\": \"" {
		t.Errorf("forced bytes from the start: %q", got)
	}
}

func byteSet(s string) rx.ByteSet {
	var set rx.ByteSet
	for i := 0; i < len(s); i++ {
		set.Add(s[i])
	}
	return set
}

// TestMissingBytes checks that a vocabulary that cannot spell a needed
// byte is reported.
func TestMissingBytes(t *testing.T) {
	b := rx.NewBuilder()
	d, err := b.Compile(b.Literal("ab"), rx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(d, &fakeVocab{pieces: []string{"", "a", "c"}}, Options{})
	if err == nil || !strings.Contains(err.Error(), "0x62") {
		t.Fatalf("want a missing-byte error naming 0x62, got %v", err)
	}
}
