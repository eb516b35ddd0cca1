package rx

import "unicode/utf8"

// RuneRange matches the UTF-8 encoding of one code point in [lo, hi].
// Surrogates (U+D800–U+DFFF) have no UTF-8 encoding and are never matched.
func (b *Builder) RuneRange(lo, hi rune) Expr {
	if lo < 0 {
		lo = 0
	}
	if hi > utf8.MaxRune {
		hi = utf8.MaxRune
	}
	var alts []Expr
	// split off the surrogate block
	if lo <= 0xDFFF && hi >= 0xD800 {
		if lo < 0xD800 {
			alts = append(alts, b.RuneRange(lo, 0xD7FF))
		}
		if hi > 0xDFFF {
			alts = append(alts, b.RuneRange(0xE000, hi))
		}
		return b.Or(alts...)
	}
	if lo > hi {
		return Nothing
	}
	// split by encoded length
	for _, max := range []rune{0x7F, 0x7FF, 0xFFFF} {
		if lo <= max && hi > max {
			return b.Or(b.RuneRange(lo, max), b.RuneRange(max+1, hi))
		}
	}
	if hi <= 0x7F {
		return b.Range(byte(lo), byte(hi))
	}
	// same length n: split until each range is a product of byte ranges
	n := utf8.RuneLen(lo)
	for i := 1; i < n; i++ {
		m := rune(1)<<(6*i) - 1
		if lo&^m != hi&^m {
			if lo&m != 0 {
				return b.Or(b.RuneRange(lo, lo|m), b.RuneRange((lo|m)+1, hi))
			}
			if hi&m != m {
				return b.Or(b.RuneRange(lo, (hi&^m)-1), b.RuneRange(hi&^m, hi))
			}
		}
	}
	var lb, hb [utf8.UTFMax]byte
	utf8.EncodeRune(lb[:], lo)
	utf8.EncodeRune(hb[:], hi)
	seq := make([]Expr, n)
	for i := 0; i < n; i++ {
		seq[i] = b.Range(lb[i], hb[i])
	}
	return b.Concat(seq...)
}

// AnyRune matches the UTF-8 encoding of any code point (no surrogates).
func (b *Builder) AnyRune() Expr { return b.RuneRange(0, utf8.MaxRune) }

// RuneSet matches one code point from the union of the given ranges.
func (b *Builder) RuneSet(ranges [][2]rune) Expr {
	alts := make([]Expr, len(ranges))
	for i, r := range ranges {
		alts[i] = b.RuneRange(r[0], r[1])
	}
	return b.Or(alts...)
}
