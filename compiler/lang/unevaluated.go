package lang

import (
	"github.com/schemac-dev/schemac/compiler/rx"
	"github.com/schemac-dev/schemac/compiler/schema"
)

// MaxUnevaluatedChoices bounds the combinations of anyOf, oneOf and
// if/then/else branches that unevaluatedProperties is split into.
const MaxUnevaluatedChoices = 64

// evaluated is what a set of schemas that surely apply to an instance say
// about member names: declared names, name patterns, and whether
// additionalProperties evaluates every other name.
type evaluated struct {
	names    map[string]bool
	patterns []string
	all      bool
	// for arrays: items at indices below prefix are evaluated, and all of
	// them when allItems
	prefix   int
	allItems bool
}

// certain adds to e what s and the schemas that apply whenever s does
// (allOf, $ref) evaluate.
func (l *Lowerer) certain(s *schema.Value, e *evaluated, seen map[*schema.Value]bool) {
	if s == nil || s.Kind != schema.Object || seen[s] {
		return
	}
	seen[s] = true
	if p := s.Get("properties"); p != nil {
		for _, m := range p.Members {
			e.names[m.Key] = true
		}
	}
	if pp := s.Get("patternProperties"); pp != nil {
		for _, m := range pp.Members {
			e.patterns = append(e.patterns, m.Key)
		}
	}
	if ap := s.Get("additionalProperties"); ap != nil {
		e.all = true
	}
	if up := s.Get("unevaluatedProperties"); up != nil {
		e.all = true // it evaluates everything left over, valid or not
	}
	if l.doc.DraftAt(s) >= schema.Draft2020 {
		if p := s.Get("prefixItems"); p != nil {
			e.prefix = max(e.prefix, len(p.Items))
		}
		if s.Get("items") != nil {
			e.allItems = true
		}
	} else if it := s.Get("items"); it != nil {
		if it.Kind == schema.Array {
			e.prefix = max(e.prefix, len(it.Items))
			if s.Get("additionalItems") != nil {
				e.allItems = true
			}
		} else {
			e.allItems = true
		}
	}
	if s.Get("unevaluatedItems") != nil {
		e.allItems = true
	}
	if all := s.Get("allOf"); all != nil {
		for _, it := range all.Items {
			l.certain(it, e, seen)
		}
	}
	if s.Get("$ref") != nil {
		if t, err := l.doc.Deref(s); err == nil {
			l.certain(t, e, seen)
		}
	}
}

// unevaluated lowers unevaluatedProperties of v, given plain, the
// lowering of v's other keywords. A member is evaluated when some schema
// that applies and validates declares it (properties, patternProperties,
// additionalProperties). The names v and its allOf/$ref chain evaluate are
// certain; names from an anyOf, oneOf or if/then/else branch count only
// together with that branch. So the result is the union, over every choice
// of one branch per such keyword, of: plain, the chosen branches, and
// "every member is evaluated by the chosen schemas, or satisfies
// unevaluatedProperties". Each part is a subset of the valid texts.
func (l *Lowerer) unevaluated(v, up, ui *schema.Value, plain rx.Expr, c ctx) (rx.Expr, error) {
	b := l.b
	type branch struct {
		cond   rx.Expr // the branch validates
		schema []*schema.Value
	}
	var groups [][]branch
	for _, kw := range []string{"anyOf", "oneOf"} {
		list := v.Get(kw)
		if list == nil {
			continue
		}
		var g []branch
		for _, it := range list.Items {
			e, err := l.lower(it, c)
			if err != nil {
				return rx.Nothing, err
			}
			g = append(g, branch{e, []*schema.Value{it}})
		}
		groups = append(groups, g)
	}
	if cond := v.Get("if"); cond != nil && l.doc.DraftAt(v) >= schema.Draft7 {
		yes, no, err := l.condition(cond, c)
		if err != nil {
			return rx.Nothing, err
		}
		groups = append(groups, []branch{
			{yes, []*schema.Value{cond, v.Get("then")}},
			{b.Not(no), []*schema.Value{v.Get("else")}},
		})
	}
	choices := [][]branch{nil}
	for _, g := range groups {
		var next [][]branch
		for _, ch := range choices {
			for _, br := range g {
				next = append(next, append(append([]branch(nil), ch...), br))
			}
		}
		choices = next
		if len(choices) > MaxUnevaluatedChoices {
			return rx.Nothing, l.errf(schema.TooLarge, v, "unevaluatedProperties over more than %d branch combinations", MaxUnevaluatedChoices)
		}
	}
	var alts []rx.Expr
	for _, ch := range choices {
		ev := &evaluated{names: map[string]bool{}}
		seen := map[*schema.Value]bool{}
		// v's own keywords, but not its unevaluatedProperties
		l.certainExcept(v, ev, seen)
		parts := []rx.Expr{plain}
		for _, br := range ch {
			parts = append(parts, br.cond)
			for _, s := range br.schema {
				l.certain(s, ev, seen)
			}
		}
		if up != nil && !ev.all {
			r, err := l.restrictNames(v, up, ev, c)
			if err != nil {
				return rx.Nothing, err
			}
			parts = append(parts, r)
		}
		if ui != nil && !ev.allItems {
			r, err := l.restrictItems(v, ui, ev, c)
			if err != nil {
				return rx.Nothing, err
			}
			parts = append(parts, r)
		}
		alts = append(alts, b.And(parts...))
	}
	return b.Or(alts...), nil
}

// certainExcept is certain for v itself, ignoring v's own
// unevaluatedProperties and unevaluatedItems (which are being lowered).
func (l *Lowerer) certainExcept(v *schema.Value, e *evaluated, seen map[*schema.Value]bool) {
	stripped := &schema.Value{Kind: schema.Object, Ptr: v.Ptr}
	for _, m := range v.Members {
		if m.Key != "unevaluatedProperties" && m.Key != "unevaluatedItems" {
			stripped.Members = append(stripped.Members, m)
		}
	}
	seen[v] = true
	l.certain(stripped, e, seen)
}

// restrictNames is every value that is not an object, and every object
// whose members are all evaluated by ev or else satisfy up. It is built as
// the object language of a synthetic schema at v's location, whose
// declared members accept any value (nested as deep as the depth limit,
// since this only intersects other languages).
func (l *Lowerer) restrictNames(v, up *schema.Value, ev *evaluated, c ctx) (rx.Expr, error) {
	b := l.b
	any := &schema.Value{Kind: schema.Bool, Bool: true, Ptr: v.Ptr}
	l.deep[any] = true
	props := &schema.Value{Kind: schema.Object, Ptr: v.Ptr + "/properties"}
	for _, k := range c.loc.keys {
		if ev.names[k] {
			props.Members = append(props.Members, schema.Member{Key: k, Value: any})
		}
	}
	syn := &schema.Value{Kind: schema.Object, Ptr: v.Ptr, Members: []schema.Member{{Key: "properties", Value: props}}}
	if len(ev.patterns) > 0 {
		pp := &schema.Value{Kind: schema.Object, Ptr: v.Ptr + "/patternProperties"}
		for _, p := range ev.patterns {
			pp.Members = append(pp.Members, schema.Member{Key: p, Value: any})
		}
		syn.Members = append(syn.Members, schema.Member{Key: "patternProperties", Value: pp})
	}
	extra := up // members outside ev must satisfy up
	if up.Kind == schema.Bool && up.Bool {
		extra = any
	}
	syn.Members = append(syn.Members, schema.Member{Key: "additionalProperties", Value: extra})
	obj, err := l.objectWith(syn, c, nil)
	if err != nil {
		return rx.Nothing, err
	}
	notObject := b.Not(b.Concat(b.Byte('{'), b.Universe()))
	return b.Or(obj, notObject), nil
}

// restrictItems is every value that is not an array, and every array whose
// items past the evaluated prefix satisfy ui: the array language of a
// synthetic schema at v's location (prefix items accept any value).
// Items that only "contains" evaluates are treated as unevaluated, which
// can only reject more.
func (l *Lowerer) restrictItems(v, ui *schema.Value, ev *evaluated, c ctx) (rx.Expr, error) {
	b := l.b
	any := &schema.Value{Kind: schema.Bool, Bool: true, Ptr: v.Ptr}
	l.deep[any] = true
	rest := ui
	if ui.Kind == schema.Bool && ui.Bool {
		rest = any
	}
	prefix := &schema.Value{Kind: schema.Array, Ptr: v.Ptr + "/prefixItems"}
	for i := 0; i < ev.prefix; i++ {
		prefix.Items = append(prefix.Items, any)
	}
	syn := &schema.Value{Kind: schema.Object, Ptr: v.Ptr, Members: []schema.Member{
		{Key: "prefixItems", Value: prefix}, {Key: "items", Value: rest}}}
	l.synthetic[syn] = true
	arr, err := l.array(syn, c)
	if err != nil {
		return rx.Nothing, err
	}
	notArray := b.Not(b.Concat(b.Byte('['), b.Universe()))
	return b.Or(arr, notArray), nil
}
