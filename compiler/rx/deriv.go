package rx

import "math/bits"

// Deriv returns the Brzozowski derivative of e by byte c: the language of
// the strings w such that c·w is in the language of e.
func (b *Builder) Deriv(e Expr, c byte) Expr {
	if n := &b.nodes[e]; n.kind == kDFA {
		// one table lookup: not worth a memo
		return b.dfaDeriv(n.dfa, n.state, c)
	}
	// The derivative is the same for all bytes of a class of e's
	// boundaries, so it is cached per node and class.
	marks := b.boundaries(e)
	return b.derivClass(e, c, marks, classIndex(marks, c))
}

// derivClass is Deriv for a caller that knows c's class k among marks, e's
// boundaries.
func (b *Builder) derivClass(e Expr, c byte, marks *ByteSet, k int) Expr {
	if ds := b.nodes[e].derivs; ds != nil && ds[k] >= 0 {
		return ds[k]
	}
	d := b.deriv1(e, c)
	n := &b.nodes[e] // after deriv1: the slice may have grown
	if n.derivs == nil {
		n.derivs = b.exprs(marks.Len())
		for i := range n.derivs {
			n.derivs[i] = -1
		}
	}
	n.derivs[k] = d
	return d
}

// classIndex is the number of marks at or below c, minus one: the index of
// c's class (byte 0 is always marked).
func classIndex(marks *ByteSet, c byte) int {
	w := int(c >> 6)
	n := bits.OnesCount64(marks[w] & (^uint64(0) >> (63 - (c & 63))))
	for i := 0; i < w; i++ {
		n += bits.OnesCount64(marks[i])
	}
	return n - 1
}

func (b *Builder) deriv1(e Expr, c byte) Expr {
	n := b.nodes[e] // copy: the slice may grow below
	switch n.kind {
	case kNothing, kEpsilon:
		return Nothing
	case kBytes:
		if n.set.Has(c) {
			return Epsilon
		}
		return Nothing
	case kConcat:
		d := b.concat2(b.Deriv(n.a, c), n.b)
		if b.nodes[n.a].nullable {
			d = b.Or(d, b.Deriv(n.b, c))
		}
		return d
	case kOr, kAnd:
		var buf [8]Expr
		ds := buf[:0]
		for _, x := range n.list {
			ds = append(ds, b.Deriv(x, c))
		}
		if n.kind == kOr {
			return b.Or(ds...)
		}
		return b.And(ds...)
	case kNot:
		return b.Not(b.Deriv(n.a, c))
	case kStar:
		return b.concat2(b.Deriv(n.a, c), e)
	case kRepeat:
		max := int(n.max)
		if max > 0 {
			max--
		}
		return b.concat2(b.Deriv(n.a, c), b.Repeat(n.a, int(n.min)-1, max))
	case kDFA:
		return b.dfaDeriv(n.dfa, n.state, c)
	}
	panic("rx: unknown expression kind")
}

// boundaries returns the bytes at which the derivative of e may change: for
// all bytes between two consecutive marks (and from the last mark to 255),
// Deriv(e, ·) gives the same expression. Byte 0 is always marked.
func (b *Builder) boundaries(e Expr) *ByteSet {
	if m := b.nodes[e].bounds; m != nil {
		return m
	}
	if n := &b.nodes[e]; n.kind == kDFA && b.dfas[n.dfa].bounds.Has(0) {
		n.bounds = &b.dfas[n.dfa].bounds // shared: DFAs are not modified
		return n.bounds
	}
	if len(b.setSlab) == 0 {
		b.setSlab = make([]ByteSet, 256)
	}
	m := &b.setSlab[0]
	b.setSlab = b.setSlab[1:]
	m.Add(0)
	n := b.nodes[e]
	switch n.kind {
	case kBytes:
		n.set.markBoundaries(m)
	case kConcat:
		*m = m.Union(*b.boundaries(n.a))
		if b.nodes[n.a].nullable {
			*m = m.Union(*b.boundaries(n.b))
		}
	case kOr, kAnd:
		for _, x := range n.list {
			*m = m.Union(*b.boundaries(x))
		}
	case kNot, kStar, kRepeat:
		*m = m.Union(*b.boundaries(n.a))
	case kDFA:
		*m = b.dfas[n.dfa].bounds
	}
	b.nodes[e].bounds = m
	return m
}

// exprs returns a slice of n expressions carved from a shared slab, which
// saves an allocation per node for the derivative memo.
func (b *Builder) exprs(n int) []Expr {
	if n > 256 {
		return make([]Expr, n)
	}
	if len(b.exprSlab) < n {
		b.exprSlab = make([]Expr, 4096)
	}
	s := b.exprSlab[:n:n]
	b.exprSlab = b.exprSlab[n:]
	return s
}

// dfaDeriv is the derivative of state s of embedded DFA number dfa by c.
func (b *Builder) dfaDeriv(dfa, s int32, c byte) Expr {
	t := b.dfas[dfa].Step(s, c)
	if t < 0 {
		return Nothing
	}
	return b.intern(node{kind: kDFA, dfa: dfa, state: t})
}
