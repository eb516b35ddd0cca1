package format

import (
	"fmt"

	"github.com/schemac-dev/schemac/compiler/rx"
)

// decOctet is 0–255 in decimal without leading zeros (RFC 3986 dec-octet).
func decOctet(g gen) rx.Expr {
	d := g.digit()
	return g.or(
		d,
		g.cat(g.set("1-9"), d),
		g.cat(g.lit("1"), d, d),
		g.cat(g.lit("2"), g.set("0-4"), d),
		g.cat(g.lit("25"), g.set("0-5")),
	)
}

// ipv4 is the dotted quad of dec-octets.
func ipv4(g gen) rx.Expr {
	o := decOctet(g)
	dot := g.lit(".")
	return g.cat(o, dot, o, dot, o, dot, o)
}

// ipv6 is RFC 4291 §2.2 text form as RFC 3986 spells it (IPv6address): eight
// groups of 1–4 hex digits (either case), at most one "::" standing for one
// or more zero groups, and optionally a dotted quad as the last 32 bits. No
// zone ("%eth0"): the library rejects zones.
func ipv6(g gen) rx.Expr {
	h16 := g.rep(g.hex(), 1, 4)
	h16c := g.cat(h16, g.lit(":"))
	ls32 := g.or(g.cat(h16c, h16), ipv4(g))
	dc := g.lit("::")
	// pre(n): up to n groups before "::", i.e. [ *(n-1)( h16 ":" ) h16 ]
	pre := func(n int) rx.Expr { return g.opt(g.cat(g.rep(h16c, 0, n-1), h16)) }
	return g.or(
		g.cat(g.rep(h16c, 6, 6), ls32),
		g.cat(dc, g.rep(h16c, 5, 5), ls32),
		g.cat(pre(1), dc, g.rep(h16c, 4, 4), ls32),
		g.cat(pre(2), dc, g.rep(h16c, 3, 3), ls32),
		g.cat(pre(3), dc, g.rep(h16c, 2, 2), ls32),
		g.cat(pre(4), dc, h16c, ls32),
		g.cat(pre(5), dc, ls32),
		g.cat(pre(6), dc, h16),
		g.cat(pre(7), dc),
	)
}

// hostUnit is the granularity of the length budget of hostnames (see
// hostname): a label of n characters and its separating dot cost
// ceil((n+1)/hostUnit) units.
const hostUnit = 16

// hostnameBudget is the number of units a hostname may spend:
// 15·16−1 = 239 ≤ 253 characters.
const hostnameBudget = 15

// hostname is RFC 1123 host names as the library checks them: dot-separated
// labels of 1–63 letters, digits and hyphens, not starting or ending with a
// hyphen; no trailing dot (the library would also accept one). The library
// also bounds the total length by 253. Intersecting that exact bound with the
// per-label bound of 63 needs one state per (length so far, label length so
// far, last byte a hyphen) triple, 23 809 states; instead we bound a coarser
// measure that implies it: each label with its dot costs ceil((len+1)/16)
// units, and a hostname may spend 15 units. So every accepted hostname has at
// most 239 characters; accepted are, among others, all hostnames of at most
// 15 labels of at most 15 characters each, and all hostnames of at most 5
// labels and at most 164 characters.
//
// Labels with "--" in their third and fourth characters are rejected: RFC
// 5891 reserves them for A-labels ("xn--…"), which must then be valid
// punycode. The library does not check punycode, the JSON Schema Test Suite
// does; rejecting the reserved form keeps us inside both.
func hostname(g gen) rx.Expr {
	return g.b.Minus(g.hostnameUnits(hostnameBudget), reservedLabel(g))
}

// reservedLabel is the strings with a label whose 3rd and 4th characters
// are "--".
func reservedLabel(g gen) rx.Expr {
	b := g.b
	nd := b.Minus(b.AnyByte(), b.Byte('.'))
	start := b.Opt(b.Concat(b.Star(b.AnyByte()), b.Byte('.')))
	return b.Concat(start, nd, nd, b.Literal("--"), b.Star(b.AnyByte()))
}

// hostnameUnits is the hostnames that fit in budget units (see hostname).
// The automaton is built directly, not from an expression: its states are
// (units spent on finished labels, length of the current label, whether its
// last byte is a hyphen). The test checks it against the grammar
//
//	h(u) = | over k=1..min(4,u) of label_k ["." h(u-k)]
//
// where label_k is the labels costing k units.
func (g gen) hostnameUnits(budget int) rx.Expr {
	return g.embed(g.c.get(fmt.Sprintf("hostname-units:%d", budget), func() *rx.DFA {
		return hostnameUnitsDFA(budget)
	}))
}

// labelCost is the units a label of n characters costs with its dot.
func labelCost(n int) int { return (n + hostUnit) / hostUnit }

func hostnameUnitsDFA(budget int) *rx.DFA {
	const maxLabel = 63
	id := func(u, p, hy int) int32 { return int32((u*(maxLabel+1)+p)*2 + hy) }
	n := budget * (maxLabel + 1) * 2
	accept := make([]bool, n)
	for u := 0; u < budget; u++ {
		for p := 1; p <= maxLabel; p++ {
			accept[id(u, p, 0)] = true // transitions keep u+labelCost(p) ≤ budget
		}
	}
	next := func(s int32, c byte) int32 {
		hy, p, u := int(s)&1, int(s)>>1%(maxLabel+1), int(s)>>1/(maxLabel+1)
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		switch {
		case alnum || c == '-' && p > 0:
			if p+1 > maxLabel || u+labelCost(p+1) > budget {
				return -1
			}
			if c == '-' {
				return id(u, p+1, 1)
			}
			return id(u, p+1, 0)
		case c == '.' && p > 0 && hy == 0:
			if u+labelCost(p) >= budget { // no unit left for another label
				return -1
			}
			return id(u+labelCost(p), 0, 0)
		}
		return -1
	}
	return rx.Build(n, id(0, 0, 0), accept, next)
}

// emailDomainMax bounds the length of an email domain. One counter over the
// whole domain (rather than the library's per-label 63 and total 253) keeps
// the automaton small: the token stage costs about one vocabulary walk per
// counter position near its limit. Real domains are short.
const emailDomainMax = 63

// email is RFC 5321 Mailbox restricted to a part of what the library
// accepts, chosen to keep the automaton small (it costs the compile of every
// schema that uses it):
//
//   - local part: a dot-atom (RFC 5322 atext runs separated by single dots)
//     of 1–64 characters (no quoted local parts);
//   - "@";
//   - domain: a hostname (see hostname: labels of letters, digits and inner
//     hyphens, no reserved "--" in positions 3–4) of 1–63 characters in all
//     (no address literals).
//
// The library caps the whole address at 254 characters; every address here
// has at most 64+1+63 = 128.
func email(g gen) rx.Expr {
	atext := g.set("a-zA-Z0-9!#$%&'*+/=?^_`{|}~-")
	dotAtom := g.cat(g.plus(atext), g.star(g.cat(g.lit("."), g.plus(atext))))
	local := g.b.And(dotAtom, g.rep(g.set("a-zA-Z0-9!#$%&'*+/=?^_`{|}~.-"), 1, 64))
	alnum := g.set("a-zA-Z0-9")
	label := g.cat(alnum, g.opt(g.cat(g.star(g.set("a-zA-Z0-9-")), alnum)))
	domain := g.b.And(
		g.cat(label, g.star(g.cat(g.lit("."), label))),
		g.rep(g.set("a-zA-Z0-9.-"), 1, emailDomainMax),
	)
	domain = g.b.Minus(domain, reservedLabel(g))
	return g.cat(local, g.lit("@"), domain)
}

// uriParts holds the RFC 3986 productions shared by uri and uri-reference.
type uriParts struct {
	authority, pathAbempty, pathAbsolute, pathRootless, pathNoscheme, tail rx.Expr
}

// uriGrammar builds RFC 3986 (Appendix A) with two restrictions, both to stay
// inside what Go's net/url (which the library calls) accepts: reg-name has no
// percent-encoding (Go rejects %-encoded ASCII in hosts), and IP-literal is
// only "[" IPv6address "]" (no IPvFuture, no zone).
func uriGrammar(g gen) uriParts {
	unreserved := g.set("a-zA-Z0-9._~-")
	subDelims := g.set("!$&'()*+,;=")
	pct := g.cat(g.lit("%"), g.hex(), g.hex())
	pchar := g.or(unreserved, pct, subDelims, g.set(":@"))
	userinfo := g.star(g.or(unreserved, pct, subDelims, g.lit(":")))
	regName := g.star(g.or(unreserved, subDelims))
	host := g.or(g.cat(g.lit("["), g.sub("ipv6"), g.lit("]")), regName)
	port := g.star(g.digit())
	authority := g.cat(g.opt(g.cat(userinfo, g.lit("@"))), host, g.opt(g.cat(g.lit(":"), port)))
	segment := g.star(pchar)
	segmentNZ := g.plus(pchar)
	segmentNZNC := g.plus(g.or(unreserved, pct, subDelims, g.lit("@")))
	pathAbempty := g.star(g.cat(g.lit("/"), segment))
	qf := g.star(g.or(pchar, g.set("/?")))
	return uriParts{
		authority:    authority,
		pathAbempty:  pathAbempty,
		pathAbsolute: g.cat(g.lit("/"), g.opt(g.cat(segmentNZ, pathAbempty))),
		pathRootless: g.cat(segmentNZ, pathAbempty),
		pathNoscheme: g.cat(segmentNZNC, pathAbempty),
		tail:         g.cat(g.opt(g.cat(g.lit("?"), qf)), g.opt(g.cat(g.lit("#"), qf))),
	}
}

// uri is RFC 3986 URI: scheme ":" hier-part ["?" query] ["#" fragment]
// (restricted as in uriGrammar).
func uri(g gen) rx.Expr {
	p := uriGrammar(g)
	scheme := g.cat(g.set("a-zA-Z"), g.star(g.set("a-zA-Z0-9+.-")))
	hier := g.or(g.cat(g.lit("//"), p.authority, p.pathAbempty), p.pathAbsolute, p.pathRootless, rx.Epsilon)
	return g.cat(scheme, g.lit(":"), hier, p.tail)
}

// uriReference is RFC 3986 URI-reference: a URI or a relative reference
// (restricted as in uriGrammar).
func uriReference(g gen) rx.Expr {
	p := uriGrammar(g)
	rel := g.cat(g.or(g.cat(g.lit("//"), p.authority, p.pathAbempty), p.pathAbsolute, p.pathNoscheme, rx.Epsilon), p.tail)
	return g.or(g.sub("uri"), rel)
}
