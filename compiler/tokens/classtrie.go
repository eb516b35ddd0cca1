package tokens

import (
	"github.com/schemac-dev/schemac/compiler/rx"
)

// classTrie is the vocabulary trie with bytes replaced by the DFA's byte
// classes: tokens whose bytes fall in the same classes, position by
// position, share a path, since the DFA cannot tell them apart. Where the
// DFA lumps letters together (inside strings) this trie is much smaller
// than the byte trie, and each mask walk visits fewer nodes.
type classTrie struct {
	child0 []int32 // first child of each node; children are contiguous
	nchild []int32
	class  []uint8 // class on the edge into the node
	// tokens ending at node i: toks[tok0[i]:tok0[i+1]]
	tok0 []int32
	toks []int32
	// Positions: the tokens of the trie numbered in depth-first preorder
	// (a node's own tokens, then its children's subtrees in order), so that
	// the tokens of a subtree are a contiguous range. Node i's own tokens
	// are at lo[i]..lo[i]+tok0[i+1]-tok0[i]-1 and its subtree's at
	// lo[i]..hi[i]-1; perm maps positions to token ids.
	lo, hi []int32
	perm   []int32
}

// number computes lo, hi and perm.
func (ct *classTrie) number() {
	n := len(ct.child0)
	size := make([]int32, n) // tokens in the subtree
	// children have larger indices than their parent (breadth-first layout)
	for k := n - 1; k >= 0; k-- {
		size[k] = ct.tok0[k+1] - ct.tok0[k]
		for c := ct.child0[k]; c < ct.child0[k]+ct.nchild[k]; c++ {
			size[k] += size[c]
		}
	}
	ct.lo, ct.hi = make([]int32, n), make([]int32, n)
	ct.perm = make([]int32, size[0])
	for k := 0; k < n; k++ {
		ct.hi[k] = ct.lo[k] + size[k]
		p := ct.lo[k]
		for _, tok := range ct.toks[ct.tok0[k]:ct.tok0[k+1]] {
			ct.perm[p] = tok
			p++
		}
		for c := ct.child0[k]; c < ct.child0[k]+ct.nchild[k]; c++ {
			ct.lo[c] = p
			p += size[c]
		}
	}
}

// buildClassTrie maps the byte trie t through d's classes, breadth first:
// each class node stands for a group of byte-trie nodes, and its children
// are the groups' children, bucketed by class with a counting sort. All
// arrays are flat, so building costs a few passes over the byte trie.
func buildClassTrie(t *trie, d *rx.DFA) *classTrie {
	nb := len(t.label)
	ct := &classTrie{
		child0: make([]int32, 0, nb), nchild: make([]int32, 0, nb), class: make([]uint8, 1, nb),
		tok0: make([]int32, 1, nb+1), toks: make([]int32, 0, len(t.flatToks)),
	}
	// members of the class nodes, flat: node i owns members[mstart[i]:mstart[i+1]]
	members := make([]int32, 1, nb)
	mstart := make([]int32, 2, nb+1)
	mstart[1] = 1
	var count [256]int32
	var used []uint8
	for i := 0; i < len(mstart)-1; i++ {
		group := members[mstart[i]:mstart[i+1]]
		used = used[:0]
		for _, m := range group {
			ct.toks = append(ct.toks, t.flatToks[t.tok0[m]:t.tok0[m+1]]...)
			for k := t.child0[m]; k < t.child0[m]+t.nchild[m]; k++ {
				cl := d.Class[t.label[k]]
				if count[cl] == 0 {
					used = append(used, cl)
				}
				count[cl]++
			}
		}
		ct.tok0 = append(ct.tok0, int32(len(ct.toks)))
		ct.child0 = append(ct.child0, int32(len(mstart)-1))
		ct.nchild = append(ct.nchild, int32(len(used)))
		sortBytes(used) // children in class order: a deterministic layout
		// counting sort of the groups' children by class
		var pos [256]int32
		base := int32(len(members))
		for _, cl := range used {
			pos[cl] = base
			base += count[cl]
			mstart = append(mstart, base)
			ct.class = append(ct.class, cl)
		}
		members = append(members, make([]int32, base-int32(len(members)))...)
		group = members[mstart[i]:mstart[i+1]] // members may have moved
		for _, m := range group {
			for k := t.child0[m]; k < t.child0[m]+t.nchild[m]; k++ {
				cl := d.Class[t.label[k]]
				members[pos[cl]] = k
				pos[cl]++
			}
		}
		for _, cl := range used {
			count[cl] = 0
		}
	}
	ct.number()
	return ct
}

func sortBytes(b []uint8) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
}
