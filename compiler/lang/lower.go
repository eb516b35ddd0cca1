package lang

import (
	"fmt"
	"slices"
	"strings"

	"github.com/schemac-dev/schemac/compiler/rx"
	"github.com/schemac-dev/schemac/compiler/schema"
)

// Options configure lowering.
type Options struct {
	Layout Layout
	// MaxDepth is the deepest JSON nesting produced: a value at depth
	// MaxDepth may be a container only if it is empty. Recursive schemas are
	// unrolled to this depth. Zero means DefaultMaxDepth.
	MaxDepth int
	// MaxFreeDepth bounds the nesting of free-form values (where the schema
	// says nothing, e.g. true or {"type": "object"}), counted from where
	// the free value starts. Zero means DefaultMaxFreeDepth.
	MaxFreeDepth int
	// BigNumbers lifts the number rule below. By default (false) the
	// decoder writes only numbers that Go's int64 and float64 hold exactly,
	// so that every output decodes into the types `schemac gen` generates:
	// an "integer" lies in the int64 range; a "number" is a plain decimal
	// (no exponent) of at most 15 digits, not counting a leading "0" — the
	// decimals that survive a round trip through float64. The limit holds
	// for every number the schema types, "type" or not.
	BigNumbers bool
}

// DefaultMaxFreeDepth is the default nesting of free-form values. A DFA
// for free JSON must remember which bracket closes each open level, so its
// size doubles with every level: 3 levels keep it to a few hundred states.
const DefaultMaxFreeDepth = 3

// DefaultMaxDepth is the default nesting limit. Kubernetes objects, the
// deepest real-world documents we target, nest about ten levels; each level
// of a recursive schema costs a copy of its states (indentation differs per
// level).
const DefaultMaxDepth = 12

// Named limits: each keeps a pathological schema from exhausting memory.
const (
	// MaxExplicitItems bounds minItems, prefixItems and minProperties that
	// need one automaton position each.
	MaxExplicitItems = 1000
	// MaxDependencyKeys bounds the names tracked for dependentRequired; the
	// automaton tracks one bit per name.
	MaxDependencyKeys = 10
	// MaxPatternProperties bounds the patterns whose overlaps are split into
	// regions (2^n regions).
	MaxPatternProperties = 6
	// MaxModulus bounds the states of multipleOf: one per residue of its
	// numerator and per fractional digit of its denominator.
	MaxModulus = 100000
)

// Lowerer holds the state of one lowering.
type Lowerer struct {
	b     *rx.Builder
	doc   *schema.Document
	opt   Options
	g     *gaps
	order *Order

	memo   map[memoKey]rx.Expr
	active map[memoKey]bool
	locs   map[*schema.Value]*location
	anyV   map[[3]int]rx.Expr
	value  map[string]rx.Expr     // value-level languages by cache key
	deep   map[*schema.Value]bool // synthetic true schemas: any value, nested to MaxDepth
	// synthetic schemas built while lowering (read as draft 2020-12)
	synthetic map[*schema.Value]bool
}

// ctx is where a schema applies: the JSON depth of the instance, the
// polarity (neg: a superset is required) and the instance location, shared
// by every subschema that applies to the same instance.
type ctx struct {
	depth int
	neg   bool
	loc   *location
}

func (c ctx) flip() ctx  { c.neg = !c.neg; return c }
func (c ctx) child() ctx { c.depth++; c.loc = nil; return c }

type memoKey struct {
	v     *schema.Value
	loc   *location
	depth int
	neg   bool
}

// Lower lowers doc's root schema to the language of valid JSON texts.
func Lower(doc *schema.Document, b *rx.Builder, opt Options) (rx.Expr, *Order, error) {
	l := New(doc, b, opt)
	e, err := l.Schema(doc.Root)
	return e, l.order, err
}

// New prepares a Lowerer for doc.
func New(doc *schema.Document, b *rx.Builder, opt Options) *Lowerer {
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = DefaultMaxDepth
	}
	if opt.MaxFreeDepth <= 0 {
		opt.MaxFreeDepth = DefaultMaxFreeDepth
	}
	return &Lowerer{
		b: b, doc: doc, opt: opt, g: newGaps(b, opt.Layout), order: NewOrder(doc.Root),
		memo: map[memoKey]rx.Expr{}, active: map[memoKey]bool{}, locs: map[*schema.Value]*location{},
		anyV: map[[3]int]rx.Expr{}, value: map[string]rx.Expr{}, deep: map[*schema.Value]bool{}, synthetic: map[*schema.Value]bool{},
	}
}

// Order is the member order used by this lowering.
func (l *Lowerer) Order() *Order { return l.order }

// Schema lowers v as a top-level value (depth 0, positive polarity).
func (l *Lowerer) Schema(v *schema.Value) (rx.Expr, error) {
	e, err := l.lower(v, ctx{})
	if err == nil {
		err = l.b.Err()
	}
	if lim, ok := err.(*rx.LimitError); ok {
		return rx.Nothing, l.errf(schema.TooLarge, v, "%s", lim.Error()[len("too large: "):])
	}
	return e, err
}

func (l *Lowerer) errf(code schema.Code, at *schema.Value, format string, args ...any) *schema.Error {
	return &schema.Error{Code: code, File: l.doc.Name, Ptr: at.Ptr, Msg: fmt.Sprintf(format, args...)}
}

// unsupported reports a keyword that cannot be lowered exactly. In negative
// polarity the caller drops the constraint instead (a superset is fine).
func (l *Lowerer) unsupported(at *schema.Value, format string, args ...any) error {
	return l.errf(schema.Unsupported, at, format, args...)
}

func (l *Lowerer) lower(v *schema.Value, c ctx) (rx.Expr, error) {
	if c.depth > l.opt.MaxDepth {
		if c.neg {
			return l.b.Universe(), nil
		}
		return rx.Nothing, nil
	}
	if c.loc == nil {
		c.loc = l.locationOf(v)
	}
	key := memoKey{v, c.loc, c.depth, c.neg}
	if e, ok := l.memo[key]; ok {
		return e, nil
	}
	if l.active[key] {
		if c.neg {
			return l.b.Universe(), nil
		}
		return rx.Nothing, l.unsupported(v, "$ref cycle that never nests (the schema refers to itself at the same instance)")
	}
	l.active[key] = true
	e, err := l.lower1(v, c)
	delete(l.active, key)
	if err != nil {
		return rx.Nothing, err
	}
	if err := l.b.Err(); err != nil {
		return rx.Nothing, err
	}
	l.memo[key] = e
	return e, nil
}

// keywords understood by lower1 and the lowering of each type.
var handled = map[string]bool{
	"type": true, "enum": true, "const": true, "allOf": true, "anyOf": true, "oneOf": true, "not": true,
	"if": true, "then": true, "else": true, "$ref": true,
	"properties": true, "required": true, "additionalProperties": true, "patternProperties": true,
	"propertyNames": true, "minProperties": true, "maxProperties": true, "dependentRequired": true, "dependencies": true, "dependentSchemas": true,
	"unevaluatedProperties": true, "unevaluatedItems": true,
	"items": true, "prefixItems": true, "additionalItems": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"contains": true, "minContains": true, "maxContains": true,
	"minLength": true, "maxLength": true, "pattern": true, "format": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	// annotations and structure, no assertion
	"$dynamicRef": true,
	"$schema":     true, "$id": true, "id": true, "$anchor": true, "$dynamicAnchor": true, "$comment": true,
	"$defs": true, "definitions": true, "title": true, "description": true, "default": true, "examples": true,
	"deprecated": true, "readOnly": true, "writeOnly": true, "contentMediaType": true, "contentEncoding": true,
	"contentSchema": true, "$vocabulary": true, "$recursiveAnchor": true,
}

// notImplemented are standard assertion keywords that are not lowered yet.
// In positive polarity they fail the compile; in negative polarity they are
// dropped (the subtracted language only grows). Keywords outside every
// vocabulary assert nothing and are ignored, as JSON Schema says.
var notImplemented = map[string]bool{"$recursiveRef": true}

func (l *Lowerer) lower1(v *schema.Value, c ctx) (rx.Expr, error) {
	if v.Kind == schema.Bool {
		if v.Bool && l.deep[v] {
			return l.freeValue(c, l.opt.MaxDepth-c.depth), nil
		}
		if v.Bool {
			return l.anyValue(c), nil
		}
		return rx.Nothing, nil
	}
	draft := l.doc.DraftAt(v)
	if r := v.Get("$ref"); r != nil && draft < schema.Draft2019 {
		// drafts 4–7: "$ref" replaces the whole schema
		t, err := l.doc.Deref(v)
		if err != nil {
			return rx.Nothing, err
		}
		return l.lower(t, c)
	}
	for _, m := range v.Members {
		if draft <= schema.Draft7 && (m.Key == "contentMediaType" || m.Key == "contentEncoding") && !c.neg {
			// drafts 4–7 let validators assert these; we cannot lower them
			return rx.Nothing, l.unsupported(v, "%s", m.Key)
		}
		if notImplemented[m.Key] {
			if c.neg {
				continue
			}
			return rx.Nothing, l.unsupported(v, "%s", m.Key)
		}
	}
	plain, err := l.parts(v, c, draft)
	if err != nil {
		return rx.Nothing, err
	}
	up, ui := v.Get("unevaluatedProperties"), v.Get("unevaluatedItems")
	if (up != nil || ui != nil) && draft >= schema.Draft2019 && !c.neg {
		// (dropped in negative polarity: a superset is fine)
		return l.unevaluated(v, up, ui, plain, c)
	}
	return plain, nil
}

// parts lowers every keyword of v but unevaluatedProperties: the
// intersection of its type part, $ref, enum, const and applicators.
func (l *Lowerer) parts(v *schema.Value, c ctx, draft schema.Draft) (rx.Expr, error) {
	b := l.b
	var parts []rx.Expr
	if dr := v.Get("$dynamicRef"); dr != nil {
		t, err := l.dynamicRef(v, dr)
		if err != nil {
			if c.neg {
				return b.Universe(), nil
			}
			return rx.Nothing, err
		}
		e, err := l.lower(t, c)
		if err != nil {
			return rx.Nothing, err
		}
		parts = append(parts, e)
	}
	if v.Get("$ref") != nil {
		t, err := l.doc.Deref(v)
		if err != nil {
			return rx.Nothing, err
		}
		e, err := l.lower(t, c)
		if err != nil {
			return rx.Nothing, err
		}
		parts = append(parts, e)
	}
	// The type part: a schema with no type keyword and no keyword of any
	// type leaves the value to its other parts when one of them shapes the
	// value; otherwise it admits any JSON value.
	if hasTypeKeywords(v) || !hasShapingKeywords(v) {
		e, err := l.typed(v, c)
		if err != nil {
			return rx.Nothing, err
		}
		parts = append(parts, e)
	}
	if en := v.Get("enum"); en != nil {
		var alts []rx.Expr
		for _, it := range en.Items {
			alts = append(alts, l.literal(it, c.depth))
		}
		parts = append(parts, b.Or(alts...))
	}
	if cv := v.Get("const"); cv != nil {
		parts = append(parts, l.literal(cv, c.depth))
	}
	if all := v.Get("allOf"); all != nil {
		for _, s := range all.Items {
			e, err := l.lower(s, c)
			if err != nil {
				return rx.Nothing, err
			}
			parts = append(parts, e)
		}
	}
	if anyOf := v.Get("anyOf"); anyOf != nil {
		alts, err := l.lowerAll(anyOf.Items, c)
		if err != nil {
			return rx.Nothing, err
		}
		parts = append(parts, b.Or(alts...))
	}
	if one := v.Get("oneOf"); one != nil {
		same, err := l.lowerAll(one.Items, c)
		if err != nil {
			return rx.Nothing, err
		}
		other, err := l.lowerAll(one.Items, c.flip())
		if err != nil {
			return rx.Nothing, err
		}
		var alts []rx.Expr
		for i := range same {
			rest := slices.Concat(other[:i], other[i+1:])
			alts = append(alts, b.Minus(same[i], b.Or(rest...)))
		}
		parts = append(parts, b.Or(alts...))
	}
	if not := v.Get("not"); not != nil {
		e, err := l.lower(not, c.flip())
		if err != nil {
			return rx.Nothing, err
		}
		parts = append(parts, b.Not(e))
	}
	if cond := v.Get("if"); cond != nil && draft >= schema.Draft7 {
		yes, no, err := l.condition(cond, c)
		if err != nil {
			return rx.Nothing, err
		}
		then, els := b.Universe(), b.Universe()
		if t := v.Get("then"); t != nil {
			if then, err = l.lower(t, c); err != nil {
				return rx.Nothing, err
			}
		}
		if t := v.Get("else"); t != nil {
			if els, err = l.lower(t, c); err != nil {
				return rx.Nothing, err
			}
		}
		parts = append(parts, b.Or(b.And(yes, then), b.Minus(els, no)))
	}
	return b.And(parts...), nil
}

// typeKeywords are the keywords that constrain one JSON type.
var typeKeywords = []string{"type",
	"properties", "required", "additionalProperties", "patternProperties", "propertyNames",
	"minProperties", "maxProperties", "dependentRequired", "dependencies", "dependentSchemas",
	"items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains", "minContains", "maxContains",
	"minLength", "maxLength", "pattern", "format",
	"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}

func hasTypeKeywords(v *schema.Value) bool {
	for _, k := range typeKeywords {
		if v.Get(k) != nil {
			return true
		}
	}
	return false
}

// hasShapingKeywords reports whether some part of v other than the type
// part yields only JSON values by itself ($ref, enum, const, allOf, anyOf,
// oneOf); "not" and "if" do not: they only remove values.
func hasShapingKeywords(v *schema.Value) bool {
	for _, k := range []string{"$ref", "$dynamicRef", "enum", "const", "allOf", "anyOf", "oneOf"} {
		if x := v.Get(k); x != nil && !(k == "allOf" && len(x.Items) == 0) {
			return true
		}
	}
	return false
}

// condition lowers an "if" schema twice: as a subset of the instances that
// satisfy it (for the then branch) and as a superset (whose complement is
// a subset of those that do not, for the else branch).
func (l *Lowerer) condition(cond *schema.Value, c ctx) (yes, no rx.Expr, err error) {
	if yes, err = l.lower(cond, c); err != nil {
		return rx.Nothing, rx.Nothing, err
	}
	if no, err = l.lower(cond, c.flip()); err != nil {
		return rx.Nothing, rx.Nothing, err
	}
	return yes, no, nil
}

func (l *Lowerer) lowerAll(vs []*schema.Value, c ctx) ([]rx.Expr, error) {
	out := make([]rx.Expr, len(vs))
	for i, s := range vs {
		e, err := l.lower(s, c)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// literal is the text of a constant value at depth d.
func (l *Lowerer) literal(v *schema.Value, d int) rx.Expr {
	return l.b.Literal(string(appendValue(nil, v, l.opt.Layout, l.order, d)))
}

// typed lowers the type-specific keywords: the union over the types the
// schema allows of each type's language.
func (l *Lowerer) typed(v *schema.Value, c ctx) (rx.Expr, error) {
	types := map[string]bool{"null": true, "boolean": true, "number": true, "string": true, "array": true, "object": true}
	if t := v.Get("type"); t != nil {
		types = map[string]bool{}
		if t.Kind == schema.String {
			types[t.Str] = true
		}
		for _, it := range t.Items {
			types[it.Str] = true
		}
	}
	var alts []rx.Expr
	for _, name := range []string{"null", "boolean", "integer", "number", "string", "array", "object"} {
		if !types[name] {
			continue
		}
		var e rx.Expr
		var err error
		switch name {
		case "null":
			e = l.b.Literal("null")
		case "boolean":
			e = l.b.Or(l.b.Literal("true"), l.b.Literal("false"))
		case "integer":
			if types["number"] {
				continue
			}
			e, err = l.number(v, c, true)
		case "number":
			e, err = l.number(v, c, false)
		case "string":
			e, err = l.str(v, c)
		case "array":
			e, err = l.array(v, c)
		case "object":
			e, err = l.object(v, c)
		}
		if err != nil {
			return rx.Nothing, err
		}
		alts = append(alts, e)
	}
	return l.b.Or(alts...), nil
}

// anyValue is every JSON value at depth c.depth: free-form objects and
// arrays nested at most MaxFreeDepth levels (and never beyond MaxDepth),
// the full number and string grammars. In negative polarity the cut-off
// admits anything instead, so the result stays a superset.
func (l *Lowerer) anyValue(c ctx) rx.Expr {
	return l.freeValue(c, l.opt.MaxFreeDepth)
}

func (l *Lowerer) freeValue(c ctx, levels int) rx.Expr {
	if c.depth > l.opt.MaxDepth || levels < 0 {
		if c.neg {
			return l.b.Universe()
		}
		return rx.Nothing
	}
	key := [3]int{c.depth, levels, 0}
	if c.neg {
		key[2] = 1
	}
	if e, ok := l.anyV[key]; ok {
		return e
	}
	b := l.b
	child := l.freeValue(c.child(), levels-1)
	member := b.Concat(l.stringText(0, -1), l.g.colon(), child)
	e := b.Or(
		b.Literal("null"), b.Literal("true"), b.Literal("false"),
		l.numberGrammar(false, true), l.stringText(0, -1),
		l.container('[', ']', c.depth, child), l.container('{', '}', c.depth, member),
	)
	l.anyV[key] = e
	return e
}

// container is "[" item ("," item)* "]" or empty, in the layout.
func (l *Lowerer) container(open, close byte, d int, item rx.Expr) rx.Expr {
	b, g := l.b, l.g
	if item == rx.Nothing {
		return g.empty(open, close)
	}
	return b.Or(g.empty(open, close),
		b.Concat(b.Byte(open), g.open(d), item, b.Star(b.Concat(g.sep(d), item)), g.close(d), b.Byte(close)))
}

// dynamicRef resolves a $dynamicRef statically when that is exact: when
// the document has a single "$dynamicAnchor" of that name, every dynamic
// scope resolves to it, just as a plain $ref does. Otherwise the target
// depends on the path the evaluation took, which the automaton cannot
// follow, and the keyword is unsupported.
func (l *Lowerer) dynamicRef(v, dr *schema.Value) (*schema.Value, error) {
	_, name, ok := strings.Cut(dr.Str, "#")
	if !ok || name == "" || strings.HasPrefix(name, "/") {
		// a JSON-pointer fragment: $dynamicRef behaves like $ref
		return l.doc.Resolve(dr.Str, v)
	}
	count := 0
	var walk func(x *schema.Value)
	walk = func(x *schema.Value) {
		for _, m := range x.Members {
			if m.Key == "$dynamicAnchor" && m.Value.Kind == schema.String && m.Value.Str == name {
				count++
			}
			walk(m.Value)
		}
		for _, it := range x.Items {
			walk(it)
		}
	}
	walk(l.doc.Root)
	if count > 1 {
		return nil, l.unsupported(v, "$dynamicRef %q (%d dynamic anchors of that name: the target depends on the evaluation path)", dr.Str, count)
	}
	return l.doc.Resolve(dr.Str, v)
}
