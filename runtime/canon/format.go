package canon

import (
	"fmt"
	"slices"
	"sync"
)

// MaxDepth bounds the nesting of arrays and objects that Format reads. The
// compiler unrolls nesting to a far smaller depth (12 by default), so deeper
// texts are never the decoder's. The bound is what keeps the output small:
// the indent2 indentation of n nested containers is n² bytes, about 1 MB at
// 1 000 levels but 100 MB at 10 000 (from a 10 KB input).
const MaxDepth = 1000

// Error is a Format failure: the byte offset in the source text where it
// was found and the reason.
type Error struct {
	Offset int
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("canon: offset %d: %s", e.Offset, e.Reason) }

func errorf(off int, format string, args ...any) *Error {
	return &Error{Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// Format reads src as one JSON text (RFC 8259, whitespace around the value
// allowed) and appends to dst the text the decoder writes for its value: in
// layout l (Flexible writes no whitespace), the members of every object in
// order o (nil: all sorted by name), strings spelled by AppendString after
// decoding their escapes, numbers by FormatNumber, "{}" and "[]" for empty
// containers.
//
// It fails with an *Error for what is not such a text or could not be
// written by the decoder: malformed JSON, invalid UTF-8 in a string, an
// escaped lone surrogate, a repeated member name, nesting deeper than
// MaxDepth. On failure it returns dst unchanged.
func Format(dst, src []byte, l Layout, o *Order) ([]byte, error) {
	f := formatters.Get().(*formatter)
	defer f.release()
	f.src, f.pos, f.l, f.o = src, 0, l, o
	f.members, f.keys = f.members[:0], f.keys[:0]
	n := len(dst)
	f.skipWS()
	out, err := f.value(dst, 0)
	if err == nil {
		f.skipWS()
		if f.pos < len(src) {
			err = errorf(f.pos, "unexpected %s after the value", describe(src, f.pos))
		}
	}
	if err != nil {
		return dst[:n], err
	}
	return out, nil
}

// formatters keeps formatters with their buffers between calls.
var formatters = sync.Pool{New: func() any { return new(formatter) }}

type formatter struct {
	src []byte
	pos int
	l   Layout
	o   *Order
	// members of the objects being read, innermost last; keys holds their
	// decoded names; str and scratch are reused buffers
	members []member
	keys    []byte
	str     []byte
	scratch []byte
}

// member is one member of an object being read: its name is
// keys[name0:name1], its name at src[srcOff], its written text (name, colon,
// value) at dst[start:end].
type member struct {
	name0, name1 int
	rank         int
	srcOff       int
	start, end   int
}

// release returns f to the pool unless a huge text left it big buffers.
func (f *formatter) release() {
	const maxKeep = 64 << 10
	f.src, f.o = nil, nil
	if cap(f.scratch) <= maxKeep && cap(f.str) <= maxKeep && cap(f.keys) <= maxKeep {
		formatters.Put(f)
	}
}

func (f *formatter) skipWS() {
	for f.pos < len(f.src) {
		switch f.src[f.pos] {
		case ' ', '\t', '\n', '\r':
			f.pos++
		default:
			return
		}
	}
}

// value appends the value at f.pos; d is the depth of the containers it
// holds.
func (f *formatter) value(dst []byte, d int) ([]byte, error) {
	if f.pos >= len(f.src) {
		return dst, errorf(f.pos, "unexpected end of input, expecting a value")
	}
	switch c := f.src[f.pos]; {
	case c == '{' || c == '[':
		if d >= MaxDepth {
			return dst, errorf(f.pos, "nesting deeper than %d", MaxDepth)
		}
		if c == '{' {
			return f.object(dst, d)
		}
		return f.array(dst, d)
	case c == '"':
		var err error
		f.str, f.pos, err = decodeString(f.str[:0], f.src, f.pos)
		if err != nil {
			return dst, err
		}
		return appendString(dst, f.str), nil
	case c == '-' || (c >= '0' && c <= '9'):
		return f.number(dst)
	case c == 't':
		return f.literal(dst, "true")
	case c == 'f':
		return f.literal(dst, "false")
	case c == 'n':
		return f.literal(dst, "null")
	}
	return dst, errorf(f.pos, "unexpected %s, expecting a value", describe(f.src, f.pos))
}

func (f *formatter) literal(dst []byte, word string) ([]byte, error) {
	for i := 0; i < len(word); i++ {
		if f.pos+i >= len(f.src) || f.src[f.pos+i] != word[i] {
			return dst, errorf(f.pos+i, "unexpected %s in literal %s", describe(f.src, f.pos+i), word)
		}
	}
	f.pos += len(word)
	return append(dst, word...), nil
}

func (f *formatter) digits() int {
	n := 0
	for f.pos < len(f.src) && f.src[f.pos] >= '0' && f.src[f.pos] <= '9' {
		f.pos++
		n++
	}
	return n
}

// number checks the literal at f.pos and appends it as FormatNumber spells
// it, copying literals that are canonical already.
func (f *formatter) number(dst []byte) ([]byte, error) {
	start := f.pos
	canonical := true
	if f.src[f.pos] == '-' {
		f.pos++
	}
	if f.pos < len(f.src) && f.src[f.pos] == '0' {
		f.pos++
		if f.pos < len(f.src) && f.src[f.pos] >= '0' && f.src[f.pos] <= '9' {
			return dst, errorf(f.pos, "leading zero in number")
		}
		canonical = f.src[start] != '-' // "-0" is "0"
	} else if f.digits() == 0 {
		return dst, errorf(f.pos, "unexpected %s in number, expecting a digit", describe(f.src, f.pos))
	}
	if f.pos < len(f.src) && f.src[f.pos] == '.' {
		f.pos++
		if f.digits() == 0 {
			return dst, errorf(f.pos, "unexpected %s after decimal point, expecting a digit", describe(f.src, f.pos))
		}
		if f.src[f.pos-1] == '0' {
			canonical = false
		} else {
			canonical = true // "-0.5" is canonical
		}
	}
	if f.pos < len(f.src) && (f.src[f.pos] == 'e' || f.src[f.pos] == 'E') {
		canonical = false
		f.pos++
		if f.pos < len(f.src) && (f.src[f.pos] == '+' || f.src[f.pos] == '-') {
			f.pos++
		}
		if f.digits() == 0 {
			return dst, errorf(f.pos, "unexpected %s in exponent, expecting a digit", describe(f.src, f.pos))
		}
	}
	if canonical {
		return append(dst, f.src[start:f.pos]...), nil
	}
	return append(dst, FormatNumber(string(f.src[start:f.pos]))...), nil
}

func (f *formatter) array(dst []byte, d int) ([]byte, error) {
	f.pos++ // [
	f.skipWS()
	if f.pos < len(f.src) && f.src[f.pos] == ']' {
		f.pos++
		return append(dst, '[', ']'), nil
	}
	dst = f.l.appendOpen(append(dst, '['), d)
	for first := true; ; first = false {
		if !first {
			dst = f.l.appendSep(dst, d)
		}
		f.skipWS()
		var err error
		if dst, err = f.value(dst, d+1); err != nil {
			return dst, err
		}
		f.skipWS()
		if f.pos >= len(f.src) {
			return dst, errorf(f.pos, "unexpected end of input in array, expecting ',' or ']'")
		}
		switch f.src[f.pos] {
		case ',':
			f.pos++
		case ']':
			f.pos++
			return append(f.l.appendClose(dst, d), ']'), nil
		default:
			return dst, errorf(f.pos, "unexpected %s in array, expecting ',' or ']'", describe(f.src, f.pos))
		}
	}
}

func (f *formatter) object(dst []byte, d int) ([]byte, error) {
	f.pos++ // {
	f.skipWS()
	if f.pos < len(f.src) && f.src[f.pos] == '}' {
		f.pos++
		return append(dst, '{', '}'), nil
	}
	dst = append(dst, '{')
	body := len(dst)
	mbase, kbase := len(f.members), len(f.keys)
	defer func() { f.members, f.keys = f.members[:mbase], f.keys[:kbase] }()
	for {
		f.skipWS()
		if f.pos >= len(f.src) || f.src[f.pos] != '"' {
			return dst, errorf(f.pos, "unexpected %s in object, expecting a member name", describe(f.src, f.pos))
		}
		m := member{name0: len(f.keys), srcOff: f.pos}
		var err error
		if f.keys, f.pos, err = decodeString(f.keys, f.src, f.pos); err != nil {
			return dst, err
		}
		m.name1 = len(f.keys)
		name := f.keys[m.name0:m.name1]
		m.rank = f.o.rankBytes(name)
		f.skipWS()
		if f.pos >= len(f.src) || f.src[f.pos] != ':' {
			return dst, errorf(f.pos, "unexpected %s after member name, expecting ':'", describe(f.src, f.pos))
		}
		f.pos++
		f.skipWS()
		if len(f.members) == mbase {
			dst = f.l.appendOpen(dst, d)
		} else {
			dst = f.l.appendSep(dst, d)
		}
		m.start = len(dst)
		dst = f.l.appendColon(appendString(dst, name))
		if dst, err = f.value(dst, d+1); err != nil {
			return dst, err
		}
		m.end = len(dst)
		f.members = append(f.members, m)
		f.skipWS()
		if f.pos >= len(f.src) {
			return dst, errorf(f.pos, "unexpected end of input in object, expecting ',' or '}'")
		}
		if f.src[f.pos] == '}' {
			f.pos++
			break
		}
		if f.src[f.pos] != ',' {
			return dst, errorf(f.pos, "unexpected %s in object, expecting ',' or '}'", describe(f.src, f.pos))
		}
		f.pos++
	}
	ms := f.members[mbase:]
	if !slices.IsSortedFunc(ms, f.compare) {
		slices.SortStableFunc(ms, f.compare)
		f.scratch = append(f.scratch[:0], dst[body:]...)
		dst = dst[:body]
		for i, m := range ms {
			if i == 0 {
				dst = f.l.appendOpen(dst, d)
			} else {
				dst = f.l.appendSep(dst, d)
			}
			dst = append(dst, f.scratch[m.start-body:m.end-body]...)
		}
	}
	// equal names are neighbours now; report the repeat met first in src
	dup := -1
	for i := 1; i < len(ms); i++ {
		if f.compare(ms[i-1], ms[i]) == 0 && (dup < 0 || ms[i].srcOff < ms[dup].srcOff) {
			dup = i
		}
	}
	if dup >= 0 {
		return dst, errorf(ms[dup].srcOff, "duplicate member name %q", f.keys[ms[dup].name0:ms[dup].name1])
	}
	return append(f.l.appendClose(dst, d), '}'), nil
}

func (f *formatter) compare(a, b member) int {
	return compareNames(a.rank, b.rank, f.keys[a.name0:a.name1], f.keys[b.name0:b.name1])
}
