package lang

import (
	"github.com/schemac-dev/schemac/compiler/rx"
	"github.com/schemac-dev/schemac/compiler/schema"
)

// array lowers "array" with its keywords: prefix items (prefixItems, or
// the array form of items before 2020-12), the schema of the remaining
// items (items, or additionalItems), minItems/maxItems, and
// contains/minContains/maxContains.
//
// contains is lowered by counting: each item is written either as one that
// surely matches the contains schema (positive lowering) and counts, or,
// when maxContains caps the count, as one that surely does not match (its
// item language minus a superset of the matches). Items that fit neither
// are left out, which only removes arrays. In negative polarity the two
// categories are supersets instead.
func (l *Lowerer) array(v *schema.Value, c ctx) (rx.Expr, error) {
	b, g, d := l.b, l.g, c.depth
	unique := false
	if u := v.Get("uniqueItems"); u != nil && u.Kind == schema.Bool && u.Bool && !c.neg {
		unique = true // dropped in negative polarity: a superset is fine
	}
	var prefix []*schema.Value
	var rest *schema.Value // nil: any value
	if l.doc.DraftAt(v) >= schema.Draft2020 || l.synthetic[v] {
		if p := v.Get("prefixItems"); p != nil {
			prefix = p.Items
		}
		rest = v.Get("items")
	} else if it := v.Get("items"); it != nil && it.Kind == schema.Array {
		prefix = it.Items
		rest = v.Get("additionalItems")
	} else {
		rest = it
	}
	minI, maxI, err := l.countPair(v, "minItems", "maxItems")
	if err != nil {
		return rx.Nothing, err
	}
	if unique {
		return l.uniqueArray(v, prefix, rest, minI, maxI, c)
	}
	if maxI >= 0 && maxI < minI {
		return rx.Nothing, nil
	}
	if len(prefix) > MaxExplicitItems || minI > MaxExplicitItems {
		return rx.Nothing, l.errf(schema.TooLarge, v, "array needs more than %d explicit positions", MaxExplicitItems)
	}
	// contains: count the items that match, between minC and maxC
	contains := v.Get("contains")
	minC, maxC := 0, -1
	var inPos, inNeg rx.Expr // the contains schema, as subset and superset
	if contains != nil {
		minC = 1
		if l.doc.DraftAt(v) >= schema.Draft2019 {
			if minC, maxC, err = l.countPair(v, "minContains", "maxContains"); err != nil {
				return rx.Nothing, err
			}
			if v.Get("minContains") == nil {
				minC = 1
			}
		}
		if minC > MaxExplicitItems || maxC > MaxExplicitItems {
			if !c.neg {
				return rx.Nothing, l.errf(schema.TooLarge, v, "minContains/maxContains above %d", MaxExplicitItems)
			}
			contains = nil
		}
	}
	if contains != nil {
		if inPos, err = l.lower(contains, c.child()); err != nil {
			return rx.Nothing, err
		}
		if inNeg, err = l.lower(contains, c.child().flip()); err != nil {
			return rx.Nothing, err
		}
		if c.neg {
			inPos, inNeg = inNeg, inPos // categories must be supersets here
		}
	}
	item := func(k int) (rx.Expr, error) {
		if k < len(prefix) {
			return l.lower(prefix[k], c.child())
		}
		if rest == nil {
			return l.anyValue(c.child()), nil
		}
		return l.lower(rest, c.child())
	}
	// split an item language into the counted and the uncounted kind
	split := func(it rx.Expr) (counted, other rx.Expr) {
		if contains == nil {
			return rx.Nothing, it
		}
		counted = b.And(it, inPos)
		other = it
		if maxC >= 0 {
			other = b.Minus(it, inNeg)
		}
		return counted, other
	}
	end := func(started bool) rx.Expr {
		if started {
			return b.Concat(g.close(d), b.Byte(']'))
		}
		return b.Concat(g.ws, b.Byte(']'))
	}
	lead := func(started bool) rx.Expr {
		if started {
			return g.sep(d)
		}
		return g.open(d)
	}
	// capC: counts above it behave alike
	capC := minC
	if maxC >= 0 {
		capC = maxC
	}
	if contains != nil && maxI > MaxExplicitItems {
		if !c.neg {
			return rx.Nothing, l.errf(schema.TooLarge, v, "maxItems with contains above %d", MaxExplicitItems)
		}
		maxI = -1
	}
	explicit := max(len(prefix), minI)
	restItem, err := item(len(prefix))
	if err != nil {
		return rx.Nothing, err
	}
	restCounted, restOther := split(restItem)
	nextCount := func(cnt int) int {
		if maxC >= 0 {
			return cnt + 1
		}
		return min(cnt+1, capC)
	}
	endIf := func(k, cnt int) rx.Expr {
		if k >= minI && cnt >= minC {
			return end(k > 0)
		}
		return rx.Nothing
	}
	// tail: after at least one item, at a position past the explicit ones,
	// with no maxItems: only the count matters.
	tailEnd := func(cnt int) rx.Expr { // explicit ≥ minI, and an item was written
		if cnt >= minC {
			return end(true)
		}
		return rx.Nothing
	}
	tailMemo := map[int]rx.Expr{}
	var tail func(cnt int) rx.Expr
	tail = func(cnt int) rx.Expr {
		if e, ok := tailMemo[cnt]; ok {
			return e
		}
		var e rx.Expr
		switch {
		case contains == nil || (maxC < 0 && cnt >= capC):
			e = b.Concat(b.Star(b.Concat(g.sep(d), restItem)), tailEnd(cnt))
		case maxC >= 0 && cnt >= maxC:
			e = b.Concat(b.Star(b.Concat(g.sep(d), restOther)), tailEnd(cnt))
		default:
			e = b.Concat(b.Star(b.Concat(g.sep(d), restOther)),
				b.Or(tailEnd(cnt), b.Concat(g.sep(d), restCounted, tail(nextCount(cnt)))))
		}
		tailMemo[cnt] = e
		return e
	}
	type key struct{ k, cnt int }
	memo := map[key]rx.Expr{}
	var from func(k, cnt int) (rx.Expr, error)
	from = func(k, cnt int) (rx.Expr, error) {
		if e, ok := memo[key{k, cnt}]; ok {
			return e, nil
		}
		if k >= explicit && k > 0 && maxI < 0 {
			return tail(cnt), nil
		}
		if k >= explicit && contains == nil && maxI >= 0 {
			// a bounded loop over the rest
			alts := []rx.Expr{endIf(k, cnt)}
			if k < maxI && restItem != rx.Nothing {
				more := b.Repeat(b.Concat(g.sep(d), restItem), 0, maxI-k-1)
				alts = append(alts, b.Concat(lead(k > 0), restItem, more, end(true)))
			}
			return b.Or(alts...), nil
		}
		alts := []rx.Expr{endIf(k, cnt)}
		if maxI < 0 || k < maxI {
			it := restItem
			if k < len(prefix) {
				var err error
				if it, err = item(k); err != nil {
					return rx.Nothing, err
				}
			}
			counted, other := split(it)
			if other != rx.Nothing {
				t, err := from(k+1, cnt)
				if err != nil {
					return rx.Nothing, err
				}
				alts = append(alts, b.Concat(lead(k > 0), other, t))
			}
			if counted != rx.Nothing && (maxC < 0 || cnt < maxC) {
				t, err := from(k+1, nextCount(cnt))
				if err != nil {
					return rx.Nothing, err
				}
				alts = append(alts, b.Concat(lead(k > 0), counted, t))
			}
		}
		e := b.Or(alts...)
		memo[key{k, cnt}] = e
		return e, nil
	}
	body, err := from(0, 0)
	if err != nil {
		return rx.Nothing, err
	}
	return b.Concat(b.Byte('['), body), nil
}

// countPair reads two optional count keywords; the second is -1 when absent.
func (l *Lowerer) countPair(v *schema.Value, minKw, maxKw string) (min, max int, err error) {
	max = -1
	if m := v.Get(minKw); m != nil {
		if min, err = l.count(m); err != nil {
			return 0, 0, err
		}
	}
	if m := v.Get(maxKw); m != nil {
		if max, err = l.count(m); err != nil {
			return 0, 0, err
		}
	}
	return min, max, nil
}

// MaxUniqueValues bounds the item values uniqueItems can track: the
// automaton remembers which values were used, one state per subset.
const MaxUniqueValues = 10

// uniqueArray lowers uniqueItems. Where the items come from a small finite
// set of values (enum, const, boolean, null) it is exact: the automaton
// remembers which values were used. Uniqueness of unbounded values is not
// regular; there uniqueKeyed writes a sound subset.
func (l *Lowerer) uniqueArray(v *schema.Value, prefix []*schema.Value, rest *schema.Value, minI, maxI int, c ctx) (rx.Expr, error) {
	b, g, d := l.b, l.g, c.depth
	if len(prefix) > 0 || v.Get("contains") != nil {
		return rx.Nothing, l.unsupported(v, "uniqueItems with prefixItems or contains")
	}
	cands := finiteValues(rest)
	if cands == nil || len(cands) > MaxUniqueValues {
		return l.uniqueKeyed(rest, minI, maxI, c)
	}
	item, err := l.lower(rest, c.child())
	if err != nil {
		return rx.Nothing, err
	}
	// the values the item schema admits, as text at the item depth, unique
	var lits []string
	seen := map[string]bool{}
	for _, cv := range cands {
		text := string(appendValue(nil, cv, l.opt.Layout, l.order, d+1))
		if !seen[text] && l.matches(item, text) {
			seen[text] = true
			lits = append(lits, text)
		}
	}
	memo := map[int]rx.Expr{}
	var from func(used, count int) rx.Expr
	from = func(used, count int) rx.Expr {
		if e, ok := memo[used]; ok {
			return e
		}
		var alts []rx.Expr
		if count >= minI {
			if count > 0 {
				alts = append(alts, b.Concat(g.close(d), b.Byte(']')))
			} else {
				alts = append(alts, b.Concat(g.ws, b.Byte(']')))
			}
		}
		if maxI < 0 || count < maxI {
			lead := g.open(d)
			if count > 0 {
				lead = g.sep(d)
			}
			for i, lit := range lits {
				if used&(1<<i) == 0 {
					alts = append(alts, b.Concat(lead, b.Literal(lit), from(used|1<<i, count+1)))
				}
			}
		}
		e := b.Or(alts...)
		memo[used] = e
		return e
	}
	return b.Concat(b.Byte('['), from(0, 0)), nil
}

// uniqueKeyed lowers uniqueItems over items of an unbounded domain by a
// sound subset that a finite automaton can check: the array is empty, or
// holds one item of any kind, or holds strings whose first characters are
// written raw, are printable ASCII and strictly increase from item to item
// (an empty string may come first). Strings that differ in their first
// character differ, so the items are unique whatever escapes follow.
func (l *Lowerer) uniqueKeyed(rest *schema.Value, minI, maxI int, c ctx) (rx.Expr, error) {
	b, g, d := l.b, l.g, c.depth
	item := l.anyValue(c.child())
	if rest != nil {
		var err error
		if item, err = l.lower(rest, c.child()); err != nil {
			return rx.Nothing, err
		}
	}
	// keyed[k]: the items that are strings with the k-th key
	var keyed []rx.Expr
	keyed = append(keyed, b.And(item, b.Literal(`""`)))
	for k := byte(0x20); k < 0x7f; k++ {
		if k == '"' || k == '\\' {
			continue
		}
		keyed = append(keyed, b.And(item, b.Concat(b.Literal(`"`+string(k)), b.Universe())))
	}
	n := len(keyed)
	if maxI < 0 || maxI > n {
		maxI = n
	}
	level := func(cnt int) int { // counts at or above both bounds behave alike
		return min(cnt, max(minI, maxI))
	}
	closeArr := b.Concat(g.close(d), b.Byte(']'))
	// after(i, cnt): cnt items written (cnt ≥ 1), the next key is ≥ i
	memo := map[[2]int]rx.Expr{}
	var after func(i, cnt int) rx.Expr
	after = func(i, cnt int) rx.Expr {
		key := [2]int{i, level(cnt)}
		if e, ok := memo[key]; ok {
			return e
		}
		var alts []rx.Expr
		if i == n && cnt >= minI {
			alts = append(alts, closeArr)
		}
		if i < n {
			alts = append(alts, after(i+1, cnt))
			if cnt < maxI {
				alts = append(alts, b.Concat(g.sep(d), keyed[i], after(i+1, cnt+1)))
			}
		}
		e := b.Or(alts...)
		memo[key] = e
		return e
	}
	var firsts []rx.Expr
	for i := range keyed {
		firsts = append(firsts, b.Concat(keyed[i], after(i+1, 1)))
	}
	alts := []rx.Expr{b.Concat(g.open(d), b.Or(firsts...))}
	if minI == 0 {
		alts = append(alts, b.Concat(g.ws, b.Byte(']')))
	}
	if minI <= 1 && maxI >= 1 {
		alts = append(alts, b.Concat(g.open(d), item, closeArr))
	}
	return b.Concat(b.Byte('['), b.Or(alts...)), nil
}

// finiteValues returns the values a schema can only take, when they are
// listed (enum, const) or few by type (boolean, null); nil otherwise.
func finiteValues(s *schema.Value) []*schema.Value {
	if s == nil || s.Kind != schema.Object {
		return nil
	}
	if cv := s.Get("const"); cv != nil {
		return []*schema.Value{cv}
	}
	if en := s.Get("enum"); en != nil {
		return en.Items
	}
	if t := s.Get("type"); t != nil && t.Kind == schema.String {
		switch t.Str {
		case "boolean":
			return []*schema.Value{{Kind: schema.Bool, Bool: true}, {Kind: schema.Bool}}
		case "null":
			return []*schema.Value{{Kind: schema.Null}}
		}
	}
	return nil
}
