package tokens

import (
	"github.com/schemac-dev/schemac/compiler/rx"
)

// classTrie is the vocabulary trie with bytes replaced by the DFA's byte
// classes: tokens whose bytes fall in the same classes, position by
// position, share a path, since the DFA cannot tell them apart. For a
// JSON-Schema DFA most letters share a class, so this trie is several times
// smaller than the byte trie, and each mask walk visits fewer nodes.
type classTrie struct {
	child0 []int32 // first child of each node; children are contiguous
	nchild []int32
	class  []uint8   // class on the edge into the node
	tokens [][]int32 // tokens ending at the node
}

// buildClassTrie maps the byte trie t through d's classes, breadth first:
// each class node stands for a group of byte-trie nodes, and its children
// are the groups' children bucketed by class.
func buildClassTrie(t *trie, d *rx.DFA) *classTrie {
	ct := &classTrie{}
	// members of the class nodes, flat: node i owns members[mstart[i]:mstart[i+1]]
	members := []int32{0}
	mstart := []int32{0, 1}
	ct.class = append(ct.class, 0)
	var slot [256]int32 // class -> index in kids, +1; reset per node
	var kids [][]int32  // per child class of the current node: byte-trie nodes
	var used []uint8
	for i := 0; i < len(mstart)-1; i++ {
		group := members[mstart[i]:mstart[i+1]]
		var toks []int32
		used = used[:0]
		kids = kids[:0]
		for _, m := range group {
			toks = append(toks, t.tokens[m]...)
			for k := t.child0[m]; k < t.child0[m]+t.nchild[m]; k++ {
				cl := d.Class[t.label[k]]
				if slot[cl] == 0 {
					kids = append(kids, nil)
					slot[cl] = int32(len(kids))
					used = append(used, cl)
				}
				kids[slot[cl]-1] = append(kids[slot[cl]-1], k)
			}
		}
		ct.tokens = append(ct.tokens, toks)
		ct.child0 = append(ct.child0, int32(len(mstart)-1))
		ct.nchild = append(ct.nchild, int32(len(used)))
		// children in class order, so the layout is deterministic
		sortBytes(used)
		for _, cl := range used {
			members = append(members, kids[slot[cl]-1]...)
			mstart = append(mstart, int32(len(members)))
			ct.class = append(ct.class, cl)
			slot[cl] = 0
		}
	}
	return ct
}

func sortBytes(b []uint8) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
}
