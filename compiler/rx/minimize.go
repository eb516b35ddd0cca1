package rx

import (
	"math/bits"
	"runtime"
	"slices"
	"sync"
)

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
	if !forceHopcroft {
		if keep, order, ok := d.acyclicKeep(); ok {
			return d.minimizeAcyclic(keep, order)
		}
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
	inClass := make([]uint8, m) // NumClasses ≤ 256
	inSrc := make([]int32, m)
	fill := append([]int32(nil), inStart[:n]...)
	for s := 0; s < n; s++ {
		for c, t := range d.Next[s*k : (s+1)*k] {
			if t >= 0 {
				inClass[fill[t]] = uint8(c)
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
	var classes []int32 // the classes with a bucket, per splitter
	for len(work) > 0 {
		a := work[len(work)-1]
		work = work[:len(work)-1]
		inW[a] = false
		// group the splitter's incoming transitions by class
		classes = classes[:0]
		for _, t := range elems[first[a]:end[a]] {
			for i := inStart[t]; i < inStart[t+1]; i++ {
				c := int32(inClass[i])
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

// forceHopcroft makes Minimize use partition refinement even for acyclic
// DFAs (tests compare the two).
var forceHopcroft = false

// acyclicKeep reports whether the states reachable from the start have no
// cycle; if so it returns the states to keep (reachable and able to reach
// acceptance; the start state always) and those states in an order where
// each comes after its kept successors.
func (d *DFA) acyclicKeep() (keep []bool, order []int32, ok bool) {
	n, k := d.NumStates(), d.NumClasses
	const (
		white = iota
		grey
		black
	)
	color := make([]uint8, n)
	live := make([]bool, n)
	var post []int32 // reachable states, successors first
	type frame struct {
		s int32
		c int // next class to look at
	}
	color[d.Start] = grey
	stack := []frame{{d.Start, 0}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		row := d.Next[int(f.s)*k : (int(f.s)+1)*k]
		pushed := false
		for f.c < k && !pushed {
			t := row[f.c]
			f.c++
			if t < 0 {
				continue
			}
			switch color[t] {
			case grey:
				return nil, nil, false
			case white:
				color[t] = grey
				stack = append(stack, frame{t, 0})
				pushed = true
			}
		}
		if pushed {
			continue
		}
		s := f.s
		color[s] = black
		live[s] = d.Accept[s]
		for _, t := range row {
			if t >= 0 && live[t] {
				live[s] = true
				break
			}
		}
		post = append(post, s)
		stack = stack[:len(stack)-1]
	}
	live[d.Start] = true // (a start state that cannot reach acceptance stays, with no way on)
	for _, s := range post {
		if live[s] {
			order = append(order, s)
		}
	}
	// reachable and live: reachable through live states too, since every
	// state on a path to a live state is live
	return live, order, true
}

// minimizeAcyclic minimizes an acyclic DFA in one pass over its kept
// states, successors first (Revuz): two states are equivalent exactly when
// they agree on acceptance and their successors on every class are
// equivalent (or both missing), so each state gets the number of its
// signature. It gives the same partition as the refinement, in O(n·k).
func (d *DFA) minimizeAcyclic(keep []bool, order []int32) *DFA {
	n, k := d.NumStates(), d.NumClasses
	id := make([]int32, n)
	for s := range id {
		id[s] = -1
	}
	// successor number on class c of a state whose successors are numbered
	succ := func(s int32, c int) int32 {
		if t := d.Next[int(s)*k+c]; t >= 0 && keep[t] {
			return id[t]
		}
		return -1
	}
	var rep []int32 // the first state of each number
	var hashes []uint64
	table := make([]int32, 1<<bits.Len(uint(2*len(order)+1)))
	mask := len(table) - 1
	for _, s := range order {
		h := uint64(1)
		if d.Accept[s] {
			h = 2
		}
		for c := 0; c < k; c++ {
			h = (h ^ uint64(uint32(succ(s, c)))) * 0xFF51AFD7ED558CCD
			h ^= h >> 29
		}
		i := int(h) & mask
		num := int32(-1)
		for ; table[i] != 0; i = (i + 1) & mask {
			g := table[i] - 1
			if hashes[g] != h || d.Accept[rep[g]] != d.Accept[s] {
				continue
			}
			same := true
			for c := 0; c < k && same; c++ {
				same = succ(rep[g], c) == succ(s, c)
			}
			if same {
				num = g
				break
			}
		}
		if num < 0 {
			num = int32(len(hashes))
			hashes = append(hashes, h)
			rep = append(rep, s)
			table[i] = num + 1
		}
		id[s] = num
	}
	return d.renumber(id, len(hashes))
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
//
// At level j a state's signature is the map from each class c that has a
// byte in at[j] and a live transition to t, to the group of t at level j+1
// if c has a byte in cont[j], else to 0; states with equal signatures share
// a group, and groups are numbered in order of their first state. The map
// is kept as (value, set of classes) pairs sorted by value, computed from
// each state's transitions grouped by target, so a level costs about one
// step per distinct target instead of one per class. The signatures of a
// level are computed on several CPUs (ranges of states) for large DFAs; the
// groups are then numbered in one pass in state order.
func (d *DFA) TokenClasses(at, cont []ByteSet) ([]int32, int) {
	n, k := d.NumStates(), d.NumClasses
	W := (k + 63) / 64 // words per class set
	// each state's live transitions grouped by target, in order of first
	// class: targets in entT[entStart[s]:entStart[s+1]], class sets in entM
	// (W words each)
	entStart := make([]int32, n+1)
	var entT []int32
	var entM []uint64
	for s := 0; s < n; s++ {
		e0 := len(entT)
		for c, t := range d.Next[s*k : (s+1)*k] {
			if t < 0 {
				continue
			}
			e := e0
			for e < len(entT) && entT[e] != t {
				e++
			}
			if e == len(entT) {
				entT = append(entT, t)
				for w := 0; w < W; w++ {
					entM = append(entM, 0)
				}
			}
			entM[e*W+c>>6] |= 1 << (c & 63)
		}
		entStart[s+1] = int32(len(entT))
	}
	block := make([]int32, n)
	nblocks := 1
	next := make([]int32, n)
	// signatures of the current level, per worker (a contiguous range of
	// states each), flat: state s's are sigs[w][sigLo[s]:sigHi[s]], pairs of
	// (value, W words of classes), and its hash is sigHash[s]
	workers := 1
	if n >= 4096 {
		workers = min(runtime.GOMAXPROCS(0), 4)
	}
	lo := make([]int, workers+1) // worker w has states lo[w]..lo[w+1]-1
	for w := range lo {
		lo[w] = w * n / workers
	}
	sigs := make([][]uint64, workers)
	sigLo := make([]int32, n)
	sigHi := make([]int32, n)
	sigHash := make([]uint64, n)
	// open-addressing table of groups by signature hash
	table := make([]int32, 1<<bits.Len(uint(2*n)))
	var first []int32   // first state of each group
	var hashes []uint64 // hash of each group's signature
	// signature computes the signatures and hashes of worker w's states
	signature := func(w int, inEnd, inCont []uint64) {
		sig := sigs[w][:0]
		for s := lo[w]; s < lo[w+1]; s++ {
			p0 := len(sig)
			for e := entStart[s]; e < entStart[s+1]; e++ {
				m := entM[int(e)*W : int(e+1)*W]
				for part := 0; part < 2; part++ {
					sel, v := inEnd, uint64(0)
					if part == 1 {
						sel, v = inCont, uint64(uint32(block[entT[e]]))
					}
					any := uint64(0)
					for w := 0; w < W; w++ {
						any |= m[w] & sel[w]
					}
					if any == 0 {
						continue
					}
					// merge into the pair with value v, or insert it in order
					q := p0
					for q < len(sig) && sig[q] < v {
						q += 1 + W
					}
					if q < len(sig) && sig[q] == v {
						for w := 0; w < W; w++ {
							sig[q+1+w] |= m[w] & sel[w]
						}
						continue
					}
					for w := 0; w <= W; w++ {
						sig = append(sig, 0)
					}
					copy(sig[q+1+W:], sig[q:len(sig)-1-W])
					sig[q] = v
					for w := 0; w < W; w++ {
						sig[q+1+w] = m[w] & sel[w]
					}
				}
			}
			sigLo[s], sigHi[s] = int32(p0), int32(len(sig))
			cur := sig[p0:]
			h := uint64(len(cur)) * 0x9E3779B97F4A7C15
			for _, x := range cur {
				h = (h ^ x) * 0xFF51AFD7ED558CCD
				h ^= h >> 31
			}
			sigHash[s] = h
		}
		sigs[w] = sig
	}
	var wg sync.WaitGroup
	for j := len(at) - 1; j >= 0; j-- {
		inCont := make([]uint64, W) // classes with a byte in at[j] and in cont[j]
		inEnd := make([]uint64, W)  // classes with a byte in at[j], none in cont[j]
		var isAt, isCont [256]bool
		for c := 0; c < 256; c++ {
			if at[j].Has(byte(c)) {
				isAt[d.Class[c]] = true
			}
			if cont[j].Has(byte(c)) {
				isCont[d.Class[c]] = true
			}
		}
		for c := 0; c < k; c++ {
			if isAt[c] && isCont[c] {
				inCont[c>>6] |= 1 << (c & 63)
			} else if isAt[c] {
				inEnd[c>>6] |= 1 << (c & 63)
			}
		}
		for w := 1; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				signature(w, inEnd, inCont)
			}(w)
		}
		signature(0, inEnd, inCont)
		wg.Wait()
		// groups, numbered in order of their first state
		clear(table)
		first, hashes = first[:0], hashes[:0]
		mask := len(table) - 1
		ws := 0 // the worker of s
		for s := 0; s < n; s++ {
			for s >= lo[ws+1] {
				ws++
			}
			cur := sigs[ws][sigLo[s]:sigHi[s]]
			h := sigHash[s]
			id := int32(-1)
			i := int(h) & mask
			for ; table[i] != 0; i = (i + 1) & mask {
				g := table[i] - 1
				if hashes[g] == h {
					f := first[g]
					wf := 0
					for int(f) >= lo[wf+1] {
						wf++
					}
					if slices.Equal(sigs[wf][sigLo[f]:sigHi[f]], cur) {
						id = g
						break
					}
				}
			}
			if id < 0 {
				id = int32(len(first))
				first = append(first, int32(s))
				hashes = append(hashes, h)
				table[i] = id + 1
			}
			next[s] = id
		}
		block, next = next, block
		nblocks = len(first)
	}
	return block, nblocks
}
