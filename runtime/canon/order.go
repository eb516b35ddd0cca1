package canon

import "cmp"

// Order ranks object member names: the decoder writes the members of every
// object with ranked names first, by rank, then the others sorted
// byte-wise by name. The compiler ranks names by their first appearance in
// the schema document. A nil *Order ranks no name. An Order is immutable.
type Order struct {
	names []string
	rank  map[string]int
}

// NewOrder ranks names in the order given: the rank of a name is its
// position in Names, which is names without repeats (a repeated name keeps
// its first position).
func NewOrder(names []string) *Order {
	o := &Order{rank: make(map[string]int, len(names))}
	for _, n := range names {
		if _, ok := o.rank[n]; !ok {
			o.rank[n] = len(o.names)
			o.names = append(o.names, n)
		}
	}
	return o
}

// Rank returns the rank of name, or -1 if it has none.
func (o *Order) Rank(name string) int {
	if o == nil {
		return -1
	}
	if r, ok := o.rank[name]; ok {
		return r
	}
	return -1
}

// rankBytes is Rank for a name held in a byte slice (without allocating).
func (o *Order) rankBytes(name []byte) int {
	if o == nil {
		return -1
	}
	if r, ok := o.rank[string(name)]; ok {
		return r
	}
	return -1
}

// Names returns the ranked names in rank order (a copy).
func (o *Order) Names() []string {
	if o == nil {
		return nil
	}
	return append([]string(nil), o.names...)
}

// Compare orders two member names as the decoder writes them: ranked names
// first, by rank; then unranked names, byte-wise. It is 0 only for equal
// names; sorting members with it must be stable (slices.SortStableFunc).
func (o *Order) Compare(a, b string) int {
	return compareNames(o.Rank(a), o.Rank(b), a, b)
}

// compareNames is the member-order rule for names a and b of ranks ra and
// rb (-1 for none).
func compareNames[S ~string | ~[]byte](ra, rb int, a, b S) int {
	switch {
	case ra >= 0 && rb >= 0:
		return cmp.Compare(ra, rb)
	case ra >= 0:
		return -1
	case rb >= 0:
		return 1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return cmp.Compare(a[i], b[i])
		}
	}
	return cmp.Compare(len(a), len(b))
}
