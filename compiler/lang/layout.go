package lang

import (
	"github.com/schemac-dev/schemac/compiler/rx"
	"github.com/schemac-dev/schemac/runtime/canon"
)

// The layouts are the runtime's (package canon), so that generated code
// lays values out exactly as the language built here admits them.

// LayoutKind selects a whitespace policy (see canon.LayoutKind).
type LayoutKind = canon.LayoutKind

// Layout is a whitespace policy; see ParseLayout for its textual form.
type Layout = canon.Layout

// The layouts (see canon.Indent2, canon.Compact, canon.Flexible).
const (
	Indent2  = canon.Indent2
	Compact  = canon.Compact
	Flexible = canon.Flexible
)

// MaxFlexibleWS bounds N in flexible:N (see canon.MaxFlexibleWS).
const MaxFlexibleWS = canon.MaxFlexibleWS

// ParseLayout parses a -ws value: "indent2", "compact" or "flexible:N".
func ParseLayout(s string) (Layout, error) { return canon.ParseLayout(s) }

// gaps lowers the layout's fixed gap strings (Layout.Open, Sep, Close,
// Colon), adding flexible whitespace around the punctuation they contain.
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

func (g *gaps) open(d int) rx.Expr { return g.b.Concat(g.b.Literal(g.l.Open(d)), g.ws) }
func (g *gaps) close(d int) rx.Expr {
	return g.b.Concat(g.ws, g.b.Literal(g.l.Close(d)))
}
func (g *gaps) sep(d int) rx.Expr {
	return g.b.Concat(g.ws, g.b.Literal(g.l.Sep(d)), g.ws)
}
func (g *gaps) colon() rx.Expr { return g.b.Concat(g.ws, g.b.Literal(g.l.Colon()), g.ws) }

// empty is an empty container: "{}" or "[]" (with optional inner whitespace
// for Flexible).
func (g *gaps) empty(open, close byte) rx.Expr {
	return g.b.Concat(g.b.Byte(open), g.ws, g.b.Byte(close))
}
