package format

import (
	"fmt"
	"slices"
	"sync"

	"github.com/schemac-dev/schemac/compiler/rx"
)

// langs maps each implemented format name to the function that builds its
// language. Aliases share a function (see doc.go for why each is sound). It
// is set in init because the languages refer back to it for shared
// sub-languages.
var langs map[string]func(g gen) rx.Expr

func init() {
	langs = map[string]func(g gen) rx.Expr{
		"date":                  date,
		"time":                  fullTime,
		"date-time":             dateTime,
		"duration":              duration,
		"email":                 email,
		"idn-email":             email,
		"hostname":              hostname,
		"ipv4":                  ipv4,
		"ipv6":                  ipv6,
		"uuid":                  uuid,
		"uri":                   uri,
		"iri":                   uri,
		"uri-reference":         uriReference,
		"iri-reference":         uriReference,
		"json-pointer":          jsonPointer,
		"relative-json-pointer": relativeJSONPointer,
	}
}

// Lang returns the language of string values valid for the named format, and
// ok=false for a format this package does not implement (the caller then
// reports `unsupported: format "<name>"`).
//
// The language is over the UTF-8 bytes of the string value itself, without
// JSON quotes or escaping. Every string in it is accepted by the format
// checker of github.com/santhosh-tekuri/jsonschema/v6 with format assertions
// on; see the package documentation for where it is a strict subset.
//
// The expression embeds (rx.Builder.FromDFA) a minimal DFA that is compiled
// once per process and shared read-only by every Builder, so calling Lang is
// cheap and so are the derivatives of the result. The shared DFA must not be
// modified.
func Lang(b *rx.Builder, name string) (e rx.Expr, ok bool) {
	d, ok := defaultCache.format(name)
	if !ok {
		return rx.Nothing, false
	}
	return b.FromDFA(d, d.Start), true
}

// Names lists the implemented formats, sorted.
func Names() []string {
	names := make([]string, 0, len(langs))
	for n := range langs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// defaultCache holds the DFAs Lang hands out.
var defaultCache = newCache()

// dfaCache compiles each format (or shared sub-language) once. Compiled DFAs
// are immutable and may be read concurrently.
type dfaCache struct {
	mu sync.Mutex
	m  map[string]*cacheEntry
}

type cacheEntry struct {
	once sync.Once
	d    *rx.DFA
}

func newCache() *dfaCache { return &dfaCache{m: map[string]*cacheEntry{}} }

// get returns the DFA stored under key, making it with build the first time.
func (c *dfaCache) get(key string, build func() *rx.DFA) *rx.DFA {
	c.mu.Lock()
	e := c.m[key]
	if e == nil {
		e = new(cacheEntry)
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.d = build() })
	return e.d
}

// compile returns the minimal DFA of the expression lang builds, compiled in
// a private Builder.
func (c *dfaCache) compile(key string, lang func(g gen) rx.Expr) *rx.DFA {
	return c.get(key, func() *rx.DFA {
		b := rx.NewBuilder()
		d, err := b.Compile(lang(gen{b, c}), rx.Options{})
		if err != nil {
			// the format languages are fixed and far below the limits
			panic(fmt.Sprintf("format %s: %v", key, err))
		}
		return d
	})
}

// format returns the DFA of the named format, or false if not implemented.
func (c *dfaCache) format(name string) (*rx.DFA, bool) {
	f, ok := langs[name]
	if !ok {
		return nil, false
	}
	return c.compile("format:"+name, f), true
}

// gen wraps a Builder with the small vocabulary the format grammars share.
type gen struct {
	b *rx.Builder
	c *dfaCache
}

// embed matches the language of a DFA: d's start state as an expression.
func (g gen) embed(d *rx.DFA) rx.Expr { return g.b.FromDFA(d, d.Start) }

// sub embeds the (cached) DFA of the named format.
func (g gen) sub(name string) rx.Expr {
	d, _ := g.c.format(name)
	return g.embed(d)
}

// set matches one byte of spec, where "x-y" is a range and any other byte
// stands for itself (put a literal '-' first or last).
func (g gen) set(spec string) rx.Expr {
	var s rx.ByteSet
	for i := 0; i < len(spec); i++ {
		if i+2 < len(spec) && spec[i+1] == '-' {
			s.AddRange(spec[i], spec[i+2])
			i += 2
			continue
		}
		s.Add(spec[i])
	}
	return g.b.Bytes(s)
}

func (g gen) lit(s string) rx.Expr            { return g.b.Literal(s) }
func (g gen) cat(xs ...rx.Expr) rx.Expr       { return g.b.Concat(xs...) }
func (g gen) or(xs ...rx.Expr) rx.Expr        { return g.b.Or(xs...) }
func (g gen) opt(x rx.Expr) rx.Expr           { return g.b.Opt(x) }
func (g gen) star(x rx.Expr) rx.Expr          { return g.b.Star(x) }
func (g gen) plus(x rx.Expr) rx.Expr          { return g.b.Plus(x) }
func (g gen) rep(x rx.Expr, n, m int) rx.Expr { return g.b.Repeat(x, n, m) }

func (g gen) digit() rx.Expr { return g.set("0-9") }
func (g gen) hex() rx.Expr   { return g.set("0-9a-fA-F") }
func (g gen) alnum() rx.Expr { return g.set("a-zA-Z0-9") }

// lits matches any one of the given literals.
func (g gen) lits(ss ...string) rx.Expr {
	xs := make([]rx.Expr, len(ss))
	for i, s := range ss {
		xs[i] = g.lit(s)
	}
	return g.or(xs...)
}
