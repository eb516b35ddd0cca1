package lang

import (
	"sync"

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
	if len(value) == 0 && (max > 0 || (max < 0 && min > 0)) && (max < 0 || min <= max) && min <= maxCounted && max <= maxCounted {
		// length only: the automaton that spelled builds, built directly
		return l.countedString(min, max), nil
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
	sd, err := l.spelledDFA(value, controls)
	if err != nil {
		return rx.Nothing, err
	}
	b := l.b
	return b.Concat(b.Byte('"'), b.FromDFA(sd, sd.Start), b.Byte('"')), nil
}

// spelledDFA is the DFA of spelled's language without the quotes.
func (l *Lowerer) spelledDFA(value rx.Expr, controls bool) (*rx.DFA, error) {
	b := l.b
	vd, start, ok := b.AsDFA(value)
	if !ok || start != vd.Start {
		var err error
		if vd, err = b.Compile(value, rx.Options{}); err != nil {
			return nil, err
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
	return rx.BuildWithBounds(n*int(k), vd.Start*k, accept, bounds, next), nil
}

// maxCounted bounds the counts that countedString builds directly: past
// it, compiling the value DFA (about 8 states per character) may hit
// rx.DefaultMaxStates, and the compile must keep failing the same way.
const maxCounted = 1 << 16

// anyRuneDFA is the value DFA of Repeat(AnyRune(), 0, 1) that Compile
// builds: the start state, the accepting state after one code point (no
// way on) and the states inside a multi-byte UTF-8 sequence. Its byte
// classes are those of the value DFA of every Repeat(AnyRune(), min, max)
// with max ≠ 0, since the class boundaries of each expression state depend
// only on which part of a code point it is in, not on the count.
var anyRuneDFA = sync.OnceValue(func() *rx.DFA {
	b := rx.NewBuilder()
	d, err := b.Compile(b.Repeat(b.AnyRune(), 0, 1), rx.Options{})
	if err != nil {
		panic(err)
	}
	return d
})

// countedString is spelled(Repeat(AnyRune(), min, max), false) (max > 0,
// or max < 0 and min > 0; min ≤ max) without compiling the value DFA or
// minimizing the spelled one: the minimal automaton is known. Per count i
// of characters so far (0..max, or 0..min where the count stops mattering
// when max < 0) it has the state between characters (accepting from min
// on), the state after a backslash and the states inside a multi-byte
// UTF-8 sequence (those of anyRuneDFA), the same states spelled builds; no
// two of them accept the same language; at count max only the state
// between characters is live, and with max < 0 the states inside a
// character at count min are those at min-1. rx.BuildMinimal numbers the states as
// Minimize would, and the classes are spelled's, so the DFA is the one
// spelled returns.
func (l *Lowerer) countedString(min, max int) rx.Expr {
	b := l.b
	sd := countedStringDFA(min, max)
	return b.Concat(b.Byte('"'), b.FromDFA(sd, sd.Start), b.Byte('"'))
}

// countedStringDFA is the DFA of countedString's language without the
// quotes.
func countedStringDFA(min, max int) *rx.DFA {
	vd := anyRuneDFA()
	// vd's states: start (between characters), done (one code point read,
	// no way on) and the partial sequences, which get slots 2.. per count
	// (slot 0: between characters, slot 1: after a backslash)
	nv := int32(vd.NumStates())
	done := int32(-1)
	slot := make([]int32, nv)
	partial := []int32{-1, -1}
	for s := int32(0); s < nv; s++ {
		if s == vd.Start {
			continue
		}
		live := false
		for c := 0; c < 256 && !live; c++ {
			live = vd.Step(s, byte(c)) >= 0
		}
		if vd.Accept[s] && !live {
			done = s
			continue
		}
		slot[s] = int32(len(partial))
		partial = append(partial, s)
	}
	S := int32(len(partial))
	last := max // the last count with states of its own
	if max < 0 {
		last = min
	}
	n := (last + 1) * int(S)
	accept := make([]bool, n)
	for i := min; i <= last; i++ {
		accept[i*int(S)] = true
	}
	var short [256]byte
	for c, v := range map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'} {
		short[c] = v
	}
	next := func(st int32, c byte) int32 {
		i, j := st/S, st%S
		if int(i) == max {
			return -1
		}
		// unbounded: past min the count stops, and the states inside a
		// character at min are those at min-1 (both lead to min)
		in := i
		if max < 0 && int(i) == last {
			in = i - 1
		}
		var t int32
		switch j {
		case 0:
			if c == '\\' {
				return in*S + 1
			}
			if c < 0x20 || c == '"' {
				return -1
			}
			t = vd.Step(vd.Start, c)
		case 1:
			v := short[c]
			if v == 0 {
				return -1
			}
			t = vd.Step(vd.Start, v)
		default:
			t = vd.Step(partial[j], c)
		}
		switch {
		case t < 0:
			return -1
		case t == done:
			if int(i) < last {
				i++
			}
			return i * S
		}
		return in*S + slot[t]
	}
	// the classes of spelled: the value DFA's, refined by the bytes that
	// escapes single out
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
	return rx.BuildMinimal(n, 0, accept, bounds, next)
}
