package format

import "github.com/schemac-dev/schemac/compiler/rx"

// uuid is 8-4-4-4-12 hex digits of either case (the library checks neither
// version nor variant).
func uuid(g gen) rx.Expr {
	h := g.hex()
	dash := g.lit("-")
	return g.cat(g.rep(h, 8, 8), dash, g.rep(h, 4, 4), dash, g.rep(h, 4, 4), dash, g.rep(h, 4, 4), dash, g.rep(h, 12, 12))
}

// jsonPointer is RFC 6901: ("/" reference-token)*, where a token is any
// characters but '/' and '~', and "~0" / "~1" escapes.
func jsonPointer(g gen) rx.Expr {
	unescaped := g.b.RuneSet([][2]rune{{0x00, 0x2E}, {0x30, 0x7D}, {0x7F, 0x10FFFF}})
	token := g.star(g.or(unescaped, g.cat(g.lit("~"), g.set("01"))))
	return g.star(g.cat(g.lit("/"), token))
}

// relativeJSONPointer is draft-handrews-relative-json-pointer-01 as the
// library checks it: a non-negative integer without leading zeros, then "#"
// or a JSON pointer. (Later drafts' "+n"/"-n" index adjustment is rejected by
// the library, so it is not included.)
func relativeJSONPointer(g gen) rx.Expr {
	n := g.or(g.lit("0"), g.cat(g.set("1-9"), g.star(g.digit())))
	return g.cat(n, g.or(g.lit("#"), jsonPointer(g)))
}
