package rx

import (
	"fmt"
	"slices"
	"strings"
)

// Expr is a handle to a hash-consed regular expression inside a Builder.
// Two handles from the same Builder are equal exactly when the expressions
// are structurally equal after normalization.
type Expr int32

// The two expressions every Builder has at fixed handles.
const (
	Nothing Expr = 0 // the empty language: matches no string
	Epsilon Expr = 1 // the language holding only the empty string
)

type kind uint8

const (
	kNothing kind = iota
	kEpsilon
	kBytes  // one byte from set
	kConcat // a then b (right-nested: a is never a concat)
	kOr     // union of list (flattened, sorted, unique, ≥ 2)
	kAnd    // intersection of list (flattened, sorted, unique, ≥ 2)
	kNot    // complement of a with respect to all byte strings
	kStar   // zero or more a
	kRepeat // between min and max copies of a; max < 0 means unbounded
	kDFA    // the language of state `state` of an embedded DFA
)

type node struct {
	kind     kind
	nullable bool
	set      ByteSet
	a, b     Expr
	list     []Expr
	min, max int32
	dfa      int32 // index into Builder.dfas
	state    int32
	bounds   *ByteSet // lazily computed derivative-class boundaries
	derivs   []Expr   // derivative per class of bounds, -1 if not computed yet
}

// Builder owns expressions and the memo tables used to differentiate them.
// A Builder is not safe for concurrent use.
type Builder struct {
	nodes []node
	// hash-consing: hashes[e] is hashNode of nodes[e]; table is an
	// open-addressing set of expressions (0, Nothing, marks a free slot:
	// Nothing and Epsilon are never interned), a power of two long and at
	// most half full
	hashes []uint64
	table  []Expr
	dfas   []*DFA
	// Limit, when positive, caps the number of distinct expressions; past it
	// constructors return Nothing and Err reports ErrTooLarge.
	Limit    int
	err      error
	universe Expr // Not(Nothing), once made
	dfaIndex map[*DFA]int32
	ids      []int32 // scratch for Compile: state per expression, -1 if none
	// slabs that small per-node allocations are carved from
	setSlab  []ByteSet
	exprSlab []Expr
	// scratch lists of Or and And (neither calls itself); intern copies
	// a list it keeps
	orBuf, andBuf []Expr
}

// NewBuilder returns a Builder holding only Nothing and Epsilon.
func NewBuilder() *Builder {
	b := &Builder{dfaIndex: map[*DFA]int32{}, table: make([]Expr, 1024)}
	b.nodes = append(b.nodes, node{kind: kNothing}, node{kind: kEpsilon, nullable: true})
	b.hashes = append(b.hashes, 0, 0)
	return b
}

// Err returns the first limit error hit by this Builder, if any.
func (b *Builder) Err() error { return b.err }

// Len is the number of distinct expressions created so far.
func (b *Builder) Len() int { return len(b.nodes) }

// hashNode hashes the fields of n that identify it (see sameNode).
func hashNode(n *node) uint64 {
	const m = 0xFF51AFD7ED558CCD
	h := uint64(n.kind)*0x9E3779B97F4A7C15 + 1
	switch n.kind {
	case kBytes:
		for _, w := range n.set {
			h = (h ^ w) * m
			h ^= h >> 29
		}
	case kOr, kAnd:
		for _, e := range n.list {
			h = (h ^ uint64(uint32(e))) * m
		}
	default:
		h = (h ^ uint64(uint32(n.a))) * m
		h = (h ^ uint64(uint32(n.b))) * m
		h = (h ^ (uint64(uint32(n.min)) | uint64(uint32(n.max))<<32)) * m
		h = (h ^ (uint64(uint32(n.dfa)) | uint64(uint32(n.state))<<32)) * m
	}
	return h ^ h>>32
}

// sameNode reports whether x and y are the same expression: the fields
// that hashNode reads are equal.
func sameNode(x, y *node) bool {
	if x.kind != y.kind {
		return false
	}
	switch x.kind {
	case kBytes:
		return x.set == y.set
	case kOr, kAnd:
		return slices.Equal(x.list, y.list)
	}
	return x.a == y.a && x.b == y.b && x.min == y.min && x.max == y.max && x.dfa == y.dfa && x.state == y.state
}

// lookup returns the slot of the table where n is, or the empty slot
// where it would go.
func (b *Builder) lookup(n *node, h uint64) int {
	mask := len(b.table) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		e := b.table[i]
		if e == 0 || (b.hashes[e] == h && sameNode(&b.nodes[e], n)) {
			return i
		}
	}
}

// grow doubles the hash table (rehashing from the stored hashes).
func (b *Builder) grow() {
	old := b.table
	b.table = make([]Expr, 2*len(old))
	mask := len(b.table) - 1
	for _, e := range old {
		if e == 0 {
			continue
		}
		i := int(b.hashes[e]) & mask
		for b.table[i] != 0 {
			i = (i + 1) & mask
		}
		b.table[i] = e
	}
}

func (b *Builder) intern(n node) Expr {
	h := hashNode(&n)
	slot := b.lookup(&n, h)
	if e := b.table[slot]; e != 0 {
		return e
	}
	if b.Limit > 0 && len(b.nodes) >= b.Limit {
		if b.err == nil {
			b.err = &LimitError{What: "expressions", Limit: b.Limit}
		}
		return Nothing
	}
	switch n.kind {
	case kConcat:
		n.nullable = b.nodes[n.a].nullable && b.nodes[n.b].nullable
	case kOr:
		for _, e := range n.list {
			n.nullable = n.nullable || b.nodes[e].nullable
		}
	case kAnd:
		n.nullable = true
		for _, e := range n.list {
			n.nullable = n.nullable && b.nodes[e].nullable
		}
	case kNot:
		n.nullable = !b.nodes[n.a].nullable
	case kStar:
		n.nullable = true
	case kRepeat:
		n.nullable = n.min == 0 || b.nodes[n.a].nullable
	case kDFA:
		n.nullable = b.dfas[n.dfa].Accept[n.state]
	}
	if n.kind == kOr || n.kind == kAnd {
		n.list = slices.Clone(n.list)
	}
	e := Expr(len(b.nodes))
	b.nodes = append(b.nodes, n)
	b.hashes = append(b.hashes, h)
	b.table[slot] = e
	if 2*len(b.nodes) > len(b.table) {
		b.grow()
	}
	return e
}

// LimitError reports that a named limit was exceeded.
type LimitError struct {
	What  string
	Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("too large: more than %d %s", e.Limit, e.What)
}

// Nullable reports whether e matches the empty string.
func (b *Builder) Nullable(e Expr) bool { return b.nodes[e].nullable }

// Bytes matches one byte from s.
func (b *Builder) Bytes(s ByteSet) Expr {
	if s.Empty() {
		return Nothing
	}
	return b.intern(node{kind: kBytes, set: s})
}

// Byte matches the single byte c.
func (b *Builder) Byte(c byte) Expr {
	var s ByteSet
	s.Add(c)
	return b.Bytes(s)
}

// Range matches one byte in [lo, hi].
func (b *Builder) Range(lo, hi byte) Expr {
	var s ByteSet
	s.AddRange(lo, hi)
	return b.Bytes(s)
}

// AnyByte matches any single byte.
func (b *Builder) AnyByte() Expr { return b.Bytes(ByteSet{}.Complement()) }

// Universe matches every byte string.
func (b *Builder) Universe() Expr {
	if b.universe == 0 {
		b.universe = b.Not(Nothing)
	}
	return b.universe
}

// Literal matches exactly the bytes of s.
func (b *Builder) Literal(s string) Expr {
	e := Epsilon
	for i := len(s) - 1; i >= 0; i-- {
		e = b.Concat(b.Byte(s[i]), e)
	}
	return e
}

// Concat matches the concatenation of xs, in order.
func (b *Builder) Concat(xs ...Expr) Expr {
	e := Epsilon
	for i := len(xs) - 1; i >= 0; i-- {
		e = b.concat2(xs[i], e)
	}
	return e
}

func (b *Builder) concat2(x, y Expr) Expr {
	switch {
	case x == Nothing || y == Nothing:
		return Nothing
	case x == Epsilon:
		return y
	case y == Epsilon:
		return x
	}
	if n := b.nodes[x]; n.kind == kConcat {
		return b.concat2(n.a, b.concat2(n.b, y))
	}
	return b.intern(node{kind: kConcat, a: x, b: y})
}

// Or matches the union of xs.
func (b *Builder) Or(xs ...Expr) Expr {
	list := b.orBuf[:0]
	defer func() { b.orBuf = list[:0] }()
	var set ByteSet
	haveSet := false
	universe := b.Universe()
	var add func(Expr) bool
	add = func(x Expr) bool {
		n := &b.nodes[x]
		switch {
		case x == universe:
			return true
		case n.kind == kNothing:
		case n.kind == kOr:
			for _, y := range n.list {
				if add(y) {
					return true
				}
			}
		case n.kind == kBytes:
			set = set.Union(n.set)
			haveSet = true
		default:
			list = append(list, x)
		}
		return false
	}
	for _, x := range xs {
		if add(x) {
			return universe
		}
	}
	if haveSet {
		list = append(list, b.Bytes(set))
	}
	return b.makeList(kOr, list, Nothing)
}

// And matches the intersection of xs.
func (b *Builder) And(xs ...Expr) Expr {
	list := b.andBuf[:0]
	defer func() { b.andBuf = list[:0] }()
	universe := b.Universe()
	var set ByteSet
	haveSet := false
	var add func(Expr) bool
	add = func(x Expr) bool {
		n := &b.nodes[x]
		switch {
		case x == universe:
		case n.kind == kNothing:
			return true
		case n.kind == kAnd:
			for _, y := range n.list {
				if add(y) {
					return true
				}
			}
		case n.kind == kBytes:
			if haveSet {
				set = set.Intersect(n.set)
			} else {
				set = n.set
			}
			haveSet = true
		default:
			list = append(list, x)
		}
		return false
	}
	for _, x := range xs {
		if add(x) {
			return Nothing
		}
	}
	if haveSet {
		if set.Empty() {
			return Nothing
		}
		list = append(list, b.Bytes(set))
	}
	return b.makeList(kAnd, list, universe)
}

func (b *Builder) makeList(k kind, list []Expr, empty Expr) Expr {
	slices.Sort(list)
	list = slices.Compact(list)
	switch len(list) {
	case 0:
		return empty
	case 1:
		return list[0]
	}
	return b.intern(node{kind: k, list: list})
}

// Not matches every byte string that x does not match.
func (b *Builder) Not(x Expr) Expr {
	if n := b.nodes[x]; n.kind == kNot {
		return n.a
	}
	return b.intern(node{kind: kNot, a: x})
}

// Minus matches the strings x matches and y does not.
func (b *Builder) Minus(x, y Expr) Expr { return b.And(x, b.Not(y)) }

// Star matches zero or more repetitions of x.
func (b *Builder) Star(x Expr) Expr {
	switch n := b.nodes[x]; {
	case x == Nothing || x == Epsilon:
		return Epsilon
	case n.kind == kStar:
		return x
	}
	return b.intern(node{kind: kStar, a: x})
}

// Plus matches one or more repetitions of x.
func (b *Builder) Plus(x Expr) Expr { return b.Concat(x, b.Star(x)) }

// Opt matches x or the empty string.
func (b *Builder) Opt(x Expr) Expr { return b.Or(x, Epsilon) }

// Repeat matches between min and max repetitions of x; max < 0 means no
// upper bound. An empty range (max < min) matches nothing.
func (b *Builder) Repeat(x Expr, min, max int) Expr {
	if min < 0 {
		min = 0
	}
	switch {
	case max >= 0 && max < min:
		return Nothing
	case max == 0:
		return Epsilon
	case x == Epsilon:
		return Epsilon
	case x == Nothing:
		if min == 0 {
			return Epsilon
		}
		return Nothing
	case min == 0 && max < 0:
		return b.Star(x)
	case min == 1 && max == 1:
		return x
	}
	if max < 0 {
		max = -1
	}
	return b.intern(node{kind: kRepeat, a: x, min: int32(min), max: int32(max)})
}

// FromDFA matches the language of state s of d: the strings that lead from s
// to an accepting state. A negative s (the dead state) gives Nothing.
func (b *Builder) FromDFA(d *DFA, s int32) Expr {
	if s < 0 {
		return Nothing
	}
	idx, ok := b.dfaIndex[d]
	if !ok {
		idx = int32(len(b.dfas))
		b.dfas = append(b.dfas, d)
		b.dfaIndex[d] = idx
	}
	return b.intern(node{kind: kDFA, dfa: idx, state: s})
}

// AsDFA reports whether e is exactly a state of an embedded DFA (made by
// FromDFA), and returns it; callers can then use the DFA without compiling
// e again.
func (b *Builder) AsDFA(e Expr) (*DFA, int32, bool) {
	n := b.nodes[e]
	if n.kind != kDFA {
		return nil, 0, false
	}
	return b.dfas[n.dfa], n.state, true
}

// String renders e in a regular-expression-like syntax: juxtaposition for
// concatenation, | for union, & for intersection, ~( ) for complement,
// {m,n} for repetition and <dfaN:s> for an embedded DFA state. It is meant
// for tests and debugging dumps.
func (b *Builder) String(e Expr) string {
	var sb strings.Builder
	b.write(&sb, e, 0)
	return sb.String()
}

// precedence: 0 union, 1 intersection, 2 concatenation, 3 postfix/atom
func (b *Builder) write(sb *strings.Builder, e Expr, prec int) {
	n := &b.nodes[e]
	paren := func(p int, f func()) {
		if prec > p {
			sb.WriteByte('(')
		}
		f()
		if prec > p {
			sb.WriteByte(')')
		}
	}
	switch n.kind {
	case kNothing:
		sb.WriteString("∅")
	case kEpsilon:
		sb.WriteString("ε")
	case kBytes:
		sb.WriteString(n.set.String())
	case kConcat:
		paren(2, func() {
			b.write(sb, n.a, 3)
			b.write(sb, n.b, 2)
		})
	case kOr, kAnd:
		op, p := "|", 0
		if n.kind == kAnd {
			op, p = "&", 1
		}
		paren(p, func() {
			for i, x := range n.list {
				if i > 0 {
					sb.WriteString(op)
				}
				b.write(sb, x, p+1)
			}
		})
	case kNot:
		sb.WriteString("~(")
		b.write(sb, n.a, 0)
		sb.WriteByte(')')
	case kStar:
		b.write(sb, n.a, 3)
		sb.WriteByte('*')
	case kRepeat:
		b.write(sb, n.a, 3)
		if n.max < 0 {
			fmt.Fprintf(sb, "{%d,}", n.min)
		} else {
			fmt.Fprintf(sb, "{%d,%d}", n.min, n.max)
		}
	case kDFA:
		fmt.Fprintf(sb, "<dfa%d:%d>", n.dfa, n.state)
	}
}
