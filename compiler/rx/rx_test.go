package rx

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// ends is an oracle independent of derivatives: the set of j such that
// w[i:j] is in the language of e, computed from the expression's structure.
func ends(b *Builder, e Expr, w []byte, i int) map[int]bool {
	n := b.nodes[e]
	out := map[int]bool{}
	switch n.kind {
	case kEpsilon:
		out[i] = true
	case kBytes:
		if i < len(w) && n.set.Has(w[i]) {
			out[i+1] = true
		}
	case kConcat:
		for j := range ends(b, n.a, w, i) {
			for k := range ends(b, n.b, w, j) {
				out[k] = true
			}
		}
	case kOr:
		for _, x := range n.list {
			for j := range ends(b, x, w, i) {
				out[j] = true
			}
		}
	case kAnd:
		for j := i; j <= len(w); j++ {
			out[j] = true
		}
		for _, x := range n.list {
			m := ends(b, x, w, i)
			for j := range out {
				if !m[j] {
					delete(out, j)
				}
			}
		}
	case kNot:
		m := ends(b, n.a, w, i)
		for j := i; j <= len(w); j++ {
			if !m[j] {
				out[j] = true
			}
		}
	case kStar, kRepeat:
		min, max := 0, -1
		if n.kind == kRepeat {
			min, max = int(n.min), int(n.max)
		}
		cur := map[int]bool{i: true}
		for k := 0; max < 0 || k <= max; k++ {
			if k >= min {
				for j := range cur {
					out[j] = true
				}
			}
			nxt := map[int]bool{}
			for j := range cur {
				for l := range ends(b, n.a, w, j) {
					if l > j || k < min { // progress, or still counting to min
						nxt[l] = true
					}
				}
			}
			if len(nxt) == 0 || k > len(w)+min {
				break
			}
			cur = nxt
		}
	case kDFA:
		d := b.dfas[n.dfa]
		s := n.state
		if d.Accept[s] {
			out[i] = true
		}
		for j := i; j < len(w) && s >= 0; j++ {
			s = d.Step(s, w[j])
			if s >= 0 && d.Accept[s] {
				out[j+1] = true
			}
		}
	}
	return out
}

func oracle(b *Builder, e Expr, w []byte) bool { return ends(b, e, w, 0)[len(w)] }

var alphabet = []byte("ab\"\x00")

func randExpr(b *Builder, r *rand.Rand, depth int) Expr {
	if depth == 0 || r.IntN(4) == 0 {
		switch r.IntN(5) {
		case 0:
			return Epsilon
		case 1:
			var s ByteSet
			s.Add(alphabet[r.IntN(len(alphabet))])
			s.Add(alphabet[r.IntN(len(alphabet))])
			return b.Bytes(s)
		default:
			return b.Byte(alphabet[r.IntN(len(alphabet))])
		}
	}
	x := randExpr(b, r, depth-1)
	y := randExpr(b, r, depth-1)
	switch r.IntN(8) {
	case 0, 1:
		return b.Concat(x, y)
	case 2:
		return b.Or(x, y)
	case 3:
		return b.And(b.Star(x), b.Star(y))
	case 4:
		return b.Minus(b.Star(b.Or(x, y)), x)
	case 5:
		return b.Star(x)
	case 6:
		lo := r.IntN(3)
		return b.Repeat(x, lo, lo+r.IntN(3)-1)
	default:
		return b.Not(x)
	}
}

func randWord(r *rand.Rand) []byte {
	w := make([]byte, r.IntN(7))
	for i := range w {
		w[i] = alphabet[r.IntN(len(alphabet))]
	}
	return w
}

// TestCompileAgreesWithOracle compiles random expressions (with And, Not,
// bounded repetition) and checks membership of random words against the
// structural oracle, and that minimization preserved the language.
func TestCompileAgreesWithOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 400; i++ {
		b := NewBuilder()
		e := randExpr(b, r, 4)
		d, err := b.Compile(e, Options{})
		if err != nil {
			t.Fatal(err)
		}
		// embed the DFA again and compare: FromDFA must be the same language
		emb := b.FromDFA(d, d.Start)
		for k := 0; k < 60; k++ {
			w := randWord(r)
			want := oracle(b, e, w)
			if got := d.Matches(w); got != want {
				t.Fatalf("expr %s word %q: dfa says %v, oracle %v\n%s", b.String(e), w, got, want, d)
			}
			if got := oracle(b, emb, w); got != want {
				t.Fatalf("expr %s word %q: embedded dfa says %v", b.String(e), w, got)
			}
		}
	}
}

// TestMinimal checks the DFA is minimal on languages whose minimal size is
// known by hand.
func TestMinimal(t *testing.T) {
	b := NewBuilder()
	ab := b.Or(b.Byte('a'), b.Byte('b'))
	tests := []struct {
		name   string
		e      Expr
		states int
	}{
		{"(a|b)*", b.Star(ab), 1},
		{"(a|b)*a(a|b)", b.Concat(b.Star(ab), b.Byte('a'), ab), 4},
		{"a{2,4}", b.Repeat(b.Byte('a'), 2, 4), 5},
		{"(aa)*&(aaa)*", b.And(b.Star(b.Literal("aa")), b.Star(b.Literal("aaa"))), 6},
		{"~(a*)", b.Not(b.Star(b.Byte('a'))), 2},
		{"nothing", Nothing, 1},
		// equal futures merge: "ab"|"cb" needs 4 states, not 5
		{"ab|cb", b.Or(b.Literal("ab"), b.Literal("cb")), 3},
	}
	for _, tc := range tests {
		d, err := b.Compile(tc.e, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d.NumStates() != tc.states {
			t.Errorf("%s: %d states, want %d\n%s", tc.name, d.NumStates(), tc.states, d)
		}
	}
}

// TestRuneRange checks UTF-8 range expressions against utf8 decoding for
// code points around every encoding-length and surrogate boundary.
func TestRuneRange(t *testing.T) {
	ranges := [][2]rune{{0, 0x10FFFF}, {0x41, 0x5A}, {0x80, 0x7FF}, {0x7F, 0x800}, {0xD000, 0xE100},
		{0xFFFF, 0x10000}, {0x3B1, 0x3C9}, {0x1F600, 0x1F64F}, {0x100, 0x10FFFF}}
	probes := []rune{0, 1, 0x40, 0x41, 0x5A, 0x5B, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xE0FF, 0xE100, 0xE101,
		0xFFFF, 0x10000, 0x3B0, 0x3B1, 0x3C9, 0x3CA, 0x1F5FF, 0x1F600, 0x1F64F, 0x1F650, 0x10FFFF, 0xFF, 0x100}
	for _, rg := range ranges {
		b := NewBuilder()
		d, err := b.Compile(b.RuneRange(rg[0], rg[1]), Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range probes {
			want := p >= rg[0] && p <= rg[1]
			if got := d.Matches([]byte(string(p))); got != want {
				t.Errorf("range %U-%U rune %U: got %v want %v", rg[0], rg[1], p, got, want)
			}
		}
		// no surrogate encodings, no overlong forms, no invalid bytes
		for _, w := range []string{"\xed\xa0\x80", "\xc0\x80", "\xe0\x80\x80", "\xf4\x90\x80\x80", "\xff"} {
			if d.Matches([]byte(w)) {
				t.Errorf("range %U-%U accepts invalid UTF-8 %q", rg[0], rg[1], w)
			}
		}
	}
}

// TestAgainstRegexp compares a few expressions with Go's regexp on random
// UTF-8 strings.
func TestAgainstRegexp(t *testing.T) {
	b := NewBuilder()
	digit := b.Range('0', '9')
	cases := []struct {
		re string
		e  Expr
	}{
		{`^-?(0|[1-9][0-9]*)(\.[0-9]+)?$`, b.Concat(b.Opt(b.Byte('-')), b.Or(b.Byte('0'), b.Concat(b.Range('1', '9'), b.Star(digit))), b.Opt(b.Concat(b.Byte('.'), b.Plus(digit))))},
		{`^[^"\\]*$`, b.Star(b.And(b.AnyRune(), b.Not(b.Or(b.Byte('"'), b.Byte('\\')))))},
		{`^.{2,3}$`, b.Repeat(b.Minus(b.AnyRune(), b.Byte('\n')), 2, 3)},
	}
	r := rand.New(rand.NewPCG(3, 4))
	pool := []rune{'0', '1', '9', '-', '.', '"', '\\', 'a', '\n', 'é', '中', '😀'}
	for _, tc := range cases {
		re := regexp.MustCompile(tc.re)
		d, err := b.Compile(tc.e, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 3000; k++ {
			var sb strings.Builder
			for n := r.IntN(6); n > 0; n-- {
				sb.WriteRune(pool[r.IntN(len(pool))])
			}
			s := sb.String()
			if !utf8.ValidString(s) {
				continue
			}
			if got, want := d.Matches([]byte(s)), re.MatchString(s); got != want {
				t.Fatalf("%s on %q: dfa %v regexp %v", tc.re, s, got, want)
			}
		}
	}
}

func TestLimit(t *testing.T) {
	b := NewBuilder()
	// (a|b)*a(a|b){n}: the classic exponential blow-up for DFAs
	ab := b.Or(b.Byte('a'), b.Byte('b'))
	e := b.Concat(b.Star(ab), b.Byte('a'), b.Repeat(ab, 14, 14))
	_, err := b.Compile(e, Options{MaxStates: 1000})
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("want a too-large error, got %v", err)
	}
}

func TestQuotientAndBuild(t *testing.T) {
	b := NewBuilder()
	// L = a*·Z|bZ|c  ; quotient by Z = a*|b
	e := b.Or(b.Concat(b.Star(b.Byte('a')), b.Byte('Z')), b.Literal("bZ"), b.Byte('c'))
	d, err := b.Compile(e, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := d.Quotient('Z')
	for w, want := range map[string]bool{"": true, "a": true, "aaa": true, "b": true, "c": false, "aZ": false, "ab": false} {
		if got := q.Matches([]byte(w)); got != want {
			t.Errorf("quotient on %q: got %v want %v", w, got, want)
		}
	}
}

// TestTokenClasses checks that states grouped together agree on the
// liveness of every word that fits the per-position byte sets.
func TestTokenClasses(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	// tokens over the alphabet: position 0 any byte, position 1 not '"',
	// position 2 only 'a'; '"' ends a token except at position 0
	var all, noQuote, onlyA ByteSet
	for _, c := range alphabet {
		all.Add(c)
		if c != '"' {
			noQuote.Add(c)
		}
	}
	onlyA.Add('a')
	at := []ByteSet{all, all, onlyA}
	cont := []ByteSet{all, noQuote, {}}
	for i := 0; i < 200; i++ {
		b := NewBuilder()
		d, err := b.Compile(randExpr(b, r, 5), Options{})
		if err != nil {
			t.Fatal(err)
		}
		group, _ := d.TokenClasses(at, cont)
		var words [][]byte
		var gen func(w []byte)
		gen = func(w []byte) {
			words = append(words, append([]byte(nil), w...))
			j := len(w)
			if j == len(at) || (j > 0 && !cont[j-1].Has(w[j-1])) {
				return
			}
			for _, c := range alphabet {
				if at[j].Has(c) {
					gen(append(w, c))
				}
			}
		}
		gen(nil)
		for s := int32(0); s < int32(d.NumStates()); s++ {
			for s2 := s + 1; s2 < int32(d.NumStates()); s2++ {
				if group[s] != group[s2] {
					continue
				}
				for _, w := range words {
					if (d.Run(s, w) >= 0) != (d.Run(s2, w) >= 0) {
						t.Fatalf("states %d and %d grouped but differ on %q\n%s", s, s2, w, d)
					}
				}
			}
		}
	}
}

// TestLengthImplied checks the shortcut against compiling the intersection:
// the same DFA, classes included, whenever it applies.
func TestLengthImplied(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	applied := 0
	for i := 0; i < 400; i++ {
		b := NewBuilder()
		x := randExpr(b, r, 4)
		if i%3 == 0 { // bounded languages too, and a non-ASCII one now and then
			x = b.Concat(b.Repeat(x, 0, 2), b.Literal("ab"))
		}
		if i%17 == 0 {
			x = b.Or(x, b.RuneRange(0x400, 0x4FF))
		}
		d, err := b.Compile(x, Options{})
		if err != nil {
			t.Fatal(err)
		}
		min, max := r.IntN(3), r.IntN(12)-1
		got, ok := b.LengthImplied(d, min, max)
		if !ok {
			continue
		}
		applied++
		want, err := b.Compile(b.And(b.FromDFA(d, d.Start), b.Repeat(b.AnyRune(), min, max)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() || got.Class != want.Class || got.NumClasses != want.NumClasses ||
			!slices.Equal(got.Next, want.Next) || !slices.Equal(got.Accept, want.Accept) || got.Start != want.Start || got.bounds != want.bounds {
			t.Fatalf("%s with length %d..%d: shortcut\n%s%v\nwant\n%s%v", b.String(x), min, max, got, got.Class, want, want.Class)
		}
	}
	if applied < 40 {
		t.Errorf("the shortcut applied only %d times", applied)
	}
}

// TestMinimizeAcyclic compares the one-pass minimization of acyclic DFAs
// with partition refinement on random DFAs (some with dead and unreachable
// states).
func TestMinimizeAcyclic(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	acyclic := 0
	for i := 0; i < 500; i++ {
		n, k := 1+r.IntN(40), 1+r.IntN(6)
		d := &DFA{NumClasses: k, Accept: make([]bool, n), Next: make([]int32, n*k)}
		for c := 0; c < 256; c++ {
			d.Class[c] = uint8(c * k / 256)
			if c == 0 || d.Class[c] != d.Class[c-1] {
				d.bounds.Add(byte(c))
			}
		}
		for s := 0; s < n; s++ {
			d.Accept[s] = r.IntN(3) == 0
			for c := 0; c < k; c++ {
				d.Next[s*k+c] = -1
				if s+1 < n && r.IntN(2) == 0 {
					d.Next[s*k+c] = int32(s + 1 + r.IntN(min(n-s-1, 3+r.IntN(n))))
				} else if i%5 == 0 && r.IntN(8) == 0 {
					d.Next[s*k+c] = int32(r.IntN(n)) // now and then a cycle
				}
			}
		}
		if _, _, ok := d.acyclicKeep(); ok {
			acyclic++
		}
		got := d.Minimize()
		forceHopcroft = true
		want := d.Minimize()
		forceHopcroft = false
		if got.String() != want.String() || !slices.Equal(got.Next, want.Next) || !slices.Equal(got.Accept, want.Accept) || got.Class != want.Class {
			t.Fatalf("DFA\n%sminimized\n%swant\n%s", d, got, want)
		}
	}
	if acyclic < 300 {
		t.Errorf("only %d acyclic DFAs", acyclic)
	}
}
