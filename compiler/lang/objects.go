package lang

import (
	"slices"

	"github.com/schemac-dev/schemac/compiler/pattern"
	"github.com/schemac-dev/schemac/compiler/rx"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/canon"
)

// location is what every schema applying to one instance says about
// object members: the names any of them mentions, in the global order,
// and whether undeclared members are admitted in positive polarity.
type location struct {
	keys []string
	open bool
}

// locationOf gathers the location of the instance that v applies to, from
// v and every subschema applying to the same instance (allOf, anyOf, oneOf,
// not, if, then, else, $ref).
func (l *Lowerer) locationOf(v *schema.Value) *location {
	if loc, ok := l.locs[v]; ok {
		return loc
	}
	names := map[string]bool{}
	declared, explicit := false, false
	seen := map[*schema.Value]bool{}
	var visit func(s *schema.Value)
	visit = func(s *schema.Value) {
		if s == nil || s.Kind != schema.Object || seen[s] {
			return
		}
		seen[s] = true
		if p := s.Get("properties"); p != nil {
			for _, m := range p.Members {
				names[m.Key] = true
				declared = true
			}
		}
		for _, kw := range []string{"required"} {
			if r := s.Get(kw); r != nil {
				for _, it := range r.Items {
					names[it.Str] = true
				}
			}
		}
		for _, kw := range []string{"dependentRequired", "dependencies", "dependentSchemas"} {
			if dr := s.Get(kw); dr != nil {
				for _, m := range dr.Members {
					names[m.Key] = true
					if m.Value.Kind == schema.Array {
						for _, it := range m.Value.Items {
							names[it.Str] = true
						}
					} else {
						visit(m.Value) // applies to the same instance
					}
				}
			}
		}
		if ap := s.Get("additionalProperties"); ap != nil && !(ap.Kind == schema.Bool && !ap.Bool) {
			explicit = true
		}
		if s.Get("patternProperties") != nil {
			explicit = true
		}
		for _, kw := range []string{"allOf", "anyOf", "oneOf"} {
			if list := s.Get(kw); list != nil {
				for _, it := range list.Items {
					visit(it)
				}
			}
		}
		for _, kw := range []string{"not", "if", "then", "else"} {
			visit(s.Get(kw))
		}
		if s.Get("$ref") != nil {
			if t, err := l.doc.Deref(s); err == nil {
				visit(t)
			}
		}
		if dr := s.Get("$dynamicRef"); dr != nil {
			if t, err := l.dynamicRef(s, dr); err == nil {
				visit(t)
			}
		}
	}
	visit(v)
	loc := &location{open: explicit || !declared}
	for n := range names {
		loc.keys = append(loc.keys, n)
	}
	slices.SortFunc(loc.keys, l.order.Compare) // the order Format writes
	l.locs[v] = loc
	return loc
}

// presence of a known member
type presence uint8

const (
	may presence = iota
	must
	never
)

// object lowers "object" with its keywords. Members with known names come
// first, in the global order, each present or absent as the schema allows;
// undeclared members follow (see location.open).
func (l *Lowerer) object(v *schema.Value, c ctx) (rx.Expr, error) {
	// dependentSchemas (and "dependencies" with schema values): if the
	// member is present, the object must also satisfy the schema:
	// (objects without k) ∪ ((objects with k) ∩ S), for each such k.
	var deps []schema.Member
	for _, kw := range []string{"dependentSchemas", "dependencies"} {
		if ds := v.Get(kw); ds != nil {
			for _, m := range ds.Members {
				if m.Value.Kind != schema.Array {
					deps = append(deps, m)
				}
			}
		}
	}
	if len(deps) == 0 {
		return l.objectWith(v, c, nil)
	}
	if len(deps) > MaxDependencyKeys {
		if c.neg {
			return l.objectWith(v, c, nil)
		}
		return rx.Nothing, l.errf(schema.TooLarge, v, "more than %d dependentSchemas", MaxDependencyKeys)
	}
	b := l.b
	parts := []rx.Expr{}
	for _, m := range deps {
		without, err := l.objectWith(v, c, map[string]presence{m.Key: never})
		if err != nil {
			return rx.Nothing, err
		}
		with, err := l.objectWith(v, c, map[string]presence{m.Key: must})
		if err != nil {
			return rx.Nothing, err
		}
		dep, err := l.lower(m.Value, c)
		if err != nil {
			return rx.Nothing, err
		}
		parts = append(parts, b.Or(without, b.And(with, dep)))
	}
	return b.And(parts...), nil
}

// objectWith is object without dependentSchemas, with the presence of some
// members forced (must or never).
func (l *Lowerer) objectWith(v *schema.Value, c ctx, force map[string]presence) (rx.Expr, error) {
	b, g, d := l.b, l.g, c.depth
	loc := c.loc
	props := v.Get("properties")
	required := map[string]bool{}
	if r := v.Get("required"); r != nil {
		for _, it := range r.Items {
			required[it.Str] = true
		}
	}
	ap := v.Get("additionalProperties")
	// patternProperties: a name surely matches pattern i if it is in
	// patterns[i] (it matches under both the ECMA-262 and the RE2 reading),
	// and surely not if it is outside wide[i] (it matches under neither).
	// Names in between are never written.
	var patterns, wide []rx.Expr
	var ppSchemas []*schema.Value
	if pp := v.Get("patternProperties"); pp != nil {
		if len(pp.Members) > MaxPatternProperties {
			return rx.Nothing, l.errf(schema.TooLarge, pp, "more than %d patternProperties", MaxPatternProperties)
		}
		for _, m := range pp.Members {
			e, err := pattern.SearchPortable(b, m.Key)
			var w rx.Expr
			if err == nil {
				w, err = pattern.SearchEither(b, m.Key)
			}
			if err != nil {
				if c.neg {
					return b.Universe(), nil
				}
				return rx.Nothing, l.patternError(m.Value, err)
			}
			patterns, wide = append(patterns, e), append(wide, w)
			ppSchemas = append(ppSchemas, m.Value)
		}
	}
	// undeclared names: a region's names surely match its patterns and
	// surely not the others; in negative polarity, may and may not
	in, out := patterns, wide
	if c.neg {
		in, out = wide, patterns
	}
	var names rx.Expr = b.Universe() // propertyNames, as JSON text of the name
	if pn := v.Get("propertyNames"); pn != nil {
		e, err := l.lower(pn, ctx{depth: d + 1, neg: c.neg})
		if err != nil {
			return rx.Nothing, err
		}
		names = e
	}
	minP, maxP := 0, -1
	var err error
	if m := v.Get("minProperties"); m != nil {
		if minP, err = l.count(m); err != nil {
			return rx.Nothing, err
		}
	}
	if m := v.Get("maxProperties"); m != nil {
		if maxP, err = l.count(m); err != nil {
			return rx.Nothing, err
		}
	}
	if minP > MaxExplicitItems || maxP > MaxExplicitItems {
		if c.neg {
			minP, maxP = 0, -1
		} else {
			return rx.Nothing, l.errf(schema.TooLarge, v, "minProperties/maxProperties above %d", MaxExplicitItems)
		}
	}
	// dependencies: a present ⇒ b present
	var deps [][2]string
	for _, kw := range []string{"dependentRequired", "dependencies"} {
		dr := v.Get(kw)
		if dr == nil {
			continue // "dependencies" is honoured in every draft: validators still apply it after 2019-09
		}
		for _, m := range dr.Members {
			if m.Value.Kind != schema.Array {
				continue // a schema: see object
			}
			for _, it := range m.Value.Items {
				deps = append(deps, [2]string{m.Key, it.Str})
			}
		}
	}

	// value language of a member with a known name
	valueOf := func(schemas []*schema.Value) (rx.Expr, error) {
		if len(schemas) == 0 {
			return l.anyValue(c.child()), nil
		}
		parts := make([]rx.Expr, len(schemas))
		for i, s := range schemas {
			e, err := l.lower(s, c.child())
			if err != nil {
				return rx.Nothing, err
			}
			parts[i] = e
		}
		return b.And(parts...), nil
	}
	type known struct {
		name   string
		rule   presence
		member rx.Expr // "name": value
	}
	var keys []known
	for _, k := range loc.keys {
		var schemas []*schema.Value
		inProps := false
		if props != nil {
			if s := props.Get(k); s != nil {
				schemas, inProps = append(schemas, s), true
			}
		}
		matched := false
		ambiguous := false
		for i, p := range patterns {
			switch {
			case l.matches(p, k):
				schemas, matched = append(schemas, ppSchemas[i]), true
			case l.matches(wide[i], k):
				ambiguous = true // the readings disagree on this name
			}
		}
		allowed := true
		if !inProps && !matched && ap != nil && !(ambiguous && c.neg) {
			if ap.Kind == schema.Bool {
				allowed = ap.Bool
			} else {
				schemas = append(schemas, ap)
			}
		}
		text := string(canon.AppendString(nil, k))
		if !l.matches(names, text) || (ambiguous && !c.neg) {
			allowed = false
		}
		var member rx.Expr = rx.Nothing
		if allowed {
			val, err := valueOf(schemas)
			if err != nil {
				return rx.Nothing, err
			}
			member = b.Concat(b.Literal(text), g.colon(), val)
		}
		rule := may
		switch {
		case required[k] && member == rx.Nothing:
			return rx.Nothing, nil // a required member can have no value
		case required[k]:
			rule = must
		case member == rx.Nothing:
			rule = never
		}
		switch f, ok := force[k]; {
		case !ok:
		case f == must && rule == never, f == never && rule == must:
			return rx.Nothing, nil
		default:
			rule = f
		}
		keys = append(keys, known{k, rule, member})
	}
	for k := range required {
		if !slices.Contains(loc.keys, k) {
			return rx.Nothing, l.errf(schema.Internal, v, "required member %q is not among the names known at this location", k)
		}
	}

	// undeclared members, split into regions by the patterns they match
	var extra rx.Expr = rx.Nothing
	if c.neg || loc.open {
		var knownNames []rx.Expr
		for _, k := range loc.keys {
			knownNames = append(knownNames, b.Literal(k))
		}
		notKnown := b.Minus(b.Star(b.AnyRune()), b.Or(knownNames...))
		var members []rx.Expr
		for set := 0; set < 1<<len(patterns); set++ {
			parts := []rx.Expr{notKnown}
			var schemas []*schema.Value
			for i := range patterns {
				if set&(1<<i) != 0 {
					parts = append(parts, in[i])
					schemas = append(schemas, ppSchemas[i])
				} else {
					parts = append(parts, b.Not(out[i]))
				}
			}
			if set == 0 && ap != nil {
				if ap.Kind == schema.Bool {
					if !ap.Bool {
						continue
					}
				} else {
					schemas = append(schemas, ap)
				}
			}
			keyText, err := l.spelled(b.And(parts...), true)
			if err != nil {
				return rx.Nothing, err
			}
			keyText = b.And(keyText, names)
			val, err := valueOf(schemas)
			if err != nil {
				return rx.Nothing, err
			}
			members = append(members, b.Concat(keyText, g.colon(), val))
		}
		extra = b.Or(members...)
	}

	// the member sequence, tracking the count and the dependency bits
	tracked := map[string]int{}
	for _, dp := range deps {
		for _, n := range dp {
			if _, ok := tracked[n]; !ok {
				tracked[n] = len(tracked)
			}
		}
	}
	if len(tracked) > MaxDependencyKeys {
		if !c.neg {
			return rx.Nothing, l.errf(schema.TooLarge, v, "dependentRequired names more than %d members", MaxDependencyKeys)
		}
		deps, tracked = nil, map[string]int{}
	}
	limit := minP
	if maxP >= 0 {
		limit = maxP
	}
	lead := func(started bool) rx.Expr {
		if started {
			return g.sep(d)
		}
		return g.open(d)
	}
	end := func(started bool) rx.Expr {
		if started {
			return b.Concat(g.close(d), b.Byte('}'))
		}
		return b.Concat(g.ws, b.Byte('}'))
	}
	type state struct {
		i, count int
		bits     uint32
		started  bool
	}
	memo := map[state]rx.Expr{}
	var extras func(count int, started bool) rx.Expr
	extras = func(count int, started bool) rx.Expr {
		var alts []rx.Expr
		if count >= minP {
			alts = append(alts, end(started))
		}
		if extra == rx.Nothing || (maxP >= 0 && count >= maxP) {
			return b.Or(alts...)
		}
		if maxP < 0 && count >= limit && started {
			// the count no longer matters: any number of further members
			return b.Concat(b.Star(b.Concat(g.sep(d), extra)), end(true))
		}
		nc := count + 1
		if maxP < 0 && nc > limit {
			nc = limit
		}
		alts = append(alts, b.Concat(lead(started), extra, extras(nc, true)))
		return b.Or(alts...)
	}
	var seq func(st state) rx.Expr
	seq = func(st state) rx.Expr {
		if e, ok := memo[st]; ok {
			return e
		}
		var e rx.Expr
		if st.i == len(keys) {
			ok := true
			for _, dp := range deps {
				if st.bits&(1<<tracked[dp[0]]) != 0 && st.bits&(1<<tracked[dp[1]]) == 0 {
					ok = false
				}
			}
			e = rx.Nothing
			if ok {
				e = extras(st.count, st.started)
			}
		} else {
			k := keys[st.i]
			var alts []rx.Expr
			if k.rule != must {
				alts = append(alts, seq(state{st.i + 1, st.count, st.bits, st.started}))
			}
			if k.rule != never && (maxP < 0 || st.count < maxP) {
				nc := st.count + 1
				if maxP < 0 && nc > limit {
					nc = limit
				}
				bits := st.bits
				if t, ok := tracked[k.name]; ok {
					bits |= 1 << t
				}
				alts = append(alts, b.Concat(lead(st.started), k.member, seq(state{st.i + 1, nc, bits, true})))
			}
			e = b.Or(alts...)
		}
		memo[st] = e
		return e
	}
	return b.Concat(b.Byte('{'), seq(state{})), nil
}

// matches reports whether the byte string s is in the language of e.
func (l *Lowerer) matches(e rx.Expr, s string) bool {
	for i := 0; i < len(s) && e != rx.Nothing; i++ {
		e = l.b.Deriv(e, s[i])
	}
	return l.b.Nullable(e)
}
