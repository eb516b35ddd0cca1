package lang

import (
	"strings"

	"github.com/schemac-dev/schemac/compiler/rx"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/canon"
)

// numberGrammar is the JSON number grammar. Without exponent (exp false) it
// is the plain decimal form used when numeric keywords are present, and
// then negative zero is excluded. integer restricts to digits only.
func (l *Lowerer) numberGrammar(integer, exp bool) rx.Expr {
	b := l.b
	digit := b.Range('0', '9')
	intPart := b.Or(b.Byte('0'), b.Concat(b.Range('1', '9'), b.Star(digit)))
	frac := b.Opt(b.Concat(b.Byte('.'), b.Plus(digit)))
	if integer {
		frac = rx.Epsilon
	}
	if exp && !integer {
		e := b.Concat(b.Bytes(byteSet("eE")), b.Opt(b.Bytes(byteSet("+-"))), b.Plus(digit))
		return b.Concat(b.Opt(b.Byte('-')), intPart, frac, b.Opt(e))
	}
	if exp { // integers: the full grammar allows "-0"
		return b.Concat(b.Opt(b.Byte('-')), intPart)
	}
	nonneg := b.Concat(intPart, frac)
	return b.Or(nonneg, b.Concat(b.Byte('-'), b.Minus(nonneg, l.zero())))
}

func byteSet(s string) rx.ByteSet {
	var set rx.ByteSet
	for i := 0; i < len(s); i++ {
		set.Add(s[i])
	}
	return set
}

// zero is every plain spelling of zero: "0", "0.0", "0.00", …
func (l *Lowerer) zero() rx.Expr {
	b := l.b
	return b.Concat(b.Byte('0'), b.Opt(b.Concat(b.Byte('.'), b.Plus(b.Byte('0')))))
}

// number lowers "integer" or "number" with its numeric keywords.
func (l *Lowerer) number(v *schema.Value, c ctx, integer bool) (rx.Expr, error) {
	b := l.b

	var bounds []numBound
	draft4 := l.doc.DraftAt(v) == schema.Draft4
	for _, kw := range []string{"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"} {
		bv := v.Get(kw)
		if bv == nil || bv.Kind != schema.Number {
			continue // draft 4's boolean exclusive* modify minimum/maximum below
		}
		op := map[string]string{"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kw]
		if draft4 {
			if kw == "minimum" && v.Get("exclusiveMinimum") != nil && v.Get("exclusiveMinimum").Bool {
				op = ">"
			}
			if kw == "maximum" && v.Get("exclusiveMaximum") != nil && v.Get("exclusiveMaximum").Bool {
				op = "<"
			}
		}
		bounds = append(bounds, numBound{kw, bv, op})
	}
	mult := v.Get("multipleOf")
	if c.neg {
		// A superset of the valid spellings is needed: JSON Schema counts
		// 1.0 and 1e2 as integers, and exponent forms are not compared with
		// the bounds below, so all of them stay in.
		exp := b.Minus(l.numberGrammar(false, true), l.numberGrammar(false, false))
		base := l.numberGrammar(false, false)
		if integer {
			base = b.Concat(b.Opt(b.Byte('-')), l.numberGrammar(true, false), l.tailEq(""))
		}
		e, err := l.numericKeywords(bounds, mult, base, c)
		if err != nil {
			return rx.Nothing, err
		}
		return b.Or(e, exp, b.Concat(b.Byte('-'), l.zero())), nil
	}
	if !l.opt.BigNumbers {
		return l.numericKeywords(append(bounds, int64Bounds...), mult, l.goNumber(integer), c)
	}
	if len(bounds) == 0 && mult == nil {
		return l.numberGrammar(integer, true), nil
	}
	return l.numericKeywords(bounds, mult, l.numberGrammar(integer, false), c)
}

// int64Bounds keep integers in the range of Go's int64 (see
// Options.BigNumbers); they also hold for "number", where goNumber's 15
// digits are stricter.
var int64Bounds = []numBound{
	{"int64 minimum", &schema.Value{Kind: schema.Number, Num: "-9223372036854775808"}, ">="},
	{"int64 maximum", &schema.Value{Kind: schema.Number, Num: "9223372036854775807"}, "<="},
}

// MaxFloatDigits is the number of digits a "number" may have when
// Options.BigNumbers is off: any decimal of at most 15 significant digits
// is the shortest spelling of its float64, so it survives the round trip
// through Go's float64 unchanged (DBL_DIG is 15).
const MaxFloatDigits = 15

// goNumber is the plain decimal grammar (numberGrammar(integer, false))
// restricted, for "number", to at most MaxFloatDigits digits besides a
// leading "0".
func (l *Lowerer) goNumber(integer bool) rx.Expr {
	b := l.b
	base := l.numberGrammar(integer, false)
	if integer {
		return base
	}
	digit := b.Range('0', '9')
	frac := func(n int) rx.Expr { // an optional fraction of 1..n digits
		if n == 0 {
			return rx.Epsilon
		}
		return b.Opt(b.Concat(b.Byte('.'), b.Repeat(digit, 1, n)))
	}
	alts := []rx.Expr{b.Concat(b.Byte('0'), frac(MaxFloatDigits))}
	for i := 1; i <= MaxFloatDigits; i++ { // exactly i integer digits
		alts = append(alts, b.Concat(b.Range('1', '9'), b.Repeat(digit, i-1, i-1), frac(MaxFloatDigits-i)))
	}
	return b.And(base, b.Concat(b.Opt(b.Byte('-')), b.Or(alts...)))
}

type numBound struct {
	kw  string
	val *schema.Value
	op  string
}

// numericKeywords intersects base (plain decimal spellings) with the
// bounds and multipleOf.
func (l *Lowerer) numericKeywords(bounds []numBound, mult *schema.Value, base rx.Expr, c ctx) (rx.Expr, error) {
	b := l.b
	parts := []rx.Expr{base}
	for _, bd := range bounds {
		neg, ip, fp, ok := exactDecimal(bd.val.Num)
		if !ok {
			if c.neg {
				continue
			}
			return rx.Nothing, l.errf(schema.TooLarge, bd.val, "%s %s: exponent beyond ±%d", bd.kw, bd.val.Num, canon.MaxExpandExponent)
		}
		parts = append(parts, l.compare(bd.op, neg, ip, fp))
	}
	if mult != nil {
		e, err := l.multipleOf(mult)
		if err != nil {
			if c.neg {
				return b.And(parts...), nil
			}
			return rx.Nothing, err
		}
		parts = append(parts, e)
	}
	return b.And(parts...), nil
}

// exactDecimal splits a literal into sign, canonical integer digits (no
// leading zeros, "0" for none) and fraction digits (no trailing zeros).
func exactDecimal(lit string) (neg bool, ip, fp string, ok bool) {
	s := canon.FormatNumber(lit)
	if strings.ContainsAny(s, "eE") {
		return false, "", "", false
	}
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	ip, fp, _ = strings.Cut(s, ".")
	return neg, ip, fp, true
}

// compare is the language of plain decimals x (numberGrammar(false, false)
// spelling) with x op B, where B = (-1 if neg) · ip.fp.
func (l *Lowerer) compare(op string, neg bool, ip, fp string) rx.Expr {
	b := l.b
	if ip == "0" && fp == "" {
		neg = false
	}
	nn := l.nonneg()
	pos := b.Minus(nn, l.zero())
	gt := l.gtNonneg(ip, fp)
	eq := b.Concat(b.Literal(ip), l.tailEq(fp))
	minus := func(e rx.Expr) rx.Expr { return b.Concat(b.Byte('-'), b.And(pos, e)) }
	negatives := b.Concat(b.Byte('-'), pos)
	ge := b.Or(gt, eq)
	switch {
	case op == ">=" && !neg:
		return ge
	case op == ">" && !neg:
		return gt
	case op == "<=" && !neg:
		return b.Or(b.Minus(nn, gt), negatives)
	case op == "<" && !neg:
		return b.Or(b.Minus(nn, ge), negatives)
	case op == ">=": // x ≥ -C ⇔ x ≥ 0 or |x| ≤ C
		return b.Or(nn, minus(b.Minus(nn, gt)))
	case op == ">":
		return b.Or(nn, minus(b.Minus(nn, ge)))
	case op == "<=": // x ≤ -C ⇔ x < 0 and |x| ≥ C
		return minus(ge)
	default: // "<" with negative bound
		return minus(gt)
	}
}

// nonneg is every non-negative plain decimal: an integer part without
// leading zeros and an optional fraction.
func (l *Lowerer) nonneg() rx.Expr {
	b := l.b
	digit := b.Range('0', '9')
	intPart := b.Or(b.Byte('0'), b.Concat(b.Range('1', '9'), b.Star(digit)))
	return b.Concat(intPart, l.tailAll())
}

func (l *Lowerer) tailAll() rx.Expr {
	b := l.b
	return b.Opt(b.Concat(b.Byte('.'), b.Plus(b.Range('0', '9'))))
}

// gtNonneg: non-negative decimals greater than ip.fp.
func (l *Lowerer) gtNonneg(ip, fp string) rx.Expr {
	b := l.b
	digit := b.Range('0', '9')
	// integer part greater: longer, or same length and larger at the first difference
	var alts []rx.Expr
	alts = append(alts, b.Concat(b.Range('1', '9'), b.Repeat(digit, len(ip), -1)))
	for k := 0; k < len(ip); k++ {
		if ip[k] == '9' {
			continue
		}
		lo := ip[k] + 1
		if k == 0 && lo == '0' {
			lo = '1'
		}
		if k == 0 && len(ip) > 1 && lo < '1' {
			lo = '1'
		}
		alts = append(alts, b.Concat(b.Literal(ip[:k]), b.Range(lo, '9'), b.Repeat(digit, len(ip)-k-1, len(ip)-k-1)))
	}
	intGT := b.Concat(b.Or(alts...), l.tailAll())
	// same integer part, larger fraction
	var fr []rx.Expr
	for k := 0; k < len(fp); k++ {
		if fp[k] == '9' {
			continue
		}
		fr = append(fr, b.Concat(b.Literal(fp[:k]), b.Range(fp[k]+1, '9'), b.Star(digit)))
	}
	fr = append(fr, b.Concat(b.Literal(fp), b.Star(digit), b.Range('1', '9'), b.Star(digit)))
	fracGT := b.Concat(b.Byte('.'), b.And(b.Or(fr...), b.Plus(digit)))
	return b.Or(intGT, b.Concat(b.Literal(ip), fracGT))
}

// tailEq: the fraction spellings equal to 0.fp (fp has no trailing zeros).
func (l *Lowerer) tailEq(fp string) rx.Expr {
	b := l.b
	if fp == "" {
		return b.Opt(b.Concat(b.Byte('.'), b.Plus(b.Byte('0'))))
	}
	return b.Concat(b.Byte('.'), b.Literal(fp), b.Star(b.Byte('0')))
}

// multipleOf builds the plain decimals that are integer multiples of
// m = p/10^s, by tracking the residue mod p of the digits read so far.
func (l *Lowerer) multipleOf(mv *schema.Value) (rx.Expr, error) {
	neg, ip, fp, ok := exactDecimal(mv.Num)
	if !ok || neg || (ip == "0" && fp == "") {
		return rx.Nothing, l.errf(schema.Unsupported, mv, "multipleOf %s", mv.Num)
	}
	s := len(fp)
	digits := strings.TrimLeft(ip+fp, "0")
	p := 0
	for _, ch := range digits {
		p = p*10 + int(ch-'0')
		if p*(s+2) > MaxModulus {
			return rx.Nothing, l.errf(schema.TooLarge, mv, "multipleOf %s: more than %d states to track its residues", mv.Num, MaxModulus)
		}
	}
	// states: 0 start, 1 after '-', I(r)=2+r, D(r)=2+p+r (after '.'),
	// F(j,r)=2+2p+(j-1)p+r for j=1..s, Z=2+2p+sp (only zeros may follow)
	I := func(r int) int32 { return int32(2 + r) }
	D := func(r int) int32 { return int32(2 + p + r) }
	F := func(j, r int) int32 { return int32(2 + 2*p + (j-1)*p + r) }
	Z := int32(2 + 2*p + s*p)
	n := int(Z) + 1
	pow10 := func(k int) int { // 10^k mod p
		x := 1 % p
		for ; k > 0; k-- {
			x = x * 10 % p
		}
		return x
	}
	accept := make([]bool, n)
	for r := 0; r < p; r++ {
		accept[I(r)] = r*pow10(s)%p == 0
		for j := 1; j <= s; j++ {
			accept[F(j, r)] = r*pow10(s-j)%p == 0
		}
	}
	accept[Z] = true
	next := func(st int32, c byte) int32 {
		isDigit := c >= '0' && c <= '9'
		d := int(c - '0')
		switch {
		case st == 0 && c == '-':
			return 1
		case st <= 1 && isDigit:
			return I(d % p)
		case st == Z:
			if c == '0' {
				return Z
			}
			return -1
		case st >= I(0) && st < D(0):
			r := int(st - I(0))
			if isDigit {
				return I((r*10 + d) % p)
			}
			if c == '.' {
				return D(r)
			}
		case st >= D(0) && st < F(1, 0) || (s == 0 && st >= D(0) && st < Z):
			r := int(st - D(0))
			if s == 0 {
				if c == '0' && r == 0 {
					return Z
				}
				return -1
			}
			if isDigit {
				return F(1, (r*10+d)%p)
			}
		case st >= F(1, 0) && st < Z:
			j, r := int(st-F(1, 0))/p+1, int(st-F(1, 0))%p
			if !isDigit {
				return -1
			}
			if j < s {
				return F(j+1, (r*10+d)%p)
			}
			if c == '0' && r == 0 {
				return Z
			}
		}
		return -1
	}
	dfa := rx.Build(n, 0, accept, next)
	return l.b.FromDFA(dfa, dfa.Start), nil
}
