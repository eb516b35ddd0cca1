package rx

// Build makes a minimal DFA from an explicit automaton: n states numbered
// 0..n-1, a start state, acceptance per state, and a transition function
// (returning -1 for the dead state). Later stages use it to transform
// compiled DFAs, for example to change how bytes are spelled, or to take a
// right quotient. States that cannot reach acceptance are dropped.
func Build(n int, start int32, accept []bool, next func(s int32, c byte) int32) *DFA {
	// classes: bytes on which every state agrees
	var marks ByteSet
	marks.Add(0)
	row := make([]int32, 256)
	for s := 0; s < n; s++ {
		for c := 0; c < 256; c++ {
			row[c] = next(int32(s), byte(c))
			if c > 0 && row[c] != row[c-1] {
				marks.Add(byte(c))
			}
		}
	}
	return BuildWithBounds(n, start, accept, marks, next)
}

// BuildWithBounds is Build for a caller that knows where next can change:
// for every state, next must give the same result for all bytes between
// two consecutive marks of bounds (byte 0 counts as marked). It calls next
// once per state and class instead of once per state and byte.
func BuildWithBounds(n int, start int32, accept []bool, bounds ByteSet, next func(s int32, c byte) int32) *DFA {
	marks := bounds
	marks.Add(0)
	d := &DFA{bounds: marks, Start: start, Accept: append([]bool(nil), accept[:n]...)}
	cls := -1
	rep := make([]byte, 0, 256)
	for c := 0; c < 256; c++ {
		if marks.Has(byte(c)) {
			cls++
			rep = append(rep, byte(c))
		}
		d.Class[c] = uint8(cls)
	}
	d.NumClasses = cls + 1
	d.Next = make([]int32, n*d.NumClasses)
	for s := 0; s < n; s++ {
		for k, c := range rep {
			d.Next[s*d.NumClasses+k] = next(int32(s), c)
		}
	}
	return d.Minimize()
}

// BuildMinimal is BuildWithBounds for a caller that knows the automaton is
// already minimal: every state reachable from start can reach acceptance,
// and no two states reachable from start accept the same language. It
// skips minimization and only numbers the reachable states breadth-first
// from the start state, as Minimize does, so the result is the DFA that
// BuildWithBounds returns.
func BuildMinimal(n int, start int32, accept []bool, bounds ByteSet, next func(s int32, c byte) int32) *DFA {
	marks := bounds
	marks.Add(0)
	out := &DFA{bounds: marks}
	cls := -1
	rep := make([]byte, 0, 256)
	for c := 0; c < 256; c++ {
		if marks.Has(byte(c)) {
			cls++
			rep = append(rep, byte(c))
		}
		out.Class[c] = uint8(cls)
	}
	k := cls + 1
	out.NumClasses = k
	// breadth-first from start, computing each state's row once
	newID := make([]int32, n)
	for i := range newID {
		newID[i] = -1
	}
	order := make([]int32, 1, n)
	order[0] = start
	newID[start] = 0
	out.Next = make([]int32, 0, n*k)
	out.Accept = make([]bool, 0, n)
	for i := 0; i < len(order); i++ {
		s := order[i]
		out.Accept = append(out.Accept, accept[s])
		for _, c := range rep {
			t := next(s, c)
			if t >= 0 {
				if id := newID[t]; id >= 0 {
					t = id
				} else {
					newID[t] = int32(len(order))
					order = append(order, t)
					t = newID[t]
				}
			}
			out.Next = append(out.Next, t)
		}
	}
	return out
}

// Quotient returns the DFA of { w : w·c ∈ L(d) }, the right quotient of d's
// language by the single byte c, with all transitions on c removed. With
// marker bytes that never occur in UTF-8 (0xFE, 0xFF) this strips an
// end-of-text marker from a language built with explicit anchors.
func (d *DFA) Quotient(c byte) *DFA {
	n := d.NumStates()
	accept := make([]bool, n)
	for s := 0; s < n; s++ {
		t := d.Step(int32(s), c)
		accept[s] = t >= 0 && d.Accept[t]
	}
	return Build(n, d.Start, accept, func(s int32, b byte) int32 {
		if b == c {
			return -1
		}
		return d.Step(s, b)
	})
}
