package canon

import (
	"fmt"
	"strconv"
	"strings"
)

// LayoutKind selects a whitespace policy.
type LayoutKind int

// The layouts.
const (
	// Indent2 is the layout of Python's json.dumps(value, indent=2,
	// ensure_ascii=False): one member or element per line, two spaces of
	// indentation per level, ", " never used, ": " after names, and "{}"/"[]"
	// for empty containers.
	Indent2 LayoutKind = iota
	// Compact has no whitespace at all: {"a":1,"b":[1,2]}.
	Compact
	// Flexible allows up to N whitespace bytes (space, tab, LF, CR) wherever
	// JSON allows whitespace between tokens, but not before or after the
	// value. Format writes none.
	Flexible
)

// Layout is a whitespace policy; see ParseLayout for its textual form.
type Layout struct {
	Kind LayoutKind
	// MaxWS is N for Flexible.
	MaxWS int
}

// MaxFlexibleWS bounds N in flexible:N; each unit of N adds states to every
// gap between tokens.
const MaxFlexibleWS = 64

// ParseLayout parses a -ws value: "indent2" (also ""), "compact" or
// "flexible:N" with N from 0 to MaxFlexibleWS.
func ParseLayout(s string) (Layout, error) {
	switch {
	case s == "" || s == "indent2":
		return Layout{Kind: Indent2}, nil
	case s == "compact":
		return Layout{Kind: Compact}, nil
	case strings.HasPrefix(s, "flexible:"):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "flexible:"))
		if err != nil || n < 0 || n > MaxFlexibleWS {
			return Layout{}, fmt.Errorf("layout %q: N must be an integer from 0 to %d", s, MaxFlexibleWS)
		}
		return Layout{Kind: Flexible, MaxWS: n}, nil
	}
	return Layout{}, fmt.Errorf("layout %q: want indent2, compact or flexible:N", s)
}

// String is the -ws form of the layout, which ParseLayout reads back.
func (l Layout) String() string {
	switch l.Kind {
	case Compact:
		return "compact"
	case Flexible:
		return fmt.Sprintf("flexible:%d", l.MaxWS)
	}
	return "indent2"
}

// The gaps of the layout for a container at depth d (the root container is
// at depth 0, its members at depth 1). They are the fixed part of each gap:
// Flexible adds its optional whitespace around them in the language, and
// Format writes none.

// Open is the gap after "{" or "[" and before the first member or element.
func (l Layout) Open(d int) string { return string(l.appendOpen(nil, d)) }

// Sep is the gap between two members or elements, comma included.
func (l Layout) Sep(d int) string { return string(l.appendSep(nil, d)) }

// Close is the gap after the last member or element, before "}" or "]".
func (l Layout) Close(d int) string { return string(l.appendClose(nil, d)) }

// Colon is the gap between a member name and its value, colon included.
func (l Layout) Colon() string { return string(l.appendColon(nil)) }

func (l Layout) appendOpen(b []byte, d int) []byte {
	if l.Kind == Indent2 {
		b = appendIndent(append(b, '\n'), d+1)
	}
	return b
}

func (l Layout) appendSep(b []byte, d int) []byte {
	b = append(b, ',')
	if l.Kind == Indent2 {
		b = appendIndent(append(b, '\n'), d+1)
	}
	return b
}

func (l Layout) appendClose(b []byte, d int) []byte {
	if l.Kind == Indent2 {
		b = appendIndent(append(b, '\n'), d)
	}
	return b
}

func (l Layout) appendColon(b []byte) []byte {
	if l.Kind == Indent2 {
		return append(b, ':', ' ')
	}
	return append(b, ':')
}

// appendIndent appends n levels of two-space indentation.
func appendIndent(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ', ' ')
	}
	return b
}
