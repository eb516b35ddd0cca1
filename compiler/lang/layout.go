package lang

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/schemac-dev/schemac/compiler/rx"
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
	// JSON allows whitespace between tokens, but not before or after the value.
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

// ParseLayout parses a -ws value: "indent2", "compact" or "flexible:N".
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

// String is the -ws form of the layout.
func (l Layout) String() string {
	switch l.Kind {
	case Compact:
		return "compact"
	case Flexible:
		return fmt.Sprintf("flexible:%d", l.MaxWS)
	}
	return "indent2"
}

// Gaps of the layout as byte strings for a container at depth d (the
// container itself is at depth d; its members at d+1). For Flexible, the
// gaps are the ws language and these return "".
func (l Layout) open(d int) string { // after "{" or "[" before the first member
	if l.Kind == Indent2 {
		return "\n" + strings.Repeat("  ", d+1)
	}
	return ""
}

func (l Layout) sep(d int) string { // between members, including the comma
	if l.Kind == Indent2 {
		return ",\n" + strings.Repeat("  ", d+1)
	}
	return ","
}

func (l Layout) close(d int) string { // after the last member, before "}" or "]"
	if l.Kind == Indent2 {
		return "\n" + strings.Repeat("  ", d)
	}
	return ""
}

func (l Layout) colon() string {
	if l.Kind == Indent2 {
		return ": "
	}
	return ":"
}

// gap lowers a fixed gap string, adding flexible whitespace around the
// punctuation it contains.
type gaps struct {
	b  *rx.Builder
	l  Layout
	ws rx.Expr
}

func newGaps(b *rx.Builder, l Layout) *gaps {
	g := &gaps{b: b, l: l, ws: rx.Epsilon}
	if l.Kind == Flexible {
		var s rx.ByteSet
		for _, c := range []byte(" \t\n\r") {
			s.Add(c)
		}
		g.ws = b.Repeat(b.Bytes(s), 0, l.MaxWS)
	}
	return g
}

func (g *gaps) open(d int) rx.Expr { return g.b.Concat(g.b.Literal(g.l.open(d)), g.ws) }
func (g *gaps) close(d int) rx.Expr {
	return g.b.Concat(g.ws, g.b.Literal(g.l.close(d)))
}
func (g *gaps) sep(d int) rx.Expr {
	return g.b.Concat(g.ws, g.b.Literal(g.l.sep(d)), g.ws)
}
func (g *gaps) colon() rx.Expr { return g.b.Concat(g.ws, g.b.Literal(g.l.colon()), g.ws) }

// empty is an empty container: "{}" or "[]" (with optional inner whitespace
// for Flexible).
func (g *gaps) empty(open, close byte) rx.Expr {
	return g.b.Concat(g.b.Byte(open), g.ws, g.b.Byte(close))
}
