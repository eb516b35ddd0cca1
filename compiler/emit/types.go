package emit

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/schemac-dev/schemac/compiler/schema"
)

// kind is the shape of a Go type chosen for a schema node.
type kind int

const (
	kRaw    kind = iota // json.RawMessage: any JSON the schema allows
	kBool               // bool
	kInt                // int64
	kFloat              // float64
	kString             // string
	kEnum               // a named string type with one constant per value
	kStruct             // a named struct
	kSlice              // []elem
	kMap                // map[string]elem
	kNamed              // a named type wrapping another (the root, when it is no struct or enum)
	kUnion              // a named struct with one pointer per alternative of an anyOf/oneOf
)

// goType is the Go type of a schema node.
type goType struct {
	kind  kind
	name  string // Go name of an enum or struct
	doc   string
	node  *schema.Value // the schema object the type was made from
	elem  *goType       // kSlice, kMap
	wraps *goType       // kNamed
	// kUnion: the alternatives (closed structs), and whether exactly one
	// must match (oneOf) rather than at least one (anyOf).
	variants []*goType
	oneOf    bool
	// kStruct
	fields []*field
	closed bool // no undeclared members allowed
	// kEnum
	values []string
	consts []string // Go names of the constants, parallel to values
	// checks is what Validate checks before the automaton does.
	checks checks
	// mapping is a short note on why kRaw was chosen, for the doc comment.
	mapping string
}

// field is one member of a struct.
type field struct {
	goName, jsonName string
	typ              *goType
	required         bool
	nullable         bool // JSON null allowed: the Go type is a pointer (or a nil slice/map/raw)
	pointer          bool // the Go type is *typ
	doc              string
}

// checks are the cheap assertions a generated Validate makes on one value,
// taken from the schema node's own keywords (which hold whatever else the
// node says). Bounds are literals as written in the schema.
type checks struct {
	min, max             string // minimum / maximum
	exclMin, exclMax     string // exclusiveMinimum / exclusiveMaximum
	minLen, maxLen       int    // code points; -1 when absent
	minItems, maxItems   int    // -1 when absent
	minProps, maxProps   int    // -1 when absent
	notNil               bool   // a slice or map that may not be JSON null
	constStr             *string
	hasNumber, hasString bool
}

// typer maps schema nodes to Go types.
type typer struct {
	doc   *schema.Document
	names *namer
	// byNode memoizes named types by schema node, so a $ref'd definition
	// is one Go type however often it is used.
	byNode map[*schema.Value]*goType
	// building marks structs under construction: a field that refers back
	// to one of them is a pointer (Go types cannot contain themselves).
	building map[*goType]bool
	// named lists the named types in the order they were made.
	named []*goType
}

func newTyper(doc *schema.Document) *typer {
	return &typer{doc: doc, names: newNamer(), byNode: map[*schema.Value]*goType{}, building: map[*goType]bool{}}
}

// resolve follows $ref (and a lone allOf of one schema, the way Pydantic
// wraps a $ref with a description) to the schema that says what a value
// is. It returns the target and, for a $ref into definitions, the
// definition's name.
func (t *typer) resolve(s *schema.Value) (*schema.Value, string, error) {
	hint := ""
	for range 64 {
		if s.Kind != schema.Object {
			return s, hint, nil
		}
		if r := s.Get("$ref"); r != nil && r.Kind == schema.String {
			target, err := t.doc.Deref(s)
			if err != nil {
				return nil, "", err
			}
			if onlyAnnotations(s, "$ref") {
				if name := defName(r.Str); name != "" {
					hint = name
				}
				s = target
				continue
			}
			return s, hint, nil
		}
		if all := s.Get("allOf"); all != nil && len(all.Items) == 1 && onlyAnnotations(s, "allOf") {
			s = all.Items[0]
			continue
		}
		return s, hint, nil
	}
	return nil, "", fmt.Errorf("%s: $ref chain too long", s.Ptr)
}

// defName is the last token of a $ref into $defs or definitions.
func defName(ref string) string {
	for _, p := range []string{"#/$defs/", "#/definitions/"} {
		if rest, ok := strings.CutPrefix(ref, p); ok && !strings.Contains(rest, "/") {
			return strings.NewReplacer("~1", "/", "~0", "~").Replace(rest)
		}
	}
	return ""
}

// annotation keywords never constrain a value.
var annotation = map[string]bool{
	"title": true, "description": true, "default": true, "examples": true,
	"deprecated": true, "readOnly": true, "writeOnly": true, "$comment": true,
	"$schema": true, "$id": true, "id": true, "$anchor": true, "$defs": true,
	"definitions": true, "$vocabulary": true, "$dynamicAnchor": true,
}

// onlyAnnotations reports whether s has no keyword but except and
// annotations.
func onlyAnnotations(s *schema.Value, except string) bool {
	for _, m := range s.Members {
		if m.Key != except && !annotation[m.Key] {
			return false
		}
	}
	return true
}

// typeSet reads "type" (a string or an array) as a set; nil means absent.
func typeSet(s *schema.Value) map[string]bool {
	tv := s.Get("type")
	if tv == nil {
		return nil
	}
	set := map[string]bool{}
	switch tv.Kind {
	case schema.String:
		set[tv.Str] = true
	case schema.Array:
		for _, it := range tv.Items {
			set[it.Str] = true
		}
	}
	return set
}

// nullBranch splits an anyOf/oneOf of exactly two schemas, one of which
// only admits null, the way Pydantic writes Optional[X]: it returns X.
func (t *typer) nullBranch(s *schema.Value) *schema.Value {
	for _, kw := range []string{"anyOf", "oneOf"} {
		alts := s.Get(kw)
		if alts == nil || len(alts.Items) != 2 {
			continue
		}
		for i, a := range alts.Items {
			if isNullOnly(a) {
				other := alts.Items[1-i]
				if isNullOnly(other) {
					return nil
				}
				return other
			}
		}
	}
	return nil
}

func isNullOnly(s *schema.Value) bool {
	ts := typeSet(s)
	return len(ts) == 1 && ts["null"] && onlyAnnotations(s, "type")
}

// typeOf returns the Go type for schema node s, whether JSON null is among
// the values s allows as far as the type is concerned, and an error only
// for a $ref that cannot be resolved.
//
// The rules, in order: a $ref (or a lone allOf) is its target, named after
// the definition; Optional[X] written as anyOf/oneOf [X, null] is a nullable
// X; "type" with "null" among others is nullable; an "enum" of strings is a
// named string type; an object with "properties" is a struct, one with only
// "additionalProperties" a map; an array with "items" a slice; integer,
// number, string and boolean the Go basic types; anything else
// (unions of several types, tuples, objects whose undeclared members are
// constrained) is json.RawMessage, which Validate still checks exactly.
func (t *typer) typeOf(s *schema.Value, hint string) (*goType, bool, error) {
	s, refName, err := t.resolve(s)
	if err != nil {
		return nil, false, err
	}
	if refName != "" {
		hint = refName
	}
	if s.Kind == schema.Bool {
		return &goType{kind: kRaw, node: s, mapping: "any value the schema allows"}, s.Bool, nil
	}
	if g, ok := t.byNode[s]; ok {
		return g, t.nullable(s), nil
	}
	if inner := t.nullBranch(s); inner != nil && onlyAnnotationsBut(s, "anyOf", "oneOf") {
		g, _, err := t.typeOf(inner, hintOr(hint, s))
		return g, true, err
	}
	if g, err := t.union(s, hint); g != nil || err != nil {
		return g, false, err
	}
	ts := typeSet(s)
	nullable := t.nullable(s)
	var nonNull []string
	for _, name := range []string{"object", "array", "string", "integer", "number", "boolean"} {
		if ts[name] {
			nonNull = append(nonNull, name)
		}
	}
	if ts == nil {
		nonNull = inferTypes(s)
	}
	if len(nonNull) == 2 && nonNull[0] == "integer" && nonNull[1] == "number" {
		nonNull = []string{"number"}
	}
	if len(nonNull) != 1 {
		return t.raw(s, "a union of JSON types"), nullable, nil
	}
	switch nonNull[0] {
	case "string":
		if vals, ok := stringEnum(s); ok {
			return t.enum(s, vals, hintOr(hint, s)), nullable, nil
		}
		return t.scalar(s, kString), nullable, nil
	case "integer":
		return t.scalar(s, kInt), nullable, nil
	case "number":
		return t.scalar(s, kFloat), nullable, nil
	case "boolean":
		return t.scalar(s, kBool), nullable, nil
	case "array":
		return t.array(s, hint, nullable)
	case "object":
		return t.object(s, hint, nullable)
	}
	return t.raw(s, "a value of no single JSON type"), nullable, nil
}

func onlyAnnotationsBut(s *schema.Value, except ...string) bool {
	for _, m := range s.Members {
		if !annotation[m.Key] && !contains(except, m.Key) {
			return false
		}
	}
	return true
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// nullable reports whether s's own "type", "enum" or "const" let null
// through (an absent "type" lets everything through).
func (t *typer) nullable(s *schema.Value) bool {
	if s.Kind == schema.Bool {
		return s.Bool
	}
	if ts := typeSet(s); ts != nil && !ts["null"] {
		return false
	}
	if e := s.Get("enum"); e != nil {
		for _, it := range e.Items {
			if it.Kind == schema.Null {
				return true
			}
		}
		return false
	}
	if c := s.Get("const"); c != nil {
		return c.Kind == schema.Null
	}
	return typeSet(s) != nil || len(inferTypes(s)) == 0
}

// inferTypes guesses the JSON type of a node without "type" from keywords
// that only make sense for one type (properties → object, items → array,
// and enum/const values). No guess (nil) means any type.
func inferTypes(s *schema.Value) []string {
	kinds := map[string]bool{}
	add := func(v *schema.Value) {
		switch v.Kind {
		case schema.String:
			kinds["string"] = true
		case schema.Number:
			kinds["number"] = true
		case schema.Bool:
			kinds["boolean"] = true
		case schema.Object:
			kinds["object"] = true
		case schema.Array:
			kinds["array"] = true
		}
	}
	if e := s.Get("enum"); e != nil {
		for _, it := range e.Items {
			add(it)
		}
	} else if c := s.Get("const"); c != nil {
		add(c)
	} else {
		return nil
	}
	var out []string
	for _, name := range []string{"object", "array", "string", "integer", "number", "boolean"} {
		if kinds[name] {
			out = append(out, name)
		}
	}
	return out
}

// stringEnum returns the string values of s's enum when every value is a
// string or null.
func stringEnum(s *schema.Value) ([]string, bool) {
	e := s.Get("enum")
	if e == nil || e.Kind != schema.Array {
		return nil, false
	}
	var vals []string
	for _, it := range e.Items {
		switch it.Kind {
		case schema.String:
			vals = append(vals, it.Str)
		case schema.Null:
		default:
			return nil, false
		}
	}
	return vals, len(vals) > 0
}

func hintOr(hint string, s *schema.Value) string {
	if title := s.Get("title"); title != nil && title.Kind == schema.String && title.Str != "" {
		return title.Str
	}
	return hint
}

func docOf(s *schema.Value) string {
	if s.Kind != schema.Object {
		return ""
	}
	if d := s.Get("description"); d != nil && d.Kind == schema.String {
		return d.Str
	}
	return ""
}

func (t *typer) raw(s *schema.Value, why string) *goType {
	return &goType{kind: kRaw, node: s, mapping: why, checks: readChecks(s, kRaw)}
}

func (t *typer) scalar(s *schema.Value, k kind) *goType {
	return &goType{kind: k, node: s, checks: readChecks(s, k)}
}

func (t *typer) enum(s *schema.Value, vals []string, hint string) *goType {
	g := &goType{kind: kEnum, node: s, doc: docOf(s), values: vals, checks: readChecks(s, kString)}
	g.name = t.names.typeName(hint)
	used := map[string]bool{}
	for _, v := range vals {
		c := identifier(v)
		if c == "" {
			c = "Empty"
		}
		c = g.name + c
		for base, i := c, 2; used[c]; i++ {
			c = fmt.Sprintf("%s%d", base, i)
		}
		used[c] = true
		t.names.reserve(c)
		g.consts = append(g.consts, c)
	}
	t.byNode[s] = g
	t.named = append(t.named, g)
	return g
}

func (t *typer) array(s *schema.Value, hint string, nullable bool) (*goType, bool, error) {
	items := s.Get("items")
	if s.Get("prefixItems") != nil || (items != nil && items.Kind == schema.Array) {
		return t.raw(s, "a tuple"), nullable, nil
	}
	g := &goType{kind: kSlice, node: s, checks: readChecks(s, kSlice)}
	if items == nil {
		g.elem = &goType{kind: kRaw, mapping: "any item"}
		return g, nullable, nil
	}
	elem, elemNull, err := t.typeOf(items, singular(hint))
	if err != nil {
		return nil, false, err
	}
	if elemNull && elem.kind != kRaw {
		// Items that may be null: keep them exact as raw JSON.
		elem = t.raw(items, "items that may be null")
	}
	g.elem = elem
	return g, nullable, nil
}

func (t *typer) object(s *schema.Value, hint string, nullable bool) (*goType, bool, error) {
	props := s.Get("properties")
	addl := s.Get("additionalProperties")
	closed := (addl != nil && addl.Kind == schema.Bool && !addl.Bool) ||
		isFalse(s.Get("unevaluatedProperties"))
	openTyped := addl != nil && !(addl.Kind == schema.Bool)
	if s.Get("patternProperties") != nil {
		return t.raw(s, "an object with patternProperties"), nullable, nil
	}
	if props == nil || len(props.Members) == 0 {
		if openTyped {
			elem, elemNull, err := t.typeOf(addl, singular(hint))
			if err != nil {
				return nil, false, err
			}
			if elemNull && elem.kind != kRaw {
				elem = t.raw(addl, "values that may be null")
			}
			return &goType{kind: kMap, node: s, elem: elem, checks: readChecks(s, kMap)}, nullable, nil
		}
		return t.raw(s, "an object without declared members"), nullable, nil
	}
	if openTyped {
		return t.raw(s, "an object whose undeclared members are constrained"), nullable, nil
	}
	for _, m := range props.Members {
		if !validTag(m.Key) {
			return t.raw(s, "an object with a member name that a json tag cannot spell"), nullable, nil
		}
	}
	g := &goType{kind: kStruct, node: s, doc: docOf(s), closed: closed, checks: readChecks(s, kStruct)}
	g.name = t.names.typeName(hintOr(hint, s))
	t.byNode[s] = g
	t.named = append(t.named, g)
	t.building[g] = true
	defer delete(t.building, g)
	required := map[string]bool{}
	if r := s.Get("required"); r != nil {
		for _, it := range r.Items {
			required[it.Str] = true
		}
	}
	fieldNames := map[string]bool{}
	for _, m := range props.Members {
		ft, fnull, err := t.typeOf(m.Value, g.name+" "+m.Key)
		if err != nil {
			return nil, false, err
		}
		f := &field{jsonName: m.Key, typ: ft, required: required[m.Key], nullable: fnull}
		f.goName = uniqueField(identifier(m.Key), fieldNames)
		f.doc = docOf(m.Value)
		switch ft.kind {
		case kSlice, kMap, kRaw:
			// nil stands for null or absence.
		default:
			f.pointer = f.nullable || !f.required || t.building[ft]
		}
		g.fields = append(g.fields, f)
	}
	return g, nullable, nil
}

// union maps an anyOf or oneOf whose alternatives are all closed objects
// (additionalProperties false) to a kUnion: a struct with one pointer per
// alternative, of which decoding sets the first that fits. Closed
// alternatives make that safe: an object cannot lose members by decoding
// into the wrong one. It returns nil for any other node.
func (t *typer) union(s *schema.Value, hint string) (*goType, error) {
	if s.Kind != schema.Object {
		return nil, nil
	}
	kw := ""
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts := s.Get(k); alts != nil && alts.Kind == schema.Array && len(alts.Items) >= 2 {
			if kw != "" {
				return nil, nil // both: leave it to raw JSON
			}
			kw = k
		}
	}
	if kw == "" || !onlyAnnotationsBut(s, kw, "type") {
		return nil, nil
	}
	if ts := typeSet(s); ts != nil && !(len(ts) == 1 && ts["object"]) {
		return nil, nil
	}
	name := hintOr(hint, s)
	var vs []*goType
	seen := map[*goType]bool{}
	for i, alt := range s.Get(kw).Items {
		g, null, err := t.typeOf(alt, fmt.Sprintf("%s option %d", name, i+1))
		if err != nil {
			return nil, err
		}
		if null || g.kind != kStruct || !g.closed || seen[g] {
			return nil, nil
		}
		seen[g] = true
		vs = append(vs, g)
	}
	u := &goType{kind: kUnion, node: s, doc: docOf(s), variants: vs, oneOf: kw == "oneOf"}
	u.name = t.names.typeName(name)
	t.byNode[s] = u
	t.named = append(t.named, u)
	return u, nil
}

// validTag reports whether encoding/json takes name from a struct tag as
// written (its isValidTag): not empty, letters, digits and some
// punctuation only. A comma, a quote or a backslash would change its
// meaning, so such objects stay raw JSON.
func validTag(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

func isFalse(v *schema.Value) bool { return v != nil && v.Kind == schema.Bool && !v.Bool }

// reserved are the method names of generated structs.
var reserved = map[string]bool{"Validate": true, "Text": true, "UnmarshalJSON": true, "MarshalJSON": true}

func uniqueField(name string, used map[string]bool) string {
	if name == "" {
		name = "Field"
	}
	if reserved[name] {
		name += "_"
	}
	out := name
	for i := 2; used[out]; i++ {
		out = fmt.Sprintf("%s%d", name, i)
	}
	used[out] = true
	return out
}

// readChecks collects the assertions of s's own keywords that apply to a
// Go value of kind k.
func readChecks(s *schema.Value, k kind) checks {
	c := checks{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1, minProps: -1, maxProps: -1}
	if s == nil || s.Kind != schema.Object {
		return c
	}
	num := func(key string) string {
		if v := s.Get(key); v != nil && v.Kind == schema.Number {
			return v.Num
		}
		return ""
	}
	count := func(key string) int {
		if v := s.Get(key); v != nil && v.Kind == schema.Number {
			var n int
			if _, err := fmt.Sscan(v.Num, &n); err == nil && n >= 0 && fmt.Sprint(n) == v.Num {
				return n
			}
		}
		return -1
	}
	switch k {
	case kInt, kFloat:
		c.hasNumber = true
		c.min, c.max = num("minimum"), num("maximum")
		c.exclMin, c.exclMax = num("exclusiveMinimum"), num("exclusiveMaximum")
		// Draft 4: boolean exclusiveMinimum/Maximum modify minimum/maximum.
		if v := s.Get("exclusiveMinimum"); v != nil && v.Kind == schema.Bool && v.Bool {
			c.exclMin, c.min = c.min, ""
		}
		if v := s.Get("exclusiveMaximum"); v != nil && v.Kind == schema.Bool && v.Bool {
			c.exclMax, c.max = c.max, ""
		}
	case kString:
		c.hasString = true
		c.minLen, c.maxLen = count("minLength"), count("maxLength")
		if v := s.Get("const"); v != nil && v.Kind == schema.String {
			c.constStr = &v.Str
		}
	case kSlice:
		c.minItems, c.maxItems = count("minItems"), count("maxItems")
	case kMap, kStruct:
		c.minProps, c.maxProps = count("minProperties"), count("maxProperties")
	}
	return c
}
