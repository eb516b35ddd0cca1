package rx

import "slices"

// Minimize returns the minimal DFA equivalent to d, without the states
// that cannot reach acceptance or cannot be reached (a start state that
// cannot reach acceptance stays, alone and rejecting), by Hopcroft's
// partition refinement in the form Valmari and Lehtinen give for partial
// DFAs: the states start split by acceptance, with both blocks as
// splitters; a splitter block then splits every block that has some states
// with a successor in the splitter on some class and some without, and the
// smaller half of each split becomes a splitter (both if the block was one
// already). Missing transitions need no dead state, so the cost is
// O(m·log n) for m transitions, not O(k·n·log n).
func (d *DFA) Minimize() *DFA {
	n, k := d.NumStates(), d.NumClasses
	if n == 0 {
		return d
	}
	// incoming transitions per target, as CSR, each entry (class, source):
	// inClass/inSrc[inStart[t]:inStart[t+1]]
	inStart := make([]int32, n+1)
	for _, t := range d.Next {
		if t >= 0 {
			inStart[t+1]++
		}
	}
	for t := 1; t <= n; t++ {
		inStart[t] += inStart[t-1]
	}
	m := inStart[n]
	inClass := make([]int32, m)
	inSrc := make([]int32, m)
	fill := append([]int32(nil), inStart[:n]...)
	for s := 0; s < n; s++ {
		for c, t := range d.Next[s*k : (s+1)*k] {
			if t >= 0 {
				inClass[fill[t]] = int32(c)
				inSrc[fill[t]] = int32(s)
				fill[t]++
			}
		}
	}
	// keep: the states that can reach acceptance (backwards from the
	// accepting ones) and can be reached from the start through such states
	live := make([]bool, n)
	stack := fill[:0]
	for s := 0; s < n; s++ {
		if d.Accept[s] {
			live[s] = true
			stack = append(stack, int32(s))
		}
	}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range inSrc[inStart[t]:inStart[t+1]] {
			if !live[s] {
				live[s] = true
				stack = append(stack, s)
			}
		}
	}
	live[d.Start] = true // (a start state that cannot reach acceptance stays, with no way on)
	keep := make([]bool, n)
	keep[d.Start] = true
	stack = append(stack, d.Start)
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, t := range d.Next[int(s)*k : (int(s)+1)*k] {
			if t >= 0 && live[t] && !keep[t] {
				keep[t] = true
				stack = append(stack, t)
			}
		}
	}
	// only transitions between kept states take part
	p := int32(0)
	for t := 0; t < n; t++ {
		lo, hi := inStart[t], inStart[t+1]
		inStart[t] = p
		if !keep[t] {
			continue
		}
		for i := lo; i < hi; i++ {
			if keep[inSrc[i]] {
				inSrc[p], inClass[p] = inSrc[i], inClass[i]
				p++
			}
		}
	}
	inStart[n] = p
	bucket := make([][]int32, k) // sources of the splitter's in-edges, by class
	// refinable partition: elems grouped by block, loc[s] = index in elems
	elems := make([]int32, n)
	loc := make([]int32, n)
	blockOf := make([]int32, n)
	for s := range blockOf {
		blockOf[s] = -1
	}
	var first, end, marked []int32 // per block
	{
		pos := int32(0)
		for _, acc := range []bool{true, false} {
			b := int32(len(first))
			start := pos
			for s := int32(0); s < int32(n); s++ {
				if keep[s] && d.Accept[s] == acc {
					elems[pos], loc[s], blockOf[s] = s, pos, b
					pos++
				}
			}
			if pos > start {
				first = append(first, start)
				end = append(end, pos)
				marked = append(marked, 0)
			}
		}
	}
	inW := make([]bool, len(first), n)
	var work []int32
	addW := func(b int32) {
		for int(b) >= len(inW) {
			inW = append(inW, false)
		}
		if !inW[b] {
			inW[b] = true
			work = append(work, b)
		}
	}
	for b := range first {
		addW(int32(b))
	}
	var touched []int32
	for len(work) > 0 {
		a := work[len(work)-1]
		work = work[:len(work)-1]
		inW[a] = false
		// group the splitter's incoming transitions by class
		var classes []int32
		for _, t := range elems[first[a]:end[a]] {
			for i := inStart[t]; i < inStart[t+1]; i++ {
				c := inClass[i]
				if len(bucket[c]) == 0 {
					classes = append(classes, c)
				}
				bucket[c] = append(bucket[c], inSrc[i])
			}
		}
		for _, c := range classes {
			// mark the sources: move each to the front of its block
			for _, s := range bucket[c] {
				b := blockOf[s]
				mk := first[b] + marked[b]
				if loc[s] < mk {
					continue // already marked
				}
				if marked[b] == 0 {
					touched = append(touched, b)
				}
				o := elems[mk]
				elems[mk], elems[loc[s]] = s, o
				loc[o], loc[s] = loc[s], mk
				marked[b]++
			}
			bucket[c] = bucket[c][:0]
			for _, b := range touched {
				mk := marked[b]
				marked[b] = 0
				if mk == end[b]-first[b] {
					continue // every state moved: no split
				}
				// the marked prefix becomes a new block
				nb := int32(len(first))
				first = append(first, first[b])
				end = append(end, first[b]+mk)
				marked = append(marked, 0)
				first[b] += mk
				for i := first[nb]; i < end[nb]; i++ {
					blockOf[elems[i]] = nb
				}
				if int(b) < len(inW) && inW[b] {
					addW(nb)
				} else if end[nb]-first[nb] <= end[b]-first[b] {
					addW(nb)
				} else {
					addW(b)
				}
			}
			touched = touched[:0]
		}
	}
	return d.renumber(blockOf, len(first))
}

// refiner numbers states by signature: states with equal signatures get
// the same number. Signatures are hashed, and equal hashes are confirmed by
// comparing with the first state of that number, so no signature is kept
// as a string.
type refiner struct {
	n     int
	sigs  [][]int32 // signature of each state, reused across rounds
	first []int32   // per number, the first state that got it
	index map[uint64][]int32
}

func newRefiner(n, width int) *refiner {
	r := &refiner{n: n, sigs: make([][]int32, n), index: make(map[uint64][]int32, n)}
	for s := range r.sigs {
		r.sigs[s] = make([]int32, 0, width+1)
	}
	return r
}

// round computes every state's signature with sig and returns the new
// numbering and the number of distinct signatures.
func (r *refiner) round(sig func(s int, buf []int32) []int32) ([]int32, int) {
	clear(r.index)
	r.first = r.first[:0]
	next := make([]int32, r.n)
	empty := int32(-1) // the number of the empty signature, once seen
	for s := 0; s < r.n; s++ {
		r.sigs[s] = sig(s, r.sigs[s][:0])
		if len(r.sigs[s]) == 0 { // common in TokenClasses' deep levels: skip the hash
			if empty < 0 {
				empty = int32(len(r.first))
				r.first = append(r.first, int32(s))
			}
			next[s] = empty
			continue
		}
		h := hashSig(r.sigs[s])
		id := int32(-1)
		for _, cand := range r.index[h] {
			if slices.Equal(r.sigs[r.first[cand]], r.sigs[s]) {
				id = cand
				break
			}
		}
		if id < 0 {
			id = int32(len(r.first))
			r.first = append(r.first, int32(s))
			r.index[h] = append(r.index[h], id)
		}
		next[s] = id
	}
	return next, len(r.first)
}

func hashSig(sig []int32) uint64 {
	h := uint64(len(sig)) * 0x9E3779B97F4A7C15
	for _, x := range sig {
		h = (h ^ uint64(uint32(x))) * 0xFF51AFD7ED558CCD
	}
	return h ^ h>>32
}

// TokenClasses groups states that agree on the liveness of every byte
// string that could be a token, as described by per-position byte sets: a
// string w can be a token if every w[j] is in at[j], and bytes outside
// cont[j] end it (no token continues past them at position j). States in
// one group allow exactly the same tokens, so the token stage computes one
// mask per group. It returns the group of every state and the number of
// groups. It refines one level per token position, from the last to the
// first (len(at) levels), like Moore's algorithm but looking only at
// strings that fit the per-position sets: far fewer distinctions than all
// strings of that length.
func (d *DFA) TokenClasses(at, cont []ByteSet) ([]int32, int) {
	n := d.NumStates()
	block := make([]int32, n)
	nblocks := 1
	inAt := make([]bool, d.NumClasses)
	inCont := make([]bool, d.NumClasses)
	var cls []int // the classes with a byte in at[j]
	r := newRefiner(n, d.NumClasses)
	for j := len(at) - 1; j >= 0; j-- {
		clear(inAt)
		clear(inCont)
		for c := 0; c < 256; c++ {
			if at[j].Has(byte(c)) {
				inAt[d.Class[c]] = true
			}
			if cont[j].Has(byte(c)) {
				inCont[d.Class[c]] = true
			}
		}
		cls = cls[:0]
		for c := range inAt {
			if inAt[c] {
				cls = append(cls, c)
			}
		}
		block, nblocks = r.round(func(s int, sig []int32) []int32 {
			// sparse: (class, block) for the live classes only
			row := d.Next[s*d.NumClasses : (s+1)*d.NumClasses]
			for _, c := range cls {
				if t := row[c]; t >= 0 {
					b := int32(0)
					if inCont[c] {
						b = block[t]
					}
					sig = append(sig, int32(c), b)
				}
			}
			return sig
		})
	}
	return block, nblocks
}
