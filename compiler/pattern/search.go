package pattern

import (
	"encoding/binary"
	"slices"

	"github.com/schemac-dev/schemac/compiler/rx"
)

// Search returns the language of the UTF-8 strings in which the regular
// expression pattern finds a match, with JSON Schema semantics: the pattern
// is not anchored, and "^" and "$" match only at the start and the end of the
// whole string. The result matches only valid UTF-8.
//
// A pattern that is not a valid ECMA-262 Unicode-mode regular expression, or
// whose language cannot be computed exactly, gives an *Error.
func Search(b *rx.Builder, pattern string) (rx.Expr, error) {
	return search(b, pattern, false, ecma)
}

// reading is how a pattern's \s is read.
type reading uint8

const (
	ecma   reading = iota // ECMA-262
	narrow                // SearchPortable: matches under ECMA-262 and RE2
	wide                  // SearchEither: matches under ECMA-262 or RE2
)

// SearchPortable is Search restricted to the strings on which ECMA-262 and
// Go's regexp (RE2), which many validators use in place of ECMA-262, agree
// that the pattern matches. The two read \s differently: ECMA-262 includes
// Unicode spaces (U+00A0, U+FEFF, U+2028, …), RE2 only [\t\n\f\r ]. Where
// \s adds strings to the language it takes RE2's smaller set, and where it
// removes them (\S, negated classes, negative lookarounds) ECMA-262's larger
// one, so every string in the result matches under both readings. Other
// escapes agree, or ECMA-262's reading is already the smaller one (".").
func SearchPortable(b *rx.Builder, pattern string) (rx.Expr, error) {
	return search(b, pattern, false, narrow)
}

// SearchEither is the counterpart of SearchPortable: the strings on which
// ECMA-262 or RE2 finds a match (a superset of both). A schema compiler
// uses it where it must over-approximate, e.g. under "not".
func SearchEither(b *rx.Builder, pattern string) (rx.Expr, error) {
	return search(b, pattern, false, wide)
}

// maxStates bounds the automata built for patterns with lookarounds or word
// boundaries.
const maxStates = 1 << 17

func search(b *rx.Builder, pattern string, forceMarkers bool, rd reading) (rx.Expr, error) {
	root, perr := parse(pattern, rd)
	if perr != nil {
		return rx.Nothing, perr
	}
	t := &translator{b: b, src: pattern, mk: rx.Epsilon, asserts: map[*node]bool{}}
	t.scan(root)
	var e rx.Expr
	var err error
	if !forceMarkers && t.onlyAnchors(root) {
		e = t.searchAnchors(root)
	} else {
		e, err = t.searchMarkers(root)
	}
	if err != nil {
		return rx.Nothing, err
	}
	if b.Err() != nil {
		return rx.Nothing, &Error{Pattern: pattern, Msg: "pattern " + b.Err().Error(), Unsupported: true}
	}
	return e, nil
}

type translator struct {
	b   *rx.Builder
	src string
	// mk is the language of the marker bytes that may sit between two
	// characters: Epsilon, or (markers)* when translating with markers.
	mk      rx.Expr
	marker  map[*node]byte // the marker byte of each assertion (marker mode)
	asserts map[*node]bool // whether a node contains an assertion
}

// scan records which nodes contain assertions.
func (t *translator) scan(n *node) bool {
	has := n.kind == kAssert
	for _, s := range n.subs {
		if t.scan(s) {
			has = true
		}
	}
	t.asserts[n] = has
	return has
}

// onlyAnchors reports whether the assertions in n are all ^ or $.
func (t *translator) onlyAnchors(n *node) bool {
	if !t.asserts[n] {
		return true
	}
	if n.kind == kAssert && n.assert != aStart && n.assert != aEnd {
		return false
	}
	for _, s := range n.subs {
		if !t.onlyAnchors(s) {
			return false
		}
	}
	return true
}

// atom matches one code point of set, after markers in marker mode.
func (t *translator) atom(set runeSet) rx.Expr {
	return t.b.Concat(t.mk, t.b.RuneSet(set))
}

// plain translates n; in marker mode each assertion becomes its marker byte.
func (t *translator) plain(n *node) rx.Expr {
	b := t.b
	switch n.kind {
	case kSet:
		return t.atom(n.set)
	case kEmpty:
		return rx.Epsilon
	case kConcat, kAlt:
		xs := make([]rx.Expr, len(n.subs))
		for i, s := range n.subs {
			xs[i] = t.plain(s)
		}
		if n.kind == kConcat {
			return b.Concat(xs...)
		}
		return b.Or(xs...)
	case kRepeat:
		return b.Repeat(t.plain(n.subs[0]), n.min, n.max)
	case kAssert:
		m, ok := t.marker[n]
		if !ok {
			panic("pattern: assertion without a marker")
		}
		return b.Concat(t.mk, b.Byte(m))
	}
	panic("pattern: unknown node")
}

// quad holds the four languages of a sub-pattern whose only assertions are
// ^ and $: q[a][z] is the set of strings x the sub-pattern matches when the
// match of x starts at the start of the input exactly when a == 1 and ends
// at the end of the input exactly when z == 1. Inside the match no other
// position is the start or the end of the input, so these four languages
// determine where ^ and $ hold.
type quad [2][2]rx.Expr

func uniform(e rx.Expr) quad { return quad{{e, e}, {e, e}} }

func (t *translator) nullable(e rx.Expr) bool { return t.b.Nullable(e) }

// nonEmpty removes the empty string from e. (Marker bytes only ever occur
// before a character, so a string without characters is the empty string.)
func (t *translator) nonEmpty(e rx.Expr) rx.Expr {
	if !t.b.Nullable(e) {
		return e
	}
	return t.b.Minus(e, rx.Epsilon)
}

func (t *translator) anchors(n *node) quad {
	if !t.asserts[n] {
		return uniform(t.plain(n))
	}
	b := t.b
	var q quad // all Nothing
	switch n.kind {
	case kAssert:
		switch n.assert {
		case aStart:
			q[1][0], q[1][1] = rx.Epsilon, rx.Epsilon
		case aEnd:
			q[0][1], q[1][1] = rx.Epsilon, rx.Epsilon
		default:
			panic("pattern: not an anchor")
		}
	case kConcat:
		q = t.anchors(n.subs[len(n.subs)-1])
		for i := len(n.subs) - 2; i >= 0; i-- {
			q = t.cat(t.anchors(n.subs[i]), q)
		}
	case kAlt:
		for _, s := range n.subs {
			qs := t.anchors(s)
			for a := 0; a < 2; a++ {
				for z := 0; z < 2; z++ {
					q[a][z] = b.Or(q[a][z], qs[a][z])
				}
			}
		}
	case kRepeat:
		q = t.repeat(t.anchors(n.subs[0]), n.min, n.max)
	default:
		panic("pattern: unexpected node")
	}
	return q
}

// cat is the quad of f followed by g: a match x = x1·x2 splits at a position
// that is the start of the input only if x1 is empty (and the match starts
// there) and the end only if x2 is empty (and the match ends there).
func (t *translator) cat(f, g quad) quad {
	b := t.b
	var q quad
	for a := 0; a < 2; a++ {
		for z := 0; z < 2; z++ {
			parts := []rx.Expr{b.Concat(t.nonEmpty(f[a][0]), t.nonEmpty(g[0][z]))}
			if t.nullable(f[a][0]) {
				parts = append(parts, t.nonEmpty(g[a][z]))
			}
			if t.nullable(g[0][z]) {
				parts = append(parts, t.nonEmpty(f[a][z]))
			}
			if t.nullable(f[a][z]) && t.nullable(g[a][z]) {
				parts = append(parts, rx.Epsilon)
			}
			q[a][z] = b.Or(parts...)
		}
	}
	return q
}

// repeat is the quad of f{min,max} (max < 0: unbounded). A match is k ≥ 0
// non-empty iterations with empty iterations between them; the empty ones
// only help to reach min (ECMA-262 stops an empty iteration beyond min, which
// does not change where a match can end), and an empty iteration is possible
// at a gap exactly when f matches the empty string under that gap's anchors.
func (t *translator) repeat(f quad, min, max int) quad {
	b := t.b
	var q quad
	for a := 0; a < 2; a++ {
		for z := 0; z < 2; z++ {
			var parts []rx.Expr
			if min == 0 || t.nullable(f[a][z]) {
				parts = append(parts, rx.Epsilon)
			}
			// an empty iteration before the first or after the last non-empty one
			edges := t.nullable(f[a][0]) || t.nullable(f[0][z])
			if max != 0 && (min <= 1 || edges) {
				parts = append(parts, t.nonEmpty(f[a][z]))
			}
			if max < 0 || max >= 2 {
				lo := 2
				if !edges && !t.nullable(f[0][0]) {
					lo = min
					if lo < 2 {
						lo = 2
					}
				}
				if max < 0 || lo <= max {
					hi := -1
					if max >= 0 {
						hi = max - 2
					}
					parts = append(parts, b.Concat(t.nonEmpty(f[a][0]),
						b.Repeat(t.nonEmpty(f[0][0]), lo-2, hi), t.nonEmpty(f[0][z])))
				}
			}
			q[a][z] = b.Or(parts...)
		}
	}
	return q
}

// searchAnchors handles patterns whose only assertions are ^ and $: a match
// x of the pattern sits in the input as u·x·v and ^, $ hold at its ends
// exactly when u, v are empty.
func (t *translator) searchAnchors(root *node) rx.Expr {
	b := t.b
	sigma := b.AnyRune()
	if !t.asserts[root] {
		return b.Concat(b.Star(sigma), t.plain(root), b.Star(sigma))
	}
	q := t.anchors(root)
	sp := b.Plus(sigma)
	return b.Or(q[1][1], b.Concat(q[1][0], sp), b.Concat(sp, q[0][1]), b.Concat(sp, q[0][0], sp))
}

// markerBytes never occur in UTF-8.
var markerBytes = []byte{0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF, 0xC0, 0xC1}

// level is one marker problem: the whole pattern, or the body of a negative
// lookaround that has assertions other than ^ and $.
type level struct {
	mkSet    rx.ByteSet // the markers of this level's assertions
	nodes    map[byte]*node
	shared   map[assertion]byte // one marker for all ^, one for all $, …
	reserved int                // the enclosing negative lookaround's marker, or -1
	next     int                // index into markerBytes
	// positive is set when a positive lookaround's body must be checked on
	// the same marked string: its markers may then sit anywhere.
	positive bool
}

// assign gives a marker byte to every assertion of the level: one byte each
// for ^, $, \b, \B, one per lookaround. Lookarounds' bodies belong to the
// level when positive; a negative one is a level of its own (or, when its
// body has no assertion but ^ and $, a quad).
func (t *translator) assign(lv *level, n *node) *Error {
	if n.kind == kAssert {
		m, ok := lv.shared[n.assert]
		if !ok || n.assert >= aAhead {
			for lv.next < len(markerBytes) && int(markerBytes[lv.next]) == lv.reserved {
				lv.next++
			}
			if lv.next >= len(markerBytes) {
				return &Error{Pattern: t.src, Offset: n.pos, Unsupported: true, Msg: "unsupported: too many assertions"}
			}
			m = markerBytes[lv.next]
			lv.next++
			if n.assert < aAhead {
				lv.shared[n.assert] = m
			}
		}
		t.marker[n] = m
		lv.mkSet.Add(m)
		lv.nodes[m] = n
		switch n.assert {
		case aAhead, aBehind:
			lv.positive = true
		case aNotAhead, aNotBehind:
			return nil
		}
	}
	for _, s := range n.subs {
		if err := t.assign(lv, s); err != nil {
			return err
		}
	}
	return nil
}

// searchMarkers handles word boundaries and lookarounds. Every assertion is
// translated to a marker byte that no UTF-8 string contains; M is the
// language of the inputs with markers inserted where the pattern's
// assertions are placed by some match. Each marker then constrains its
// position: a bad language holds the marked strings where some occurrence
// of the marker sits where its assertion fails, judged on the characters
// around it with the other markers ignored. The answer is M minus the bad
// strings, with the markers erased.
//
// A positive lookaround is checked against the same marked string, so the
// assertions in its body get markers of their own, which may then sit
// anywhere (even outside the main match). A negative lookaround whose body
// has only ^ and $ is checked with the quad construction; otherwise its
// body is solved as a level of its own, which gives the strings with one
// marker where the body matches, and the bad strings are those where some
// occurrence of the lookaround's marker is such a position.
func (t *translator) searchMarkers(root *node) (rx.Expr, error) {
	t.marker = map[*node]byte{}
	d, err := t.solve(root, -1, false)
	if err != nil {
		return rx.Nothing, err
	}
	if !slices.Contains(d.Accept, true) {
		return rx.Nothing, nil
	}
	return t.b.FromDFA(d, d.Start), nil
}

// solve builds the DFA of a level: for the whole pattern (reserved < 0) the
// strings in which root finds a match; for the body of a negative lookaround
// with marker reserved, the strings u·reserved·v such that root matches in
// u·v starting at |u| (or, when behind, ending at |u|).
func (t *translator) solve(root *node, reserved int, behind bool) (*rx.DFA, error) {
	defer func(mk rx.Expr) { t.mk = mk }(t.mk)
	b := t.b
	lv := &level{reserved: reserved, nodes: map[byte]*node{}, shared: map[assertion]byte{}}
	if err := t.assign(lv, root); err != nil {
		return nil, err
	}
	skipSet := lv.mkSet // the bytes that are not characters
	if reserved >= 0 {
		skipSet.Add(byte(reserved))
	}
	mks := b.Bytes(lv.mkSet)
	sigma := b.AnyRune()

	// The main match. Without positive lookarounds it places every marker
	// itself.
	around := b.Star(sigma)
	t.mk = rx.Epsilon
	if lv.positive {
		around = b.Star(b.Or(sigma, mks))
		t.mk = b.Star(mks)
	}
	M := t.plain(root)
	switch {
	case reserved < 0:
		M = b.Concat(around, M, around)
	case behind:
		M = b.Concat(around, M, t.mk, b.Byte(byte(reserved)), around)
	default:
		M = b.Concat(around, b.Byte(byte(reserved)), M, around)
	}

	// The constraints skip every non-character byte.
	skip := b.Star(b.Bytes(skipSet))
	t.mk = skip
	U := b.Universe()
	someChar := b.Concat(U, b.Bytes(skipSet.Complement()), U) // a string with a character
	word := b.RuneSet(wordSet)
	nonWord := b.RuneSet(wordSet.complement())
	prevWord := b.Concat(U, word, skip)
	prevNonWord := b.Or(skip, b.Concat(U, nonWord, skip))
	nextWord := b.Concat(skip, word, U)
	nextNonWord := b.Or(skip, b.Concat(skip, nonWord, U))
	// Each constraint becomes a DFA of its own: derivatives of the whole
	// would explore the product of all of them with costly expression
	// states, while the product of minimal DFAs is cheap. The constraints
	// of ^ and $ stay with M, where they prune early.
	var bad []*rx.DFA
	addBad := func(xs ...rx.Expr) error {
		d, err := b.Compile(b.Or(xs...), rx.Options{MaxStates: maxStates})
		if err != nil {
			return t.tooLarge(err)
		}
		bad = append(bad, d)
		return nil
	}
	for _, mb := range markerBytes {
		n, ok := lv.nodes[mb]
		if !ok {
			continue
		}
		m := b.Byte(mb)
		var err error
		switch n.assert {
		case aStart:
			M = b.And(M, b.Not(b.Concat(someChar, m, U)))
		case aEnd:
			M = b.And(M, b.Not(b.Concat(U, m, someChar)))
		case aWord:
			err = addBad(b.Concat(prevWord, m, nextWord), b.Concat(prevNonWord, m, nextNonWord))
		case aNotWord:
			err = addBad(b.Concat(prevWord, m, nextNonWord), b.Concat(prevNonWord, m, nextWord))
		case aAhead:
			err = addBad(b.Concat(U, m, b.Not(b.Concat(t.plain(n.subs[0]), U))))
		case aBehind:
			err = addBad(b.Concat(b.Not(b.Concat(U, t.plain(n.subs[0]), skip)), m, U))
		case aNotAhead, aNotBehind:
			if t.onlyAnchors(n.subs[0]) {
				q := t.anchors(n.subs[0])
				edge := [2]rx.Expr{someChar, skip} // [1]: no character before / after
				var xs []rx.Expr
				for a := 0; a < 2; a++ {
					for z := 0; z < 2; z++ {
						if n.assert == aNotAhead {
							xs = append(xs, b.Concat(edge[a], m, q[a][z], edge[z]))
						} else {
							xs = append(xs, b.Concat(edge[a], q[a][z], skip, m, edge[z]))
						}
					}
				}
				err = addBad(xs...)
				break
			}
			var g *rx.DFA
			if g, err = t.solve(n.subs[0], int(mb), n.assert == aNotBehind); err != nil {
				return nil, err
			}
			t.mk = skip
			o, oerr := occurs(g, mb, skipSet)
			if oerr != nil {
				return nil, t.tooLarge(oerr)
			}
			bad = append(bad, o)
		}
		if err != nil {
			return nil, err
		}
	}
	main, err := b.Compile(M, rx.Options{MaxStates: maxStates})
	if err != nil {
		return nil, t.tooLarge(err)
	}
	if b.Err() != nil {
		return nil, t.tooLarge(b.Err())
	}
	d, err := product(main, bad)
	if err != nil {
		return nil, t.tooLarge(err)
	}
	d, err = erase(d, lv.mkSet)
	if err != nil {
		return nil, t.tooLarge(err)
	}
	return d, nil
}

func (t *translator) tooLarge(err error) *Error {
	return &Error{Pattern: t.src, Msg: "pattern " + err.Error(), Unsupported: true}
}

// product returns the DFA of L(m) minus the union of the L(bad[i]).
func product(m *rx.DFA, bad []*rx.DFA) (*rx.DFA, error) {
	all := append([]*rx.DFA{m}, bad...)
	// bytes in the same class of every DFA behave the same
	var cls [256]int
	sig := map[string]int{}
	var rep []byte
	key := make([]byte, len(all))
	for c := 0; c < 256; c++ {
		for i, d := range all {
			key[i] = d.Class[c]
		}
		k, ok := sig[string(key)]
		if !ok {
			k = len(rep)
			sig[string(key)] = k
			rep = append(rep, byte(c))
		}
		cls[c] = k
	}
	// sink[i][s]: state s of bad[i] accepts every continuation
	sink := make([][]bool, len(bad))
	for i, d := range bad {
		sink[i] = make([]bool, d.NumStates())
		for s := range sink[i] {
			ok := d.Accept[s]
			for c := 0; ok && c < 256; c++ {
				ok = d.Step(int32(s), byte(c)) == int32(s)
			}
			sink[i][s] = ok
		}
	}
	ids := map[string]int32{}
	var states [][]int32
	var buf []byte
	intern := func(tu []int32) int32 {
		if tu[0] < 0 {
			return -1
		}
		for i, s := range tu[1:] {
			if s >= 0 && sink[i][s] {
				return -1
			}
		}
		buf = buf[:0]
		for _, s := range tu {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(s))
		}
		if id, ok := ids[string(buf)]; ok {
			return id
		}
		id := int32(len(states))
		ids[string(buf)] = id
		states = append(states, slices.Clone(tu))
		return id
	}
	start := make([]int32, len(all))
	for i, d := range all {
		start[i] = d.Start
	}
	if intern(start) < 0 {
		return rx.Build(1, 0, []bool{false}, func(int32, byte) int32 { return -1 }), nil
	}
	var trans [][]int32
	var acc []bool
	next := make([]int32, len(all))
	for i := 0; i < len(states); i++ {
		if len(states) > maxStates {
			return nil, &rx.LimitError{What: "DFA states", Limit: maxStates}
		}
		tu := states[i]
		a := m.Accept[tu[0]]
		for j, s := range tu[1:] {
			a = a && (s < 0 || !bad[j].Accept[s])
		}
		acc = append(acc, a)
		row := make([]int32, len(rep))
		for k, c := range rep {
			for j, d := range all {
				next[j] = d.Step(tu[j], c)
			}
			row[k] = intern(next)
		}
		trans = append(trans, row)
	}
	return rx.Build(len(states), 0, acc, func(s int32, c byte) int32 { return trans[s][cls[c]] }), nil
}

// erase returns the DFA of the strings of d with the bytes of set deleted:
// a subset construction over the closures of d's states under those bytes.
func erase(d *rx.DFA, set rx.ByteSet) (*rx.DFA, error) {
	var del []byte
	for c := 0; c < 256; c++ {
		if set.Has(byte(c)) {
			del = append(del, byte(c))
		}
	}
	n := d.NumStates()
	clo := make([][]int32, n) // closure of each state, computed lazily
	stamp := make([]uint32, n)
	gen := uint32(0)
	closure := func(q int32) []int32 {
		if clo[q] != nil {
			return clo[q]
		}
		gen++
		out := []int32{q}
		stamp[q] = gen
		for i := 0; i < len(out); i++ {
			for _, c := range del {
				if r := d.Step(out[i], c); r >= 0 && stamp[r] != gen {
					stamp[r] = gen
					out = append(out, r)
				}
			}
		}
		clo[q] = out
		return out
	}
	var cls [256]int
	for c := range cls {
		cls[c] = int(d.Class[c])
		if set.Has(byte(c)) {
			cls[c] = -1
		}
	}
	return determinize(n, closure(d.Start), cls, d.NumClasses, func(q int32, c byte, add func(int32)) {
		if r := d.Step(q, c); r >= 0 {
			for _, x := range closure(r) {
				add(x)
			}
		}
	}, func(q int32) bool { return d.Accept[q] })
}

// occurs returns the DFA of the strings over characters and the bytes of
// skip in which some occurrence of m is such that deleting the other bytes
// of skip (other occurrences of m included) leaves a string of g.
func occurs(g *rx.DFA, m byte, skip rx.ByteSet) (*rx.DFA, error) {
	// NFA state 2q+phase: g's state q, before (0) or after (1) the chosen m.
	var cls [256]int
	key := map[[2]int]int{}
	for c := 0; c < 256; c++ {
		kind := 0
		switch {
		case byte(c) == m:
			kind = 2
		case skip.Has(byte(c)):
			kind = 1
		}
		k := [2]int{int(g.Class[c]), kind}
		if _, ok := key[k]; !ok {
			key[k] = len(key)
		}
		cls[c] = key[k]
	}
	return determinize(2*g.NumStates(), []int32{2 * g.Start}, cls, len(key), func(q int32, c byte, add func(int32)) {
		s, phase := q/2, q%2
		if !skip.Has(c) {
			if r := g.Step(s, c); r >= 0 {
				add(2*r + phase)
			}
			return
		}
		add(q)
		if c == m && phase == 0 {
			if r := g.Step(s, m); r >= 0 {
				add(2*r + 1)
			}
		}
	}, func(q int32) bool { return q%2 == 1 && g.Accept[q/2] })
}

// determinize is the subset construction for an NFA with n states numbered
// from 0: start is the start set, step adds the successors of a state on a
// byte, and bytes with the same class (cls; -1 for none) behave the same.
func determinize(n int, start []int32, cls [256]int, nclasses int, step func(q int32, c byte, add func(int32)),
	accept func(q int32) bool) (*rx.DFA, error) {
	rep := make([]int, nclasses) // a byte of each class
	for k := range rep {
		rep[k] = -1
	}
	for c := 255; c >= 0; c-- {
		if cls[c] >= 0 {
			rep[cls[c]] = c
		}
	}
	ids := map[string]int32{}
	var states [][]int32
	var key []byte
	intern := func(qs []int32) int32 {
		if len(qs) == 0 {
			return -1
		}
		slices.Sort(qs)
		key = key[:0]
		for _, q := range qs {
			key = binary.LittleEndian.AppendUint32(key, uint32(q))
		}
		if id, ok := ids[string(key)]; ok {
			return id
		}
		id := int32(len(states))
		ids[string(key)] = id
		states = append(states, slices.Clone(qs))
		return id
	}
	intern(slices.Clone(start))
	stamp := make([]uint32, n)
	gen := uint32(0)
	var buf []int32
	add := func(q int32) {
		if stamp[q] != gen {
			stamp[q] = gen
			buf = append(buf, q)
		}
	}
	var trans [][]int32 // per state, per class
	var acc []bool
	for i := 0; i < len(states); i++ {
		if len(states) > maxStates {
			return nil, &rx.LimitError{What: "DFA states", Limit: maxStates}
		}
		qs := states[i]
		a := false
		for _, q := range qs {
			a = a || accept(q)
		}
		acc = append(acc, a)
		row := make([]int32, nclasses)
		for k, c := range rep {
			row[k] = -1
			if c < 0 {
				continue
			}
			gen++
			buf = buf[:0]
			for _, q := range qs {
				step(q, byte(c), add)
			}
			row[k] = intern(buf)
		}
		trans = append(trans, row)
	}
	return rx.Build(len(states), 0, acc, func(s int32, c byte) int32 {
		if cls[c] < 0 {
			return -1
		}
		return trans[s][cls[c]]
	}), nil
}
