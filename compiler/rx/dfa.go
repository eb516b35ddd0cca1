package rx

import (
	"fmt"
	mbits "math/bits"
	"strings"
)

// DFA is a deterministic finite automaton over bytes. States are numbered
// from 0; a transition to -1 goes to the implicit dead state, from which no
// string is accepted. Every state of a DFA built by Compile can reach an
// accepting state.
type DFA struct {
	Start  int32
	Accept []bool
	// Class maps each byte to its class; all bytes of a class behave the same
	// in every state. NumClasses is the number of classes.
	Class      [256]uint8
	NumClasses int
	// Next holds the transitions: Next[s*NumClasses+Class[c]].
	Next []int32
	// bounds marks the first byte of every class (see Builder.boundaries).
	bounds ByteSet
}

// NumStates is the number of (live) states.
func (d *DFA) NumStates() int { return len(d.Accept) }

// Step returns the state reached from s on byte c, or -1.
func (d *DFA) Step(s int32, c byte) int32 {
	if s < 0 {
		return -1
	}
	return d.Next[int(s)*d.NumClasses+int(d.Class[c])]
}

// Run returns the state reached from s on the bytes of w, or -1.
func (d *DFA) Run(s int32, w []byte) int32 {
	for _, c := range w {
		s = d.Step(s, c)
		if s < 0 {
			return -1
		}
	}
	return s
}

// Matches reports whether d accepts w from its start state.
func (d *DFA) Matches(w []byte) bool {
	s := d.Run(d.Start, w)
	return s >= 0 && d.Accept[s]
}

// Options bound DFA construction.
type Options struct {
	// MaxStates caps the number of states explored before minimization;
	// past it Compile fails with a *LimitError. Zero means DefaultMaxStates.
	MaxStates int
}

// DefaultMaxStates is the default cap on DFA states. A JSON Schema of a few
// hundred members with bounded strings stays far below it; the cap exists so
// that a pathological schema fails fast with "too large" instead of
// exhausting memory (each state costs up to 1 KiB of transition table).
const DefaultMaxStates = 1 << 20

// Compile builds the minimal DFA of e. States that cannot reach acceptance
// are removed; if e matches nothing the DFA has one rejecting start state and
// no transitions.
func (b *Builder) Compile(e Expr, opt Options) (*DFA, error) {
	max := opt.MaxStates
	if max <= 0 {
		max = DefaultMaxStates
	}
	// ids[x] is the state of expression x, -1 if none yet; the slice is
	// kept in the Builder and reset after use, since it is as long as the
	// Builder has expressions
	ids := b.ids
	var states []Expr
	defer func() {
		for _, x := range states {
			ids[x] = -1
		}
	}()
	// transitions per state, flat: state i's are (edgeLo, edgeTo)[edge0[i]:edge0[i+1]]
	var edgeLo []byte
	var edgeTo []int32
	edge0 := []int32{0}
	var global ByteSet
	inner := map[[2]int32]*innerStates{} // by (embedded DFA, tail)
	add := func(x Expr) int32 {
		if int(x) >= len(ids) {
			n := len(ids)
			ids = append(ids, make([]int32, len(b.nodes)+len(b.nodes)/2-n)...)
			for i := n; i < len(ids); i++ {
				ids[i] = -1
			}
			b.ids = ids
		}
		if id := ids[x]; id >= 0 {
			return id
		}
		id := int32(len(states))
		ids[x] = id
		states = append(states, x)
		return id
	}
	add(e)
	for i := 0; i < len(states); i++ {
		if len(states) > max {
			return nil, &LimitError{What: "DFA states", Limit: max}
		}
		if b.err != nil {
			return nil, b.err
		}
		x := states[i]
		mp := b.boundaries(x)
		marks := *mp
		global = global.Union(marks)
		// Edges are kept run-length: an edge covers the classes up to the
		// next edge's, so one whose target is the previous edge's adds
		// nothing.
		last := int32(-2)
		edge := func(c byte, to int32) {
			if to != last {
				edgeLo = append(edgeLo, c)
				edgeTo = append(edgeTo, to)
				last = to
			}
		}
		// A state inside an embedded DFA, x = <dfa:s>·tail, whose classes
		// are the DFA's (the tail's boundaries are among them, or s is not
		// accepting), has the derivative <dfa:Step(s,c)>·tail by c, or its
		// union with the tail's derivative when s accepts: its row is
		// mostly the DFA's row. The derivatives are not memoized (each state
		// is differentiated once), and targets that repeat in the row are
		// interned once.
		if n := &b.nodes[x]; n.kind == kConcat && b.nodes[n.a].kind == kDFA {
			an := &b.nodes[n.a]
			dfa := b.dfas[an.dfa]
			if dfa.bounds == marks {
				// (copies: interning below may move b.nodes)
				di, st, tail, nullable := an.dfa, an.state, n.b, an.nullable
				row := dfa.Next[int(st)*dfa.NumClasses : (int(st)+1)*dfa.NumClasses]
				// the states <dfa:t>·tail by t, once the pair has been seen
				// often enough to pay for the table (at most 2 entries per
				// visit)
				pc := inner[[2]int32{di, int32(tail)}]
				if pc == nil {
					pc = &innerStates{}
					inner[[2]int32{di, int32(tail)}] = pc
				}
				if pc.visits++; pc.ids == nil && 2*pc.visits >= dfa.NumStates() {
					pc.ids = make([]int32, dfa.NumStates())
					for j := range pc.ids {
						pc.ids[j] = -1
					}
				}
				ids := pc.ids
				var seen [8][2]int32 // (DFA state, state id) of recent targets
				nseen, pos := 0, 0
				k := 0
				for w, bits := range marks {
					for bits != 0 {
						c := byte(w*64 + mbits.TrailingZeros64(bits))
						bits &= bits - 1
						t := row[k]
						k++
						if nullable {
							if dt := b.Deriv(tail, c); dt != Nothing {
								// (as deriv1; with dt = Nothing the union is the first part)
								edge(c, add(b.Or(b.concat2(b.dfaDeriv(di, st, c), tail), dt)))
								continue
							}
						}
						to := int32(-1)
						if t >= 0 && ids != nil {
							if to = ids[t]; to < 0 {
								to = add(b.concat2(b.intern(node{kind: kDFA, dfa: di, state: t}), tail))
								ids[t] = to
							}
						} else if t >= 0 {
							to = -2
							for _, p := range seen[:nseen] {
								if p[0] == t {
									to = p[1]
									break
								}
							}
							if to == -2 {
								to = add(b.concat2(b.intern(node{kind: kDFA, dfa: di, state: t}), tail))
								seen[pos] = [2]int32{t, to}
								pos = (pos + 1) % len(seen)
								nseen = min(nseen+1, len(seen))
							}
						}
						edge(c, to)
					}
				}
				edge0 = append(edge0, int32(len(edgeTo)))
				continue
			}
		}
		k := 0 // class of c among x's marks
		for w, bits := range marks {
			for bits != 0 {
				c := byte(w*64 + mbits.TrailingZeros64(bits))
				bits &= bits - 1
				d := b.derivClass(x, c, mp, k)
				k++
				to := int32(-1)
				if d != Nothing {
					to = add(d)
				}
				edge(c, to)
			}
		}
		edge0 = append(edge0, int32(len(edgeTo)))
	}
	// Global classes: runs between consecutive marks.
	d := &DFA{bounds: global}
	cls := -1
	for c := 0; c < 256; c++ {
		if global.Has(byte(c)) {
			cls++
		}
		d.Class[c] = uint8(cls)
	}
	d.NumClasses = cls + 1
	if d.NumClasses > 256 {
		panic("rx: more than 256 classes")
	}
	n := len(states)
	next := make([]int32, n*d.NumClasses)
	accept := make([]bool, n)
	for s := range states {
		accept[s] = b.nodes[states[s]].nullable
		lo, to := edgeLo[edge0[s]:edge0[s+1]], edgeTo[edge0[s]:edge0[s+1]]
		row := next[s*d.NumClasses : (s+1)*d.NumClasses]
		// each edge covers the classes from its first byte's to the next edge's
		for k := range lo {
			end := d.NumClasses
			if k+1 < len(lo) {
				end = int(d.Class[lo[k+1]])
			}
			for c := int(d.Class[lo[k]]); c < end; c++ {
				row[c] = to[k]
			}
		}
	}
	d.Accept, d.Next, d.Start = accept, next, 0
	return d.Minimize(), nil
}

// innerStates maps the states of an embedded DFA to the Compile states
// <dfa:t>·tail for one tail (-1: not known yet); see Compile.
type innerStates struct {
	visits int
	ids    []int32
}

// renumber builds a DFA whose states are the images of d's states under img
// (img[s] < 0 drops s; states with the same image must behave the same;
// images are below nimg), numbered in breadth-first order from the start
// state so that the result does not depend on construction order.
func (d *DFA) renumber(img []int32, nimg int) *DFA {
	out := &DFA{Class: d.Class, NumClasses: d.NumClasses, bounds: d.bounds}
	k := d.NumClasses
	newID := make([]int32, nimg)
	for i := range newID {
		newID[i] = -1
	}
	order := make([]int32, 0, nimg) // representative old state per new state
	out.Accept = make([]bool, 0, nimg)
	out.Next = make([]int32, 0, nimg*k)
	out.Start = -1
	if im := img[d.Start]; im >= 0 {
		newID[im] = 0
		order = append(order, d.Start)
		out.Start = 0
	}
	for i := 0; i < len(order); i++ {
		s := order[i]
		out.Accept = append(out.Accept, d.Accept[s])
		for _, t := range d.Next[int(s)*k : (int(s)+1)*k] {
			id := int32(-1)
			if t >= 0 {
				if im := img[t]; im >= 0 {
					if id = newID[im]; id < 0 {
						id = int32(len(order))
						newID[im] = id
						order = append(order, t)
					}
				}
			}
			out.Next = append(out.Next, id)
		}
	}
	return out
}

// String dumps d as text, one line per state: its number, "accept" when
// accepting, then each transition as a byte class and target. Tests compare
// against such dumps.
func (d *DFA) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "start %d\n", d.Start)
	for s := 0; s < d.NumStates(); s++ {
		fmt.Fprintf(&sb, "%d", s)
		if d.Accept[s] {
			sb.WriteString(" accept")
		}
		sb.WriteString(":")
		// group bytes by target, in byte order of first occurrence
		var targets []int32
		sets := map[int32]*ByteSet{}
		for c := 0; c < 256; c++ {
			t := d.Step(int32(s), byte(c))
			if t < 0 {
				continue
			}
			if sets[t] == nil {
				sets[t] = new(ByteSet)
				targets = append(targets, t)
			}
			sets[t].Add(byte(c))
		}
		for _, t := range targets {
			fmt.Fprintf(&sb, " %s→%d", sets[t].String(), t)
		}
		sb.WriteString("\n")
	}
	return sb.String()
}
