package tokens

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/schemac-dev/schemac/compiler/rx"
)

// Automaton is the token-level view of a byte DFA over a vocabulary. Its
// states are the byte DFA's states: after a token, the state is the DFA state
// reached by the token's bytes, so the next state of a token is a handful of
// byte-table lookups (Next) and needs no per-token table.
type Automaton struct {
	DFA       *rx.DFA
	VocabSize int
	EOS       int32
	Start     int32
	// Row is, per DFA state, the index into Rows of its allowed-token set
	// (EOS not included).
	Row []int32
	// Rows are the distinct allowed sets, as bitsets of VocabSize bits,
	// 64 tokens per word, token t at bit t%64 of word t/64.
	Rows [][]uint64
	// Forced is, per state, the bytes forced from there (no alternative and
	// no acceptance) before the next choice.
	Forced [][]byte
	// TokenBytes is the byte string of every token (nil for control tokens).
	TokenBytes [][]byte
	// Walks is the number of trie walks the build needed (one per group of
	// states with equal masks; see rx.DFA.BoundedClasses).
	Walks int
}

// NumStates is the number of states.
func (a *Automaton) NumStates() int { return len(a.Row) }

// Accepting reports whether EOS is allowed in state s: the bytes so far
// form a complete value.
func (a *Automaton) Accepting(s int32) bool { return a.DFA.Accept[s] }

// Allowed reports whether token t may be emitted in state s. EOS is
// allowed exactly where the state is accepting.
func (a *Automaton) Allowed(s int32, t int) bool {
	if t == int(a.EOS) {
		return a.DFA.Accept[s]
	}
	if t < 0 || t >= a.VocabSize {
		return false
	}
	return a.Rows[a.Row[s]][t>>6]&(1<<(t&63)) != 0
}

// Next returns the state after emitting token t in state s, or -1 when t is
// not allowed there (EOS also gives -1: it ends the output).
func (a *Automaton) Next(s int32, t int) int32 {
	if t == int(a.EOS) || !a.Allowed(s, t) {
		return -1
	}
	return a.DFA.Run(s, a.TokenBytes[t])
}

// NumAllowed is the number of tokens allowed in state s (EOS excluded).
func (a *Automaton) NumAllowed(s int32) int {
	n := 0
	for _, w := range a.Rows[a.Row[s]] {
		n += bits.OnesCount64(w)
	}
	return n
}

// Options bound the token stage.
type Options struct {
	// MaxTableBytes caps the size of the mask rows; zero means
	// DefaultMaxTableBytes.
	MaxTableBytes int
}

// DefaultMaxTableBytes is the default cap on mask rows: 256 MiB (about
// 64 000 distinct rows of a 32 000-token vocabulary), far above what real
// schemas need and low enough to fail with "too large" before memory runs
// out.
const DefaultMaxTableBytes = 256 << 20

// MissingBytesError reports bytes that valid output needs but no token of
// the vocabulary starts with.
type MissingBytesError struct {
	Bytes []byte
}

func (e *MissingBytesError) Error() string {
	var parts []string
	for _, c := range e.Bytes {
		parts = append(parts, fmt.Sprintf("0x%02X", c))
	}
	return "vocabulary cannot spell byte(s) " + strings.Join(parts, ", ") + " that valid output needs (no token starts with them)"
}

// Build lifts d to the token level over v.
func Build(d *rx.DFA, v Vocab, opt Options) (*Automaton, error) {
	maxBytes := opt.MaxTableBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxTableBytes
	}
	bt := trieOf(v)
	n := v.VocabSize()
	words := (n + 63) / 64
	a := &Automaton{DFA: d, VocabSize: n, EOS: int32(v.EOS()), Start: d.Start}
	// at[j]: bytes at position j of some token; cont[j]: those followed by
	// another byte in some token.
	var at, cont []rx.ByteSet
	var single rx.ByteSet // bytes that are a token by themselves
	a.TokenBytes = make([][]byte, n)
	for id := 0; id < n; id++ {
		bs := v.TokenBytes(id)
		a.TokenBytes[id] = bs
		if len(bs) == 1 {
			single.Add(bs[0])
		}
		for len(at) < len(bs) {
			at, cont = append(at, rx.ByteSet{}), append(cont, rx.ByteSet{})
		}
		for j, c := range bs {
			at[j].Add(c)
			if j+1 < len(bs) {
				cont[j].Add(c)
			}
		}
	}
	// States that agree on the liveness of every token's bytes have the
	// same mask: walk the trie once per group.
	// (the class trie does not depend on the groups: build both at once)
	ctDone := make(chan *classTrie)
	go func() { ctDone <- buildClassTrie(bt, d) }()
	group, ngroups := d.TokenClasses(at, cont)
	t := <-ctDone
	nc := int32(d.NumClasses)
	// one representative state per group, in state order
	reps := make([]int32, 0, ngroups)
	seenGroup := make([]bool, ngroups)
	for s := int32(0); s < int32(d.NumStates()); s++ {
		if !seenGroup[group[s]] {
			seenGroup[group[s]] = true
			reps = append(reps, s)
		}
	}
	a.Walks = len(reps)
	// Walk the trie from each representative, spread over the CPUs; each
	// worker writes only its own rows, so the result is deterministic.
	// Rows are first built over trie positions (see classTrie.lo), where a
	// subtree's tokens are a contiguous range: a walk that reaches a child
	// of the root in a DFA state in which an earlier walk of the same worker
	// reached it copies that walk's bits for the subtree instead of walking
	// it again (the bits depend only on the node and the state).
	npos := len(t.perm)
	pwords := (npos + 63) / 64
	prow := make([][]uint64, len(reps))
	missingOf := make([]rx.ByteSet, len(reps))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(reps)/8))
	const chunk = 16 // neighbouring states share subtrees more often
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			type frame struct{ node, ds int32 } // trie node and the DFA state there
			var stack []frame
			memo := map[int64]int32{} // (root child, state) -> rep whose row has the subtree
			var firsts []int64        // the (root child, state) pairs of the current walk
			r0, r1 := t.child0[0], t.child0[0]+t.nchild[0]
			for c0 := w * chunk; c0 < len(reps); c0 += workers * chunk {
				for i := c0; i < min(c0+chunk, len(reps)); i++ {
					s := reps[i]
					row := make([]uint64, pwords)
					firsts = firsts[:0]
					base := s * nc
					for k := r0; k < r1; k++ {
						nd := d.Next[base+int32(t.class[k])]
						if nd < 0 {
							continue
						}
						key := int64(k)<<32 | int64(nd)
						if src, ok := memo[key]; ok {
							copyBits(row, prow[src], int(t.lo[k]), int(t.hi[k]))
							continue
						}
						firsts = append(firsts, key)
						setBits(row, int(t.lo[k]), int(t.lo[k]+t.tok0[k+1]-t.tok0[k]))
						stack = append(stack[:0], frame{k, nd})
						for len(stack) > 0 {
							f := stack[len(stack)-1]
							stack = stack[:len(stack)-1]
							c0, n := t.child0[f.node], t.nchild[f.node]
							base := f.ds * nc
							for k := c0; k < c0+n; k++ {
								nd := d.Next[base+int32(t.class[k])]
								if nd < 0 {
									continue
								}
								if lo, n := t.lo[k], t.tok0[k+1]-t.tok0[k]; n == 1 {
									row[lo>>6] |= 1 << (lo & 63)
								} else if n > 1 {
									setBits(row, int(lo), int(lo+n))
								}
								if t.nchild[k] > 0 {
									stack = append(stack, frame{k, nd})
								}
							}
						}
					}
					for _, key := range firsts {
						memo[key] = int32(i)
					}
					for c := 0; c < 256; c++ {
						if !single.Has(byte(c)) && d.Step(s, byte(c)) >= 0 && !bt.liveFrom(d, s, byte(c)) {
							missingOf[i].Add(byte(c))
						}
					}
					prow[i] = row
				}
			}
		}(w)
	}
	wg.Wait()
	// deduplicate rows in representative order (equal over positions is
	// equal over tokens), then map the distinct ones to token ids
	seed := maphash.MakeSeed()
	rowIndex := map[uint64][]int32{}
	var missing rx.ByteSet
	rowBytes := make([]byte, pwords*8)
	groupRow := make([]int32, ngroups)
	var distinct [][]uint64 // over positions
	for i, s := range reps {
		missing = missing.Union(missingOf[i])
		row := prow[i]
		for w, x := range row {
			binary.LittleEndian.PutUint64(rowBytes[w*8:], x)
		}
		h := maphash.Bytes(seed, rowBytes)
		ri := int32(-1)
		for _, r := range rowIndex[h] {
			if slices.Equal(distinct[r], row) {
				ri = r
				break
			}
		}
		if ri < 0 {
			ri = int32(len(distinct))
			distinct = append(distinct, row)
			rowIndex[h] = append(rowIndex[h], ri)
			if len(distinct)*words*8 > maxBytes {
				return nil, &rx.LimitError{What: "bytes of mask rows", Limit: maxBytes}
			}
		}
		groupRow[group[s]] = ri
	}
	// all trie tokens, over token ids: rows with more ones than zeros are
	// made from it by clearing the zeros
	full := make([]uint64, words)
	for _, tok := range t.perm {
		full[tok>>6] |= 1 << (tok & 63)
	}
	a.Rows = make([][]uint64, len(distinct))
	for r, pr := range distinct {
		ones := 0
		for _, x := range pr {
			ones += bits.OnesCount64(x)
		}
		row := make([]uint64, words)
		if 2*ones > npos {
			copy(row, full)
			for w, x := range pr {
				z := ^x
				if w == pwords-1 && npos%64 != 0 {
					z &= 1<<(npos%64) - 1
				}
				for z != 0 {
					tok := t.perm[w*64+bits.TrailingZeros64(z)]
					row[tok>>6] &^= 1 << (tok & 63)
					z &= z - 1
				}
			}
		} else {
			for w, x := range pr {
				for x != 0 {
					tok := t.perm[w*64+bits.TrailingZeros64(x)]
					row[tok>>6] |= 1 << (tok & 63)
					x &= x - 1
				}
			}
		}
		a.Rows[r] = row
	}
	a.Row = make([]int32, d.NumStates())
	for s := int32(0); s < int32(d.NumStates()); s++ {
		a.Row[s] = groupRow[group[s]]
	}
	a.Forced = forcedAll(d)
	if !missing.Empty() {
		var bs []byte
		for c := 0; c < 256; c++ {
			if missing.Has(byte(c)) {
				bs = append(bs, byte(c))
			}
		}
		return nil, &MissingBytesError{Bytes: bs}
	}
	return a, nil
}

// forcedAll returns, per state, the bytes that the DFA admits one at a
// time, with no alternative and no option to stop, before the next choice.
// A state whose only way on is one single-byte class continues the forced
// string of the state it leads to, so each string is built once from its
// successor's.
func forcedAll(d *rx.DFA) [][]byte {
	n, k := d.NumStates(), d.NumClasses
	size := make([]int, k) // bytes per class
	byteOf := make([]byte, k)
	for c := 0; c < 256; c++ {
		size[d.Class[c]]++
		byteOf[d.Class[c]] = byte(c)
	}
	out := make([][]byte, n)
	done := make([]bool, n)
	var chain []int32
	for s0 := int32(0); s0 < int32(n); s0++ {
		// follow the forced chain from s0 until a finished or choosing state
		chain = chain[:0]
		s := s0
		for !done[s] {
			done[s] = true
			if d.Accept[s] {
				break
			}
			only, live := -1, 0
			for c := 0; c < k && live < 2; c++ {
				if d.Next[int(s)*k+c] >= 0 {
					live++
					only = c
				}
			}
			if live != 1 || size[only] != 1 {
				break
			}
			chain = append(chain, s)
			s = d.Next[int(s)*k+only]
		}
		// s is finished (out[s] is final); build the chain backwards
		for i := len(chain) - 1; i >= 0; i-- {
			c := chain[i]
			cl := -1
			for x := 0; x < k; x++ {
				if d.Next[int(c)*k+x] >= 0 {
					cl = x
					break
				}
			}
			t := d.Next[int(c)*k+cl]
			out[c] = append([]byte{byteOf[cl]}, out[t]...)
		}
	}
	return out
}

// TableBytes is the size of the tables a runtime needs: the mask rows, a
// row index per state, the byte DFA's transitions, and the token bytes.
func (a *Automaton) TableBytes() int {
	n := len(a.Rows)*((a.VocabSize+63)/64)*8 + 4*len(a.Row) + 4*len(a.DFA.Next) + 256
	for _, b := range a.TokenBytes {
		n += 4 + len(b)
	}
	return n
}

// setBits sets bits lo..hi-1 of row.
func setBits(row []uint64, lo, hi int) {
	if lo >= hi {
		return
	}
	wl, wh := lo>>6, (hi-1)>>6
	ml := ^uint64(0) << (lo & 63)
	mh := ^uint64(0) >> (63 - (hi-1)&63)
	if wl == wh {
		row[wl] |= ml & mh
		return
	}
	row[wl] |= ml
	for w := wl + 1; w < wh; w++ {
		row[w] = ^uint64(0)
	}
	row[wh] |= mh
}

// copyBits copies bits lo..hi-1 of src into dst (where they are all zero).
func copyBits(dst, src []uint64, lo, hi int) {
	if lo >= hi {
		return
	}
	wl, wh := lo>>6, (hi-1)>>6
	ml := ^uint64(0) << (lo & 63)
	mh := ^uint64(0) >> (63 - (hi-1)&63)
	if wl == wh {
		dst[wl] |= src[wl] & ml & mh
		return
	}
	dst[wl] |= src[wl] & ml
	copy(dst[wl+1:wh], src[wl+1:wh])
	dst[wh] |= src[wh] & mh
}
