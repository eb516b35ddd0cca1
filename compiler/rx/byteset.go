package rx

import (
	"fmt"
	"math/bits"
	"strings"
)

// ByteSet is a set of bytes, one bit per byte value.
type ByteSet [4]uint64

// Add adds b to the set.
func (s *ByteSet) Add(b byte) { s[b>>6] |= 1 << (b & 63) }

// AddRange adds every byte in [lo, hi].
func (s *ByteSet) AddRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s.Add(byte(c))
	}
}

// Has reports whether b is in the set.
func (s *ByteSet) Has(b byte) bool { return s[b>>6]&(1<<(b&63)) != 0 }

// Empty reports whether the set has no member.
func (s *ByteSet) Empty() bool { return s[0]|s[1]|s[2]|s[3] == 0 }

// Len is the number of bytes in the set.
func (s *ByteSet) Len() int {
	return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) + bits.OnesCount64(s[2]) + bits.OnesCount64(s[3])
}

// Union returns s ∪ t.
func (s ByteSet) Union(t ByteSet) ByteSet {
	return ByteSet{s[0] | t[0], s[1] | t[1], s[2] | t[2], s[3] | t[3]}
}

// Intersect returns s ∩ t.
func (s ByteSet) Intersect(t ByteSet) ByteSet {
	return ByteSet{s[0] & t[0], s[1] & t[1], s[2] & t[2], s[3] & t[3]}
}

// Complement returns the bytes not in s.
func (s ByteSet) Complement() ByteSet { return ByteSet{^s[0], ^s[1], ^s[2], ^s[3]} }

// Ranges returns the maximal runs of consecutive members as [lo, hi] pairs.
func (s *ByteSet) Ranges() [][2]byte {
	var out [][2]byte
	for c := 0; c < 256; {
		if !s.Has(byte(c)) {
			c++
			continue
		}
		lo := c
		for c < 256 && s.Has(byte(c)) {
			c++
		}
		out = append(out, [2]byte{byte(lo), byte(c - 1)})
	}
	return out
}

// markBoundaries records in m the bytes where membership in s changes, so
// that the bytes between two consecutive marks are all in s or all outside.
func (s *ByteSet) markBoundaries(m *ByteSet) {
	for _, r := range s.Ranges() {
		m.Add(r[0])
		if r[1] < 255 {
			m.Add(r[1] + 1)
		}
	}
}

// String writes the set in regular-expression class syntax, e.g. [0-9a-f].
func (s ByteSet) String() string {
	rs := s.Ranges()
	if len(rs) == 1 && rs[0][0] == rs[0][1] {
		return quoteByte(rs[0][0])
	}
	var b strings.Builder
	b.WriteByte('[')
	for _, r := range rs {
		b.WriteString(quoteByte(r[0]))
		if r[1] != r[0] {
			b.WriteByte('-')
			b.WriteString(quoteByte(r[1]))
		}
	}
	b.WriteByte(']')
	return b.String()
}

func quoteByte(c byte) string {
	if c > ' ' && c < 0x7f && !strings.ContainsRune(`[]-\()|&~*+?{}.^$`, rune(c)) {
		return string(rune(c))
	}
	return fmt.Sprintf(`\x%02x`, c)
}
