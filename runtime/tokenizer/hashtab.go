package tokenizer

import "math/bits"

// u64Table is an open-addressing hash table from uint64 to uint64 with
// linear probing, built once at load. It is several times faster than a Go
// map for the BPE inner loop. The key ^0 is reserved as the empty marker.
type u64Table struct {
	slots []u64Slot
	shift uint // 64 - log2(len(slots))
	mask  uint64
	n     int
}

type u64Slot struct {
	key, val uint64
}

const emptyKey = ^uint64(0)

func newU64Table(capacity int) *u64Table {
	size := 16
	for size < 2*capacity {
		size <<= 1
	}
	t := &u64Table{slots: make([]u64Slot, size), mask: uint64(size - 1)}
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	for i := range t.slots {
		t.slots[i].key = emptyKey
	}
	return t
}

func (t *u64Table) hash(key uint64) uint64 {
	return (key * 0x9E3779B97F4A7C15) >> t.shift
}

// put inserts or overwrites key.
func (t *u64Table) put(key, val uint64) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	for i := t.hash(key); ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.key == key {
			s.val = val
			return
		}
		if s.key == emptyKey {
			s.key, s.val = key, val
			t.n++
			return
		}
	}
}

func (t *u64Table) grow() {
	old := t.slots
	*t = *newU64Table(len(old))
	for _, s := range old {
		if s.key != emptyKey {
			t.put(s.key, s.val)
		}
	}
}

// get returns the value of key.
func (t *u64Table) get(key uint64) (uint64, bool) {
	for i := t.hash(key); ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.key == key {
			return s.val, true
		}
		if s.key == emptyKey {
			return 0, false
		}
	}
}
