package lang

import (
	"fmt"
	"slices"
	"strings"

	"github.com/schemac-dev/schemac/compiler/schema"
)

// Order is the global member order of a compiled schema: names rank by
// their first appearance in the schema document.
type Order struct {
	rank map[string]int
}

// NewOrder ranks member names: first every name in a "properties", in
// document order; then names that appear only in "required",
// "dependentRequired", "dependencies" or "dependentSchemas".
func NewOrder(root *schema.Value) *Order {
	o := &Order{rank: map[string]int{}}
	add := func(name string) {
		if _, ok := o.rank[name]; !ok {
			o.rank[name] = len(o.rank)
		}
	}
	var walk func(v *schema.Value, pass int)
	walk = func(v *schema.Value, pass int) {
		switch v.Kind {
		case schema.Object:
			for _, m := range v.Members {
				switch {
				case pass == 0 && m.Key == "properties" && m.Value.Kind == schema.Object:
					for _, p := range m.Value.Members {
						add(p.Key)
					}
				case pass == 1 && m.Key == "required":
					for _, it := range m.Value.Items {
						if it.Kind == schema.String {
							add(it.Str)
						}
					}
				case pass == 1 && (m.Key == "dependentRequired" || m.Key == "dependencies" || m.Key == "dependentSchemas"):
					for _, d := range m.Value.Members {
						add(d.Key)
						for _, it := range d.Value.Items {
							if it.Kind == schema.String {
								add(it.Str)
							}
						}
					}
				}
				walk(m.Value, pass)
			}
		case schema.Array:
			for _, it := range v.Items {
				walk(it, pass)
			}
		}
	}
	walk(root, 0)
	walk(root, 1)
	return o
}

// Rank returns the position of name in the order, or -1 if the schema never
// names it.
func (o *Order) Rank(name string) int {
	if r, ok := o.rank[name]; ok {
		return r
	}
	return -1
}

// sortMembers returns the members ordered as the decoder writes them:
// ranked names first by rank, then the others sorted by name, so that the
// order never depends on how an instance happened to be written.
func (o *Order) sortMembers(ms []schema.Member) []schema.Member {
	out := slices.Clone(ms)
	slices.SortStableFunc(out, func(a, b schema.Member) int {
		ra, rb := o.Rank(a.Key), o.Rank(b.Key)
		switch {
		case ra >= 0 && rb >= 0:
			return ra - rb
		case ra >= 0:
			return -1
		case rb >= 0:
			return 1
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Format writes v as the decoder would: in layout l (Flexible writes no
// whitespace), members in order o, numbers and strings canonically spelled
// (see FormatNumber and FormatString).
func Format(v *schema.Value, l Layout, o *Order) []byte {
	return appendValue(nil, v, l, o, 0)
}

func appendValue(buf []byte, v *schema.Value, l Layout, o *Order, d int) []byte {
	switch v.Kind {
	case schema.Null:
		return append(buf, "null"...)
	case schema.Bool:
		if v.Bool {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case schema.Number:
		return append(buf, FormatNumber(v.Num)...)
	case schema.String:
		return AppendString(buf, v.Str)
	case schema.Array:
		if len(v.Items) == 0 {
			return append(buf, "[]"...)
		}
		buf = append(buf, '[')
		buf = append(buf, l.open(d)...)
		for i, it := range v.Items {
			if i > 0 {
				buf = append(buf, l.sep(d)...)
			}
			buf = appendValue(buf, it, l, o, d+1)
		}
		buf = append(buf, l.close(d)...)
		return append(buf, ']')
	case schema.Object:
		if len(v.Members) == 0 {
			return append(buf, "{}"...)
		}
		buf = append(buf, '{')
		buf = append(buf, l.open(d)...)
		for i, m := range o.sortMembers(v.Members) {
			if i > 0 {
				buf = append(buf, l.sep(d)...)
			}
			buf = AppendString(buf, m.Key)
			buf = append(buf, l.colon()...)
			buf = appendValue(buf, m.Value, l, o, d+1)
		}
		buf = append(buf, l.close(d)...)
		return append(buf, '}')
	}
	panic(fmt.Sprintf("lang: bad value kind %v", v.Kind))
}

// AppendString appends s as a JSON string the way Python's json.dumps with
// ensure_ascii=False writes it: characters raw, except '"' and '\\' and the
// control characters below U+0020, which use \" \\ \b \f \n \r \t or
// \u00xx (lower-case hex).
func AppendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			buf = append(buf, `\"`...)
		case '\\':
			buf = append(buf, `\\`...)
		case '\b':
			buf = append(buf, `\b`...)
		case '\f':
			buf = append(buf, `\f`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\r':
			buf = append(buf, `\r`...)
		case '\t':
			buf = append(buf, `\t`...)
		default:
			if c < 0x20 {
				buf = fmt.Appendf(buf, `\u%04x`, c)
			} else {
				buf = append(buf, c)
			}
		}
	}
	return append(buf, '"')
}

// FormatNumber spells a JSON number literal canonically: as an exact
// decimal without exponent, integers without a fraction ("1.0" → "1",
// "1e2" → "100"), no trailing fractional zeros, and "0" for negative zero.
// Literals whose exponent is beyond ±MaxExpandExponent are returned with
// only the exponent marker lower-cased, since expanding them would be huge.
func FormatNumber(lit string) string {
	neg, intPart, frac, exp, ok := splitNumber(lit)
	if !ok {
		return lit
	}
	if exp > MaxExpandExponent || exp < -MaxExpandExponent {
		return strings.Replace(lit, "E", "e", 1)
	}
	digits := intPart + frac
	point := len(intPart) + exp // position of the decimal point in digits
	for point > len(digits) {
		digits += "0"
	}
	for point < 0 {
		digits = "0" + digits
		point++
	}
	ip, fp := strings.TrimLeft(digits[:point], "0"), strings.TrimRight(digits[point:], "0")
	if ip == "" {
		ip = "0"
	}
	out := ip
	if fp != "" {
		out += "." + fp
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}

// MaxExpandExponent bounds the exponents FormatNumber expands into plain
// decimals (and the decimals the numeric-range lowering handles).
const MaxExpandExponent = 400

// splitNumber splits a JSON number literal into sign, integer digits,
// fraction digits and exponent.
func splitNumber(lit string) (neg bool, intPart, frac string, exp int, ok bool) {
	s := lit
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	mant := s
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e := s[i+1:]
		sign := 1
		if strings.HasPrefix(e, "+") {
			e = e[1:]
		} else if strings.HasPrefix(e, "-") {
			sign, e = -1, e[1:]
		}
		if e == "" {
			return
		}
		for _, c := range e {
			if c < '0' || c > '9' {
				return
			}
			exp = exp*10 + int(c-'0')
			if exp > 1<<20 {
				exp = 1 << 20
			}
		}
		exp *= sign
	}
	intPart = mant
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" {
		return
	}
	return neg, intPart, frac, exp, true
}
