package pattern

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// runeSet is a set of code points as sorted, disjoint, non-adjacent closed
// ranges. Surrogates may appear in it (a class can name them); they have no
// UTF-8 encoding, so rx.Builder.RuneSet drops them.
type runeSet [][2]rune

// normalize sorts and merges ranges (it may reorder rs in place).
func normalize(rs [][2]rune) runeSet {
	slices.SortFunc(rs, func(a, b [2]rune) int {
		if a[0] != b[0] {
			return int(a[0] - b[0])
		}
		return int(a[1] - b[1])
	})
	var out runeSet
	for _, r := range rs {
		if r[0] > r[1] {
			continue
		}
		if n := len(out); n > 0 && r[0] <= out[n-1][1]+1 {
			if r[1] > out[n-1][1] {
				out[n-1][1] = r[1]
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func single(lo, hi rune) runeSet { return runeSet{{lo, hi}} }

func union(sets ...runeSet) runeSet {
	var all [][2]rune
	for _, s := range sets {
		all = append(all, s...)
	}
	return normalize(all)
}

// complement returns the code points of [0, U+10FFFF] not in s.
func (s runeSet) complement() runeSet {
	var out runeSet
	next := rune(0)
	for _, r := range s {
		if r[0] > next {
			out = append(out, [2]rune{next, r[0] - 1})
		}
		next = r[1] + 1
	}
	if next <= utf8.MaxRune {
		out = append(out, [2]rune{next, utf8.MaxRune})
	}
	return out
}

func minus(s, t runeSet) runeSet { return intersect(s, t.complement()) }

func intersect(s, t runeSet) runeSet {
	var out runeSet
	i, j := 0, 0
	for i < len(s) && j < len(t) {
		lo, hi := max(s[i][0], t[j][0]), min(s[i][1], t[j][1])
		if lo <= hi {
			out = append(out, [2]rune{lo, hi})
		}
		if s[i][1] < t[j][1] {
			i++
		} else {
			j++
		}
	}
	return out
}

func (s runeSet) has(r rune) bool {
	_, ok := slices.BinarySearchFunc(s, r, func(x [2]rune, r rune) int {
		switch {
		case x[1] < r:
			return -1
		case x[0] > r:
			return 1
		}
		return 0
	})
	return ok
}

func fromTable(t *unicode.RangeTable) runeSet {
	var rs [][2]rune
	for _, r := range t.R16 {
		rs = appendStrided(rs, rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	for _, r := range t.R32 {
		rs = appendStrided(rs, rune(r.Lo), rune(r.Hi), rune(r.Stride))
	}
	return normalize(rs)
}

func appendStrided(rs [][2]rune, lo, hi, stride rune) [][2]rune {
	if stride == 1 {
		return append(rs, [2]rune{lo, hi})
	}
	for c := lo; c <= hi; c += stride {
		rs = append(rs, [2]rune{c, c})
	}
	return rs
}

// The character class escapes of ECMA-262 (u flag, no i flag).
var (
	digitSet = single('0', '9')
	wordSet  = runeSet{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}
	// WhiteSpace (TAB, VT, FF, ZWNBSP, and every Space_Separator) plus
	// LineTerminator (LF, CR, LS, PS).
	spaceSet = normalize([][2]rune{{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x1680, 0x1680},
		{0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}})
	// goSpaceSet is Go regexp's (RE2's) \s, a subset of spaceSet; see
	// SearchPortable.
	goSpaceSet = runeSet{{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}}
	// dotSet is what "." matches without the s flag: all but LineTerminator.
	dotSet = runeSet{{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}.complement()
)
