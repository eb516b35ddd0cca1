package lang

import (
	"github.com/schemac-dev/schemac/compiler/format"
	"github.com/schemac-dev/schemac/compiler/pattern"
	"github.com/schemac-dev/schemac/compiler/rx"
	"github.com/schemac-dev/schemac/compiler/schema"
)

// jsonChar is one character of a JSON string in the full grammar: a raw
// code point other than '"', '\\' and controls, a short escape, a \uXXXX
// escape of a non-surrogate, or a surrogate pair of \u escapes.
func (l *Lowerer) jsonChar() rx.Expr {
	if e, ok := l.value["jsonChar"]; ok {
		return e
	}
	b := l.b
	raw := b.Minus(b.RuneRange(0x20, 0x10FFFF), b.Bytes(byteSet(`"\`)))
	hex := b.Bytes(byteSet("0123456789abcdefABCDEF"))
	hex4 := b.Repeat(hex, 4, 4)
	u := b.Literal(`\u`)
	high := b.Concat(u, b.Bytes(byteSet("dD")), b.Bytes(byteSet("89abAB")), hex, hex)
	low := b.Concat(u, b.Bytes(byteSet("dD")), b.Bytes(byteSet("cdefCDEF")), hex, hex)
	surrogate := b.Concat(b.Bytes(byteSet("dD")), b.Bytes(byteSet("89abcdefABCDEF")), hex, hex)
	e := b.Or(raw,
		b.Concat(b.Byte('\\'), b.Bytes(byteSet(`"\/bfnrt`))),
		b.Concat(u, b.Minus(hex4, surrogate)),
		b.Concat(high, low))
	l.value["jsonChar"] = e
	return e
}

// standardFormats are the formats JSON Schema defines; validators check
// them, so one we cannot lower is unsupported. Other format names are
// annotations.
var standardFormats = map[string]bool{
	"date-time": true, "date": true, "time": true, "duration": true, "email": true, "idn-email": true,
	"hostname": true, "idn-hostname": true, "ipv4": true, "ipv6": true, "uri": true, "uri-reference": true,
	"iri": true, "iri-reference": true, "uuid": true, "uri-template": true, "json-pointer": true,
	"relative-json-pointer": true, "regex": true,
}

// stringText is a JSON string of min..max characters (max < 0: unbounded)
// in the full string grammar.
func (l *Lowerer) stringText(min, max int) rx.Expr {
	b := l.b
	return b.Concat(b.Byte('"'), b.Repeat(l.jsonChar(), min, max), b.Byte('"'))
}

// str lowers "string" with its keywords.
func (l *Lowerer) str(v *schema.Value, c ctx) (rx.Expr, error) {
	b := l.b
	min, max := 0, -1
	if m := v.Get("minLength"); m != nil {
		n, err := l.count(m)
		if err != nil {
			return rx.Nothing, err
		}
		min = n
	}
	if m := v.Get("maxLength"); m != nil {
		n, err := l.count(m)
		if err != nil {
			return rx.Nothing, err
		}
		max = n
	}
	var value []rx.Expr // value-level constraints
	if p := v.Get("pattern"); p != nil {
		search := pattern.SearchPortable // must hold under ECMA-262 and RE2 readings
		if c.neg {
			search = pattern.SearchEither
		}
		e, err := search(b, p.Str)
		switch {
		case err == nil:
			value = append(value, e)
		case c.neg:
			// dropped: a superset is fine here
		default:
			return rx.Nothing, l.patternError(p, err)
		}
	}
	if f := v.Get("format"); f != nil && f.Kind == schema.String {
		e, ok := format.Lang(b, f.Str)
		switch {
		case ok:
			value = append(value, e)
		case c.neg || !standardFormats[f.Str]:
			// Formats outside the specification (OpenAPI's "password",
			// "byte", …) assert nothing: validators ignore them.
		default:
			return rx.Nothing, l.unsupported(v, "format %q", f.Str)
		}
	}
	if len(value) == 0 && min == 0 && max < 0 {
		return l.stringText(0, -1), nil
	}
	// control characters need \u00XX escapes; length-only strings leave
	// them out (see the package doc), patterns and formats keep them
	controls := len(value) > 0
	if len(value) == 1 && (min > 0 || max >= 0) {
		// a format or pattern whose strings all have an allowed length
		// (format "email" with maxLength 254, say): the same DFA as
		// compiling the intersection, without exploring it
		if d, s, ok := b.AsDFA(value[0]); ok && s == d.Start {
			if vd, ok := b.LengthImplied(d, min, max); ok {
				return l.spelled(b.FromDFA(vd, vd.Start), controls)
			}
		}
	}
	if min > 0 || max >= 0 || len(value) != 1 {
		// (pattern and format languages hold only valid UTF-8 already)
		value = append(value, b.Repeat(b.AnyRune(), min, max))
	}
	return l.spelled(b.And(value...), controls)
}

func (l *Lowerer) patternError(p *schema.Value, err error) error {
	if pe, ok := err.(*pattern.Error); ok && !pe.Unsupported {
		return l.errf(schema.Invalid, p, "%v", err)
	}
	return l.errf(schema.Unsupported, p, "%v", err)
}

// count reads a non-negative integer keyword bounded by MaxExplicitItems×1000.
func (l *Lowerer) count(m *schema.Value) (int, error) {
	neg, ip, fp, ok := exactDecimal(m.Num)
	if !ok || neg || fp != "" || len(ip) > 9 {
		return 0, l.errf(schema.TooLarge, m, "count %s", m.Num)
	}
	n := 0
	for _, ch := range ip {
		n = n*10 + int(ch-'0')
	}
	return n, nil
}

// spelled turns a language of string values (UTF-8 bytes) into the
// language of their JSON spellings, quotes included: characters raw where
// JSON allows, escapes \" \\ \/ \b \f \n \r \t, and with controls also
// \u00XX (either case) for the other control characters; without, those
// control characters are never written (see the package doc: they would
// multiply the states of length-counted strings). It works on the value
// DFA: every value state s gains helper states for "after \", "after \u",
// "\u0", "\u00", "\u000" and "\u001" (unreachable ones are trimmed).
func (l *Lowerer) spelled(value rx.Expr, controls bool) (rx.Expr, error) {
	b := l.b
	vd, start, ok := b.AsDFA(value)
	if !ok || start != vd.Start {
		var err error
		if vd, err = b.Compile(value, rx.Options{}); err != nil {
			return rx.Nothing, err
		}
	}
	n := vd.NumStates()
	if controls { // the \u00XX paths only matter if some control character is live
		controls = false
		for c := byte(0); c < 0x20 && !controls; c++ {
			if c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t' {
				continue
			}
			for s := int32(0); s < int32(n); s++ {
				if vd.Step(s, c) >= 0 {
					controls = true
					break
				}
			}
		}
	}
	k := int32(7) // value state, \, \u, \u0, \u00, \u000, \u001
	if !controls {
		k = 2 // value state, \
	}
	accept := make([]bool, n*int(k))
	for s := 0; s < n; s++ {
		accept[s*int(k)] = vd.Accept[s]
	}
	// short[c] is the byte that the escape \c stands for, 0 if none
	var short [256]byte
	for c, v := range map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'} {
		short[c] = v
	}
	hexVal := func(c byte) int {
		switch {
		case c >= '0' && c <= '9':
			return int(c - '0')
		case c >= 'a' && c <= 'f':
			return int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			return int(c-'A') + 10
		}
		return -1
	}
	next := func(st int32, c byte) int32 {
		s, h := st/k, st%k
		step := func(v byte) int32 {
			t := vd.Step(s, v)
			if t < 0 {
				return -1
			}
			return t * k
		}
		switch h {
		case 0:
			if c == '\\' {
				return st + 1
			}
			if c < 0x20 || c == '"' {
				return -1
			}
			return step(c)
		case 1:
			if c == 'u' && controls {
				return st + 1
			}
			if v := short[c]; v != 0 {
				return step(v)
			}
		case 2, 3:
			if c == '0' {
				return st + 1
			}
		case 4:
			if c == '0' {
				return st + 1
			}
			if c == '1' {
				return st + 2
			}
		case 5, 6:
			if x := hexVal(c); x >= 0 {
				return step(byte(int(h-5)*16 + x))
			}
		}
		return -1
	}
	// next is constant between the value DFA's class boundaries, refined
	// by the bytes that escapes single out
	var bounds rx.ByteSet
	for c := 1; c < 256; c++ {
		if vd.Class[c] != vd.Class[c-1] {
			bounds.Add(byte(c))
		}
	}
	bounds.Add(0x20)
	for _, c := range []byte(`"\/bfnrtu0123456789abcdefABCDEF`) {
		bounds.Add(c)
		bounds.Add(c + 1)
	}
	sd := rx.BuildWithBounds(n*int(k), vd.Start*k, accept, bounds, next)
	return b.Concat(b.Byte('"'), b.FromDFA(sd, sd.Start), b.Byte('"')), nil
}
