package schema

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays and objects ParseJSON accepts;
// deeper input gives an error with Code TooLarge.
const MaxDepth = 10000

// ParseJSON parses one JSON text (RFC 8259) into a tree of Values keeping
// member order and number literals; name is the file name used in errors.
//
// It is stricter than encoding/json: duplicate member names, invalid UTF-8
// and unpaired UTF-16 surrogate escapes are errors, as is anything but
// whitespace after the value. A leading UTF-8 byte order mark is skipped.
// Errors are *Error values with Code Invalid (TooLarge for nesting deeper than
// MaxDepth), the line and column of the problem, and the pointer of the
// value being read (for a duplicate, the pointer of the duplicated member).
func ParseJSON(data []byte, name string) (*Value, error) {
	p := &parser{data: data, name: name}
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		p.pos = 3
	}
	p.skipSpace()
	v, err := p.value("", 0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.data) {
		return nil, p.errf(p.pos, "", "unexpected %s after top-level value", p.describe(p.pos))
	}
	return v, nil
}

type parser struct {
	data []byte
	pos  int
	name string
}

// errf builds a malformed-JSON error at byte offset off.
func (p *parser) errf(off int, ptr, format string, args ...any) *Error {
	line, col := p.lineCol(off)
	return &Error{
		Code: Invalid, File: p.name, Ptr: ptr, Line: line, Col: col,
		Msg: "malformed JSON: " + fmt.Sprintf(format, args...),
	}
}

func (p *parser) lineCol(off int) (line, col int) {
	if off > len(p.data) {
		off = len(p.data)
	}
	line = 1
	start := 0
	for i := 0; i < off; i++ {
		if p.data[i] == '\n' {
			line++
			start = i + 1
		}
	}
	if start == 0 && len(p.data) >= 3 && p.data[0] == 0xEF && p.data[1] == 0xBB && p.data[2] == 0xBF {
		start = min(3, off)
	}
	return line, utf8.RuneCount(p.data[start:off]) + 1
}

// describe names the input at off for error messages.
func (p *parser) describe(off int) string {
	if off >= len(p.data) {
		return "end of input"
	}
	r, size := utf8.DecodeRune(p.data[off:])
	if r == utf8.RuneError && size == 1 {
		return fmt.Sprintf("byte 0x%02x", p.data[off])
	}
	return fmt.Sprintf("character %q", r)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(ptr string, depth int) (*Value, error) {
	if p.pos >= len(p.data) {
		return nil, p.errf(p.pos, ptr, "unexpected end of input, expecting a value")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(ptr, depth+1)
	case c == '[':
		return p.array(ptr, depth+1)
	case c == '"':
		s, err := p.str(ptr)
		if err != nil {
			return nil, err
		}
		return &Value{Kind: String, Str: s, Ptr: ptr}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number(ptr)
	case c == 't':
		return p.literal(ptr, "true", &Value{Kind: Bool, Bool: true, Ptr: ptr})
	case c == 'f':
		return p.literal(ptr, "false", &Value{Kind: Bool, Ptr: ptr})
	case c == 'n':
		return p.literal(ptr, "null", &Value{Kind: Null, Ptr: ptr})
	}
	return nil, p.errf(p.pos, ptr, "unexpected %s, expecting a value", p.describe(p.pos))
}

func (p *parser) literal(ptr, word string, v *Value) (*Value, error) {
	for i := 0; i < len(word); i++ {
		if p.pos+i >= len(p.data) || p.data[p.pos+i] != word[i] {
			return nil, p.errf(p.pos+i, ptr, "unexpected %s in literal %s", p.describe(p.pos+i), word)
		}
	}
	p.pos += len(word)
	return v, nil
}

func (p *parser) digits() int {
	n := 0
	for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
		p.pos++
		n++
	}
	return n
}

func (p *parser) number(ptr string) (*Value, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '0' {
		p.pos++
		if p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			return nil, p.errf(p.pos, ptr, "leading zero in number")
		}
	} else if p.digits() == 0 {
		return nil, p.errf(p.pos, ptr, "unexpected %s in number, expecting a digit", p.describe(p.pos))
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if p.digits() == 0 {
			return nil, p.errf(p.pos, ptr, "unexpected %s after decimal point, expecting a digit", p.describe(p.pos))
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, p.errf(p.pos, ptr, "unexpected %s in exponent, expecting a digit", p.describe(p.pos))
		}
	}
	return &Value{Kind: Number, Num: string(p.data[start:p.pos]), Ptr: ptr}, nil
}

// str reads a string starting at the opening quote.
func (p *parser) str(ptr string) (string, error) {
	p.pos++ // opening quote
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			if !utf8.Valid(s) {
				return "", p.badUTF8(start, ptr)
			}
			p.pos++
			return string(s), nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		p.pos++
	}
	var b strings.Builder
	b.Write(p.data[start:p.pos])
	for {
		if p.pos >= len(p.data) {
			return "", p.errf(p.pos, ptr, "unexpected end of input in string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			s := b.String()
			if !utf8.ValidString(s) {
				return "", p.badUTF8(start, ptr)
			}
			return s, nil
		case c < 0x20:
			return "", p.errf(p.pos, ptr, "control character U+%04X in string must be escaped", c)
		case c == '\\':
			if p.pos+1 >= len(p.data) {
				return "", p.errf(p.pos+1, ptr, "unexpected end of input in string escape")
			}
			e := p.data[p.pos+1]
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := p.hex4(p.pos + 2)
				if !ok {
					return "", p.errf(p.pos, ptr, "invalid \\u escape in string")
				}
				n := 6
				if utf16.IsSurrogate(r) {
					r2, ok := rune(0), false
					if p.pos+n+1 < len(p.data) && p.data[p.pos+n] == '\\' && p.data[p.pos+n+1] == 'u' {
						r2, ok = p.hex4(p.pos + n + 2)
					}
					dec := utf16.DecodeRune(r, r2)
					if !ok || dec == utf8.RuneError {
						return "", p.errf(p.pos, ptr, "unpaired UTF-16 surrogate \\u%04x in string", r)
					}
					r = dec
					n += 6
				}
				b.WriteRune(r)
				p.pos += n
				continue
			default:
				return "", p.errf(p.pos, ptr, "invalid escape \\%c in string", e)
			}
			p.pos += 2
		default:
			end := p.pos + 1
			for end < len(p.data) && p.data[end] != '"' && p.data[end] != '\\' && p.data[end] >= 0x20 {
				end++
			}
			b.Write(p.data[p.pos:end])
			p.pos = end
		}
	}
}

func (p *parser) hex4(off int) (rune, bool) {
	if off+4 > len(p.data) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.data[off:off+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// badUTF8 reports the first invalid UTF-8 byte at or after off.
func (p *parser) badUTF8(off int, ptr string) *Error {
	for off < len(p.data) {
		r, size := utf8.DecodeRune(p.data[off:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		off += size
	}
	return p.errf(off, ptr, "invalid UTF-8 in string")
}

func (p *parser) checkDepth(ptr string, depth int) error {
	if depth > MaxDepth {
		line, col := p.lineCol(p.pos)
		return &Error{Code: TooLarge, File: p.name, Ptr: ptr, Line: line, Col: col,
			Msg: fmt.Sprintf("JSON nesting deeper than %d", MaxDepth)}
	}
	return nil
}

func (p *parser) array(ptr string, depth int) (*Value, error) {
	if err := p.checkDepth(ptr, depth); err != nil {
		return nil, err
	}
	v := &Value{Kind: Array, Ptr: ptr, Items: []*Value{}}
	p.pos++ // [
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		it, err := p.value(ptr+"/"+strconv.Itoa(len(v.Items)), depth)
		if err != nil {
			return nil, err
		}
		v.Items = append(v.Items, it)
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errf(p.pos, ptr, "unexpected end of input in array, expecting ',' or ']'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return nil, p.errf(p.pos, ptr, "unexpected %s in array, expecting ',' or ']'", p.describe(p.pos))
		}
	}
}

func (p *parser) object(ptr string, depth int) (*Value, error) {
	if err := p.checkDepth(ptr, depth); err != nil {
		return nil, err
	}
	v := &Value{Kind: Object, Ptr: ptr, Members: []Member{}}
	var seen map[string]struct{}
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errf(p.pos, ptr, "unexpected %s in object, expecting a member name", p.describe(p.pos))
		}
		keyPos := p.pos
		key, err := p.str(ptr)
		if err != nil {
			return nil, err
		}
		mptr := ptr + "/" + escapeToken(key)
		dup := false
		if seen != nil {
			_, dup = seen[key]
		} else {
			for _, m := range v.Members {
				if m.Key == key {
					dup = true
					break
				}
			}
		}
		if dup {
			line, col := p.lineCol(keyPos)
			return nil, &Error{Code: Invalid, File: p.name, Ptr: mptr, Line: line, Col: col,
				Msg: fmt.Sprintf("duplicate member name %q", key)}
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errf(p.pos, mptr, "unexpected %s after member name, expecting ':'", p.describe(p.pos))
		}
		p.pos++
		p.skipSpace()
		mv, err := p.value(mptr, depth)
		if err != nil {
			return nil, err
		}
		v.Members = append(v.Members, Member{key, mv})
		if seen == nil && len(v.Members) > 8 {
			seen = make(map[string]struct{}, 16)
			for _, m := range v.Members {
				seen[m.Key] = struct{}{}
			}
		} else if seen != nil {
			seen[key] = struct{}{}
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.errf(p.pos, ptr, "unexpected end of input in object, expecting ',' or '}'")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return nil, p.errf(p.pos, ptr, "unexpected %s in object, expecting ',' or '}'", p.describe(p.pos))
		}
	}
}
