package schema

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// resource is a schema resource: the root schema or a subschema with an
// "$id" (draft 4: "id") that has a URI part.
type resource struct {
	root    *Value
	id      string // absolute URI, no fragment
	draft   Draft
	anchors map[string]*Value
}

// Keywords whose values are subschemas, with the first draft that has them
// (as the validator library walks them; later drafts keep the earlier
// keywords).
var (
	schemaMapKeywords = map[string]Draft{
		"definitions": Draft4, "properties": Draft4, "patternProperties": Draft4,
		"dependencies": Draft4, "$defs": Draft2019, "dependentSchemas": Draft2019,
	}
	schemaKeywords = map[string]Draft{
		"not": Draft4, "additionalProperties": Draft4, "items": Draft4, "additionalItems": Draft4,
		"propertyNames": Draft6, "contains": Draft6,
		"if": Draft7, "then": Draft7, "else": Draft7,
		"unevaluatedProperties": Draft2019, "unevaluatedItems": Draft2019, "contentSchema": Draft2019,
	}
	schemaArrayKeywords = map[string]Draft{
		"allOf": Draft4, "anyOf": Draft4, "oneOf": Draft4, "items": Draft4, "prefixItems": Draft2020,
	}
)

func isSchema(v *Value) bool { return v.Kind == Object || v.Kind == Bool }

type indexer struct {
	d   *Document
	err *Error // first Invalid problem found
}

func (ix *indexer) fail(e *Error) {
	if ix.err == nil {
		ix.err = e
	}
}

// idOf returns the "$id" (draft 4: "id") of schema object v under draft. In
// drafts before 2019-09 the siblings of "$ref" are ignored, "$id" included.
func idOf(v *Value, draft Draft) (key, id string, ok bool) {
	key = "$id"
	if draft == Draft4 {
		key = "id"
	}
	if draft < Draft2019 && v.Get("$ref") != nil {
		return key, "", false
	}
	if idv := v.Get(key); idv != nil && idv.Kind == String {
		return key, idv.Str, true
	}
	return key, "", false
}

// walk indexes schema v, a subschema of resource base (nil for the root),
// whose draft is fallback unless v is a resource declaring another.
func (ix *indexer) walk(v *Value, base *resource, fallback Draft) error {
	d := ix.d
	isRoot := base == nil
	draft := fallback
	if v.Kind == Object {
		if s := v.Get("$schema"); s != nil && s.Kind == String {
			dr, ok := DraftFromURI(s.Str)
			if !ok {
				return &Error{Code: Unsupported, File: d.Name, Ptr: v.Ptr, Msg: fmt.Sprintf("$schema %q", s.Str)}
			}
			draft = dr
		}
	}
	var key, id string
	var hasID bool
	if v.Kind == Object {
		key, id, hasID = idOf(v, draft)
		if !hasID && !isRoot {
			// "$schema" counts only at the root of a resource.
			draft = fallback
			key, id, hasID = idOf(v, draft)
		}
	}
	baseURI := d.uri
	if base != nil {
		baseURI = base.id
	}
	res := base
	anchorInID := ""
	if hasID {
		uriPart, frag, _ := strings.Cut(id, "#")
		if uriPart != "" {
			abs, err := resolveURI(baseURI, uriPart)
			if err != nil {
				ix.fail(&Error{Code: Invalid, File: d.Name, Ptr: v.Ptr, Msg: fmt.Sprintf("%s %q: %v", key, id, err)})
			} else {
				res = ix.addResource(v, abs, draft, key, id)
			}
		}
		if frag != "" && draft < Draft2019 {
			if f, err := url.PathUnescape(frag); err == nil && !strings.HasPrefix(f, "/") {
				anchorInID = f
			}
		}
	}
	if res == nil {
		res = ix.addResource(v, baseURI, draft, key, "")
	}
	if v.Kind != Object {
		return nil
	}

	if anchorInID != "" {
		ix.addAnchor(res, anchorInID, v, key)
	}
	if res.draft >= Draft2019 {
		if a := v.Get("$anchor"); a != nil && a.Kind == String {
			ix.addAnchor(res, a.Str, v, "$anchor")
		}
	}
	if res.draft >= Draft2020 {
		if a := v.Get("$dynamicAnchor"); a != nil && a.Kind == String {
			ix.addAnchor(res, a.Str, v, "$dynamicAnchor")
		}
	}
	if r := v.Get("$ref"); r != nil && r.Kind == String {
		d.refs = append(d.refs, v)
	}

	sub := res.draft
	for _, m := range v.Members {
		kw, val := m.Key, m.Value
		if first, ok := schemaMapKeywords[kw]; ok && sub >= first && val.Kind == Object {
			for _, mm := range val.Members {
				if isSchema(mm.Value) {
					if err := ix.walk(mm.Value, res, sub); err != nil {
						return err
					}
				}
			}
		}
		if first, ok := schemaKeywords[kw]; ok && sub >= first && isSchema(val) {
			if err := ix.walk(val, res, sub); err != nil {
				return err
			}
		}
		if first, ok := schemaArrayKeywords[kw]; ok && sub >= first && val.Kind == Array {
			for _, it := range val.Items {
				if isSchema(it) {
					if err := ix.walk(it, res, sub); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// addResource registers the resource rooted at v with absolute URI id;
// written is the "$id" as written, for messages.
func (ix *indexer) addResource(v *Value, id string, draft Draft, key, written string) *resource {
	d := ix.d
	if other := d.byID[id]; other != nil && other.root != v {
		ix.fail(&Error{Code: Invalid, File: d.Name, Ptr: v.Ptr,
			Msg: fmt.Sprintf("%s %q is also used at %s", key, written, displayPtr(other.root.Ptr))})
		// Keep the first; v still needs a resource of its own for its
		// children's base URI.
		res := &resource{root: v, id: id, draft: draft, anchors: map[string]*Value{}}
		d.resByPtr[v.Ptr] = res
		return res
	}
	res := &resource{root: v, id: id, draft: draft, anchors: map[string]*Value{}}
	d.byID[id] = res
	d.resByPtr[v.Ptr] = res
	return res
}

func (ix *indexer) addAnchor(res *resource, name string, v *Value, key string) {
	if other := res.anchors[name]; other != nil && other != v {
		ix.fail(&Error{Code: Invalid, File: ix.d.Name, Ptr: v.Ptr,
			Msg: fmt.Sprintf("%s %q is also defined at %s", key, name, displayPtr(other.Ptr))})
		return
	}
	res.anchors[name] = v
}

func displayPtr(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

// resolveURI resolves the URI reference ref (no fragment) against base.
func resolveURI(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", err
	}
	u := b.ResolveReference(r)
	if !r.IsAbs() && b.Opaque != "" {
		// net/url ignores an opaque base (golang.org/issue/66084); a
		// relative reference against "urn:..." keeps the base.
		u.Opaque = b.Opaque
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// resourceAt returns the innermost resource containing the value at ptr.
func (d *Document) resourceAt(ptr string) *resource {
	for {
		if r := d.resByPtr[ptr]; r != nil {
			return r
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return d.resByPtr[""]
		}
		ptr = ptr[:i]
	}
}

// Resolve resolves the reference ref (the value of a "$ref") found in schema
// node at (nil means the root). The base URI is that of the innermost
// resource ("$id") containing at, at itself included (in drafts 4 to 7 an
// "$id" beside "$ref" is ignored, like every sibling of "$ref"; ignoring the
// other siblings is the caller's concern).
//
// Supported are refs within the document: "#", "#/json/pointer" (RFC 6901,
// with ~0, ~1 and %-decoding), "#anchor" ("$anchor" and "$dynamicAnchor" in
// 2019-09 and later, "$id": "#anchor" in drafts 6 and 7, "id" in draft 4),
// and refs to resources embedded in the document by "$id" (absolute, or
// relative and resolved against the base), with or without a pointer or
// anchor fragment; a pointer fragment is relative to that resource's root.
//
// A ref to any other document gives an *Error with Code Unsupported, such as
// `unsupported: $ref "http://example.com/x.json" at /properties/a`, naming
// the pointer of at. A ref that points nowhere gives Code Invalid.
func (d *Document) Resolve(ref string, at *Value) (*Value, error) {
	if at == nil {
		at = d.Root
	}
	if d.byPtr[at.Ptr] != at {
		return nil, &Error{Code: Internal, File: d.Name, Ptr: at.Ptr, Msg: "Resolve: the schema node is not part of this document"}
	}
	bad := func(format string, args ...any) error {
		return &Error{Code: Invalid, File: d.Name, Ptr: at.Ptr, Msg: fmt.Sprintf("$ref %q: ", ref) + fmt.Sprintf(format, args...)}
	}
	res := d.resourceAt(at.Ptr)
	uriPart, frag, _ := strings.Cut(ref, "#")
	target := res
	if uriPart != "" {
		abs, err := resolveURI(res.id, uriPart)
		if err != nil {
			return nil, bad("%v", err)
		}
		target = d.byID[abs]
		if target == nil {
			return nil, &Error{Code: Unsupported, File: d.Name, Ptr: at.Ptr, Msg: fmt.Sprintf("$ref %q", ref)}
		}
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, bad("bad %%-encoding in fragment")
	}
	switch {
	case frag == "":
		return target.root, nil
	case frag[0] == '/':
		v, err := lookupPointer(target.root, frag)
		if err != nil {
			return nil, bad("%v", err)
		}
		return v, nil
	default:
		if v := target.anchors[frag]; v != nil {
			return v, nil
		}
		return nil, bad("no anchor %q in %s", frag, d.resourceName(target))
	}
}

func (d *Document) resourceName(r *resource) string {
	if r.id == d.uri {
		return "the document"
	}
	return fmt.Sprintf("resource %q", r.id)
}

// lookupPointer follows the (unescaped-%, still ~-escaped) JSON pointer ptr
// from v.
func lookupPointer(v *Value, ptr string) (*Value, error) {
	toks := strings.Split(ptr, "/")[1:]
	for i, raw := range toks {
		tok, ok := unescapeToken(raw)
		if !ok {
			return nil, fmt.Errorf("invalid JSON pointer %q (\"~\" must be followed by 0 or 1)", ptr)
		}
		var next *Value
		switch v.Kind {
		case Object:
			next = v.Get(tok)
		case Array:
			if n, err := strconv.Atoi(tok); err == nil && n >= 0 && n < len(v.Items) && strconv.Itoa(n) == tok {
				next = v.Items[n]
			}
		}
		if next == nil {
			return nil, fmt.Errorf("nothing at %s (no %q in the %s at %s)",
				ptr, tok, v.Kind, displayPtr(strings.Join(append([]string{""}, toks[:i]...), "/")))
		}
		v = next
	}
	return v, nil
}

// Deref resolves the reference keyword of schema node at: "$ref" is resolved
// with Resolve; "$dynamicRef" (2020-12) and "$recursiveRef" (2019-09) give an
// Unsupported error. It returns nil, nil when at has none of them (under
// its draft).
func (d *Document) Deref(at *Value) (*Value, error) {
	if at == nil {
		at = d.Root
	}
	draft := d.DraftAt(at)
	for _, kw := range []struct {
		name  string
		draft Draft
	}{{"$dynamicRef", Draft2020}, {"$recursiveRef", Draft2019}} {
		if draft == kw.draft {
			if r := at.Get(kw.name); r != nil {
				return nil, &Error{Code: Unsupported, File: d.Name, Ptr: at.Ptr, Msg: fmt.Sprintf("%s %q", kw.name, r.Str)}
			}
		}
	}
	r := at.Get("$ref")
	if r == nil {
		return nil, nil
	}
	if r.Kind != String {
		return nil, &Error{Code: Invalid, File: d.Name, Ptr: r.Ptr, Msg: "$ref must be a string"}
	}
	return d.Resolve(r.Str, at)
}
