package canon

import (
	"strconv"
	"strings"
)

// PointerAt returns the RFC 6901 JSON pointer of the innermost member value
// or array element of text that holds byte off: whose text runs from its
// first byte to its last one and contains off, or that is still being
// written when the text stops at off = len(text) (a string without its
// closing quote, a number, an unfinished literal or container). Bytes
// outside every member value and element — names, colons, commas,
// whitespace and brackets of a container — belong to the container. The
// root is "".
//
// It is meant for canonical text (Format's output) and prefixes of it, and
// reads anything else leniently; off is clamped to [0, len(text)]. It never
// panics.
func PointerAt(text []byte, off int) string {
	off = max(0, min(off, len(text)))
	var p pointerScan
	for i := 0; i < len(text); {
		c := text[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		if i > off || p.rootDone {
			break
		}
		n := len(p.open)
		if p.expectsValue(c) {
			switch c {
			case '{', '[':
				p.open = append(p.open, container{obj: c == '{'})
				i++
				continue
			case '"':
				end, closed := stringEnd(text, i)
				if off < end || !closed {
					return p.pointer(n)
				}
				i = end
			default:
				end := i
				for end < len(text) && !isDelim(text[end]) {
					end++
				}
				word := string(text[i:end])
				done := end < len(text) || word == "true" || word == "false" || word == "null"
				if off < end || !done {
					return p.pointer(n)
				}
				i = end
			}
			p.valueDone()
			continue
		}
		if n == 0 { // not a value where the root should be: skip it
			i++
			continue
		}
		top := &p.open[n-1]
		switch c {
		case '}', ']':
			if i == off {
				return p.pointer(n - 1)
			}
			p.open = p.open[:n-1]
			p.valueDone()
		case ',':
			if top.obj {
				top.state = wantName
			} else {
				top.index++
				top.state = wantValue
			}
		case ':':
			if top.obj && top.state == wantColon {
				top.state = wantValue
			}
		case '"': // a member name (or a string out of place, read as one)
			end, closed := stringEnd(text, i)
			top.name = pointerName(text[i:end], closed)
			top.state = wantColon
			i = end
			continue
		}
		i++
	}
	if len(p.open) == 0 {
		return ""
	}
	return p.pointer(len(p.open) - 1)
}

// pointerScan is the state of PointerAt: the containers open at the scan
// position, outermost first, each with its current member or element.
type pointerScan struct {
	open     []container
	rootDone bool
}

type container struct {
	obj   bool
	state int
	index int    // the current element of an array
	name  string // the current member of an object, escaped for a pointer
}

// The states of a container (the zero value is the state after its
// bracket).
const (
	wantFirst = iota // "{" or "[" read
	wantName         // "," read in an object
	wantColon        // a member name read
	wantValue        // ":" read in an object, "," in an array
	wantComma        // a member value or element read
)

// expectsValue reports whether c starts a value at the scan position.
func (p *pointerScan) expectsValue(c byte) bool {
	if isDelim(c) && c != '{' && c != '[' && c != '"' {
		return false
	}
	if len(p.open) == 0 {
		return true
	}
	top := p.open[len(p.open)-1]
	return top.state == wantValue || (!top.obj && top.state == wantFirst)
}

func (p *pointerScan) valueDone() {
	if len(p.open) == 0 {
		p.rootDone = true
		return
	}
	p.open[len(p.open)-1].state = wantComma
}

// pointer is the pointer of the current child of the n outermost open
// containers.
func (p *pointerScan) pointer(n int) string {
	var b strings.Builder
	for _, c := range p.open[:n] {
		b.WriteByte('/')
		if c.obj {
			b.WriteString(c.name)
		} else {
			b.WriteString(strconv.Itoa(c.index))
		}
	}
	return b.String()
}

// isDelim reports whether c ends a number or literal.
func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '[', ']', '{', '}', '"':
		return true
	}
	return false
}

// stringEnd returns the offset after the string that starts at text[i],
// and whether it is closed.
func stringEnd(text []byte, i int) (int, bool) {
	for i++; i < len(text); i++ {
		switch text[i] {
		case '"':
			return i + 1, true
		case '\\':
			i++
		}
	}
	return len(text), false
}

// pointerName decodes a member name's text, quotes included (read as it
// is where it is not a valid string), and escapes it as a pointer token.
func pointerName(s []byte, closed bool) string {
	name := s[1:]
	if closed {
		name = name[:len(name)-1]
		if dec, _, err := decodeString(nil, s, 0); err == nil {
			name = dec
		}
	}
	var b strings.Builder
	for _, c := range name {
		switch c {
		case '~':
			b.WriteString("~0")
		case '/':
			b.WriteString("~1")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
