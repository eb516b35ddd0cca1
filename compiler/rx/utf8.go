package rx

import "unicode/utf8"

// RuneRange matches the UTF-8 encoding of one code point in [lo, hi].
// Surrogates (U+D800–U+DFFF) have no UTF-8 encoding and are never matched.
func (b *Builder) RuneRange(lo, hi rune) Expr {
	if lo < 0 {
		lo = 0
	}
	if hi > utf8.MaxRune {
		hi = utf8.MaxRune
	}
	var alts []Expr
	// split off the surrogate block
	if lo <= 0xDFFF && hi >= 0xD800 {
		if lo < 0xD800 {
			alts = append(alts, b.RuneRange(lo, 0xD7FF))
		}
		if hi > 0xDFFF {
			alts = append(alts, b.RuneRange(0xE000, hi))
		}
		return b.Or(alts...)
	}
	if lo > hi {
		return Nothing
	}
	// split by encoded length
	for _, max := range []rune{0x7F, 0x7FF, 0xFFFF} {
		if lo <= max && hi > max {
			return b.Or(b.RuneRange(lo, max), b.RuneRange(max+1, hi))
		}
	}
	if hi <= 0x7F {
		return b.Range(byte(lo), byte(hi))
	}
	// same length n: split until each range is a product of byte ranges
	n := utf8.RuneLen(lo)
	for i := 1; i < n; i++ {
		m := rune(1)<<(6*i) - 1
		if lo&^m != hi&^m {
			if lo&m != 0 {
				return b.Or(b.RuneRange(lo, lo|m), b.RuneRange((lo|m)+1, hi))
			}
			if hi&m != m {
				return b.Or(b.RuneRange(lo, (hi&^m)-1), b.RuneRange(hi&^m, hi))
			}
		}
	}
	var lb, hb [utf8.UTFMax]byte
	utf8.EncodeRune(lb[:], lo)
	utf8.EncodeRune(hb[:], hi)
	seq := make([]Expr, n)
	for i := 0; i < n; i++ {
		seq[i] = b.Range(lb[i], hb[i])
	}
	return b.Concat(seq...)
}

// AnyRune matches the UTF-8 encoding of any code point (no surrogates).
func (b *Builder) AnyRune() Expr { return b.RuneRange(0, utf8.MaxRune) }

// RuneSet matches one code point from the union of the given ranges.
func (b *Builder) RuneSet(ranges [][2]rune) Expr {
	alts := make([]Expr, len(ranges))
	for i, r := range ranges {
		alts[i] = b.RuneRange(r[0], r[1])
	}
	return b.Or(alts...)
}

// LengthImplied is a shortcut for Compile(And(FromDFA(d, d.Start),
// Repeat(AnyRune(), min, max))) (max < 0: no upper bound) where the length
// bound is implied: when d (a DFA made by Compile or Build) has no
// transition on a byte above 0x7F and every string of its language has
// between min and max bytes, it returns what that Compile returns without
// exploring the product: d's automaton, its byte classes refined by the
// class boundaries of AnyRune, which every state of the product has. ok is
// false otherwise, and the caller compiles the intersection.
func (b *Builder) LengthImplied(d *DFA, min, max int) (*DFA, bool) {
	n, k := d.NumStates(), d.NumClasses
	if n == 0 || d.Start != 0 {
		return nil, false
	}
	// ASCII only: no live transition on a class holding a byte ≥ 0x80
	for s := 0; s < n; s++ {
		for c := int(d.Class[0x80]); c < k; c++ {
			if d.Next[s*k+c] >= 0 {
				return nil, false
			}
		}
	}
	// shortest and longest accepted strings (every state reaches acceptance)
	const inf = int(^uint(0) >> 1)
	longest := make([]int, n) // -1: not computed, -2: on the DFS stack
	for s := range longest {
		longest[s] = -1
	}
	var walk func(s int32) int
	walk = func(s int32) int {
		switch longest[s] {
		case -2:
			return inf // a cycle
		case -1:
		default:
			return longest[s]
		}
		longest[s] = -2
		l := -1
		if d.Accept[s] {
			l = 0
		}
		for _, t := range d.Next[int(s)*k : (int(s)+1)*k] {
			if t >= 0 {
				if m := walk(t); m == inf {
					l = inf
				} else if l != inf {
					l = max0(l, m+1)
				}
			}
		}
		longest[s] = l
		return l
	}
	hi := walk(d.Start)
	dist := make([]int, n)
	for s := range dist {
		dist[s] = -1
	}
	dist[d.Start] = 0
	lo := -1
	for queue := []int32{d.Start}; len(queue) > 0 && lo < 0; queue = queue[1:] {
		s := queue[0]
		if d.Accept[s] {
			lo = dist[s]
			break
		}
		for _, t := range d.Next[int(s)*k : (int(s)+1)*k] {
			if t >= 0 && dist[t] < 0 {
				dist[t] = dist[s] + 1
				queue = append(queue, t)
			}
		}
	}
	if lo < 0 || lo < min || (max >= 0 && hi > max) {
		return nil, false
	}
	bounds := d.bounds.Union(*b.boundaries(b.AnyRune()))
	bounds.Add(0)
	if bounds == d.bounds {
		return d, true
	}
	out := &DFA{Start: d.Start, Accept: d.Accept, bounds: bounds}
	cls := -1
	var rep []byte // first byte of each new class
	for c := 0; c < 256; c++ {
		if bounds.Has(byte(c)) {
			cls++
			rep = append(rep, byte(c))
		}
		out.Class[c] = uint8(cls)
	}
	out.NumClasses = cls + 1
	out.Next = make([]int32, n*out.NumClasses)
	for s := 0; s < n; s++ {
		for c, r := range rep {
			out.Next[s*out.NumClasses+c] = d.Next[s*k+int(d.Class[r])]
		}
	}
	return out, true
}

func max0(a, b int) int {
	if a > b {
		return a
	}
	return b
}
