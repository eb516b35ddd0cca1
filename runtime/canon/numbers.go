package canon

import "strings"

// FormatNumber spells a JSON number literal canonically: as an exact
// decimal without exponent, integers without a fraction ("1.0" → "1",
// "1e2" → "100"), no trailing fractional zeros, and "0" for negative zero.
// Literals whose exponent is beyond ±MaxExpandExponent are returned with
// only the exponent marker lower-cased, since expanding them would be huge.
// lit must be a valid JSON number literal.
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
// decimals (and the decimals the compiler's numeric-range lowering
// handles): 10^400 written out is 401 bytes, past every float64.
const MaxExpandExponent = 400

// splitNumber splits a JSON number literal into sign, integer digits,
// fraction digits and exponent (clamped to ±2^20).
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
