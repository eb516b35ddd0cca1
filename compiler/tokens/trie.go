package tokens

import (
	"sort"
	"sync"

	"github.com/schemac-dev/schemac/compiler/rx"
)

// Vocab is what the token stage needs from a tokenizer.
type Vocab interface {
	VocabSize() int
	// TokenBytes is the exact byte string the token adds to the output; nil
	// or empty for control tokens, which the automaton never allows.
	TokenBytes(id int) []byte
	EOS() int
}

// trie is a byte trie of the vocabulary, stored as flat arrays. Node 0 is
// the root (the empty prefix). Children of a node are contiguous and sorted
// by byte, which keeps the walk cache friendly and its order deterministic.
type trie struct {
	child0 []int32 // index of the first child in nodes; children are child0[n]..child0[n]+nchild[n]-1
	nchild []int32
	label  []byte    // byte on the edge into the node
	tokens [][]int32 // token ids whose bytes end exactly at the node
	// the same, flat: node i's tokens are flatToks[tok0[i]:tok0[i+1]]
	tok0     []int32
	flatToks []int32
}

// trieCache keeps the trie of each vocabulary seen, keyed by the Vocab
// value: a process compiling many schemas for one tokenizer builds it once.
var trieCache sync.Map // Vocab -> *trie

func trieOf(v Vocab) *trie {
	if t, ok := trieCache.Load(v); ok {
		return t.(*trie)
	}
	t := buildTrie(v)
	trieCache.Store(v, t)
	return t
}

func buildTrie(v Vocab) *trie {
	type tmp struct {
		kids   map[byte]int
		tokens []int32
	}
	nodes := []tmp{{kids: map[byte]int{}}}
	for id := 0; id < v.VocabSize(); id++ {
		bs := v.TokenBytes(id)
		if len(bs) == 0 {
			continue
		}
		n := 0
		for _, c := range bs {
			k, ok := nodes[n].kids[c]
			if !ok {
				k = len(nodes)
				nodes[n].kids[c] = k
				nodes = append(nodes, tmp{kids: map[byte]int{}})
			}
			n = k
		}
		nodes[n].tokens = append(nodes[n].tokens, int32(id))
	}
	// Lay out breadth first so each node's children are contiguous.
	t := &trie{}
	order := []int{0}
	label := []byte{0}
	pos := map[int]int32{0: 0}
	for i := 0; i < len(order); i++ {
		old := order[i]
		keys := make([]int, 0, len(nodes[old].kids))
		for c := range nodes[old].kids {
			keys = append(keys, int(c))
		}
		sort.Ints(keys)
		t.child0 = append(t.child0, int32(len(order)))
		t.nchild = append(t.nchild, int32(len(keys)))
		t.tokens = append(t.tokens, nodes[old].tokens)
		for _, c := range keys {
			k := nodes[old].kids[byte(c)]
			pos[k] = int32(len(order))
			order = append(order, k)
			label = append(label, byte(c))
		}
	}
	t.label = label
	t.tok0 = make([]int32, 0, len(t.tokens)+1)
	for _, ts := range t.tokens {
		t.tok0 = append(t.tok0, int32(len(t.flatToks)))
		t.flatToks = append(t.flatToks, ts...)
	}
	t.tok0 = append(t.tok0, int32(len(t.flatToks)))
	return t
}

// liveFrom reports whether some token starting with byte c keeps d alive
// from state s (a slow search, used only for bytes that are not a token by
// themselves).
func (t *trie) liveFrom(d *rx.DFA, s int32, c byte) bool {
	type frame struct{ node, ds int32 }
	var stack []frame
	for k := t.child0[0]; k < t.child0[0]+t.nchild[0]; k++ {
		if t.label[k] == c {
			stack = append(stack, frame{k, d.Step(s, c)})
		}
	}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.ds < 0 {
			continue
		}
		if len(t.tokens[f.node]) > 0 {
			return true
		}
		for k := t.child0[f.node]; k < t.child0[f.node]+t.nchild[f.node]; k++ {
			stack = append(stack, frame{k, d.Step(f.ds, t.label[k])})
		}
	}
	return false
}
