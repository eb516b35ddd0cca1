package schema

import (
	"errors"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		at   string // pointer of the schema node holding the ref
		ref  string
		want string // pointer of the target; "" is the root
		err  string // wanted Error(), exactly
	}{
		{name: "root", doc: `{"properties": {"a": {"$ref": "#"}}}`, at: "/properties/a", ref: "#", want: ""},
		{name: "pointer", doc: `{"$defs": {"x": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/x"}}}`,
			at: "/properties/a", ref: "#/$defs/x", want: "/$defs/x"},
		{name: "pointer into array", doc: `{"allOf": [{"type": "string"}, {"minLength": 1}], "$ref": "#/allOf/1"}`,
			at: "", ref: "#/allOf/1", want: "/allOf/1"},
		{name: "escaped slash", doc: `{"$defs": {"a/b": {"type": "string"}}, "$ref": "#/$defs/a~1b"}`,
			at: "", ref: "#/$defs/a~1b", want: "/$defs/a~1b"},
		{name: "escaped tilde", doc: `{"$defs": {"a~b": {"type": "string"}}, "$ref": "#/$defs/a~0b"}`,
			at: "", ref: "#/$defs/a~0b", want: "/$defs/a~0b"},
		{name: "percent", doc: `{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"percent%field": {"type": "integer"}}, "properties": {"p": {"$ref": "#/definitions/percent%25field"}}}`,
			at: "/properties/p", ref: "#/definitions/percent%25field", want: "/definitions/percent%field"},
		{name: "percent-encoded quote and space", doc: `{"$defs": {"a \"b": true}, "$ref": "#/$defs/a%20%22b"}`,
			at: "", ref: "#/$defs/a%20%22b", want: `/$defs/a "b`},
		{name: "$anchor", doc: `{"$defs": {"x": {"$anchor": "foo", "type": "integer"}}, "properties": {"a": {"$ref": "#foo"}}}`,
			at: "/properties/a", ref: "#foo", want: "/$defs/x"},
		{name: "$dynamicAnchor is an anchor too", doc: `{"$defs": {"x": {"$dynamicAnchor": "meta"}}, "$ref": "#meta"}`,
			at: "", ref: "#meta", want: "/$defs/x"},
		{name: "draft-07 $id anchor", doc: `{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"x": {"$id": "#foo", "type": "integer"}}, "properties": {"a": {"$ref": "#foo"}}}`,
			at: "/properties/a", ref: "#foo", want: "/definitions/x"},
		{name: "draft-04 id anchor", doc: `{"$schema": "http://json-schema.org/draft-04/schema#", "definitions": {"x": {"id": "#foo", "type": "integer"}}, "properties": {"a": {"$ref": "#foo"}}}`,
			at: "/properties/a", ref: "#foo", want: "/definitions/x"},
		{name: "draft-07 $id beside $ref is ignored", doc: `{"$schema": "http://json-schema.org/draft-07/schema#", "$id": "http://localhost:1234/root", "definitions": {"x": {"type": "integer"}}, "properties": {"a": {"$id": "http://localhost:1234/other/", "$ref": "#/definitions/x"}}}`,
			at: "/properties/a", ref: "#/definitions/x", want: "/definitions/x"},
		{name: "2020 $id beside $ref is the base", doc: `{"$id": "http://localhost:1234/root", "properties": {"a": {"$id": "a.json", "$ref": "#/$defs/y", "$defs": {"y": true}}}}`,
			at: "/properties/a", ref: "#/$defs/y", want: "/properties/a/$defs/y"},
		{name: "embedded relative $id", doc: `{"$id": "http://localhost:1234/root", "$defs": {"n": {"$id": "nested.json", "$defs": {"x": {"type": "integer"}}}}, "properties": {"a": {"$ref": "nested.json#/$defs/x"}}}`,
			at: "/properties/a", ref: "nested.json#/$defs/x", want: "/$defs/n/$defs/x"},
		{name: "embedded draft-07 definitions", doc: `{"$schema": "http://json-schema.org/draft-07/schema#", "$id": "http://localhost:1234/root", "definitions": {"n": {"$id": "nested.json", "definitions": {"x": {"type": "integer"}}}}, "properties": {"a": {"$ref": "nested.json#/definitions/x"}}}`,
			at: "/properties/a", ref: "nested.json#/definitions/x", want: "/definitions/n/definitions/x"},
		{name: "embedded absolute $id", doc: `{"$id": "http://localhost:1234/root", "$defs": {"n": {"$id": "nested.json", "type": "string"}}, "properties": {"a": {"$ref": "http://localhost:1234/nested.json"}}}`,
			at: "/properties/a", ref: "http://localhost:1234/nested.json", want: "/$defs/n"},
		{name: "embedded with anchor", doc: `{"$id": "http://localhost:1234/root", "$defs": {"n": {"$id": "nested.json", "$defs": {"x": {"$anchor": "here"}}}}, "$ref": "nested.json#here"}`,
			at: "", ref: "nested.json#here", want: "/$defs/n/$defs/x"},
		{name: "pointer is relative to the base resource", doc: `{"$id": "http://localhost:1234/root", "$defs": {"x": {"const": "outer"}, "n": {"$id": "nested.json", "$defs": {"x": {"const": "inner"}}, "$ref": "#/$defs/x"}}}`,
			at: "/$defs/n", ref: "#/$defs/x", want: "/$defs/n/$defs/x"},
		{name: "anchors are per resource", doc: `{"$id": "http://localhost:1234/root", "$defs": {"a": {"$anchor": "t"}, "n": {"$id": "n.json", "$defs": {"b": {"$anchor": "t"}}, "$ref": "#t"}}, "$ref": "#t"}`,
			at: "/$defs/n", ref: "#t", want: "/$defs/n/$defs/b"},
		{name: "back to root by $id", doc: `{"$id": "http://localhost:1234/root", "$defs": {"n": {"$id": "sub/nested.json", "$ref": "../root#/$defs/t"}, "t": true}}`,
			at: "/$defs/n", ref: "../root#/$defs/t", want: "/$defs/t"},
		{name: "urn base", doc: `{"$id": "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed", "$defs": {"bar": {"type": "string"}}, "$ref": "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed#/$defs/bar"}`,
			at: "", ref: "urn:uuid:deadbeef-1234-ffff-ffff-4321feebdaed#/$defs/bar", want: "/$defs/bar"},
		{name: "relative $id without root $id", doc: `{"$defs": {"n": {"$id": "nested.json", "type": "string"}}, "$ref": "nested.json"}`,
			at: "", ref: "nested.json", want: "/$defs/n"},

		{name: "remote", doc: `{"properties": {"a": {"$ref": "http://example.com/x.json"}}}`, at: "/properties/a", ref: "http://example.com/x.json",
			err: `schema.json: unsupported: $ref "http://example.com/x.json" at /properties/a`},
		{name: "remote at root", doc: `{"$ref": "other.json#/x"}`, at: "", ref: "other.json#/x",
			err: `schema.json: unsupported: $ref "other.json#/x" at (root)`},
		{name: "localhost but not embedded", doc: `{"$id": "http://localhost:1234/root", "$ref": "nested.json"}`, at: "", ref: "nested.json",
			err: `schema.json: unsupported: $ref "nested.json" at (root)`},
		{name: "missing pointer", doc: `{"$defs": {"x": true}}`, at: "", ref: "#/$defs/y",
			err: `schema.json: invalid at (root): $ref "#/$defs/y": nothing at /$defs/y (no "y" in the object at /$defs)`},
		{name: "bad array index", doc: `{"allOf": [true]}`, at: "", ref: "#/allOf/01",
			err: `schema.json: invalid at (root): $ref "#/allOf/01": nothing at /allOf/01 (no "01" in the array at /allOf)`},
		{name: "bad escape", doc: `{"$defs": {"x": true}}`, at: "", ref: "#/$defs/~2",
			err: `schema.json: invalid at (root): $ref "#/$defs/~2": invalid JSON pointer "/$defs/~2" ("~" must be followed by 0 or 1)`},
		{name: "missing anchor", doc: `{"$defs": {"x": true}}`, at: "", ref: "#nope",
			err: `schema.json: invalid at (root): $ref "#nope": no anchor "nope" in the document`},
		{name: "missing anchor in embedded", doc: `{"$id": "http://localhost:1234/root", "$defs": {"n": {"$id": "n.json"}}}`, at: "", ref: "n.json#nope",
			err: `schema.json: invalid at (root): $ref "n.json#nope": no anchor "nope" in resource "http://localhost:1234/n.json"`},
		{name: "bad percent-encoding", doc: `{"$defs": {"x": {"$anchor": "a"}}}`, at: "", ref: "#/$defs/x/%",
			err: `schema.json: invalid at (root): $ref "#/$defs/x/%": bad %-encoding in fragment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.doc), "schema.json")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			at := doc.Lookup(tt.at)
			if at == nil {
				t.Fatalf("no node at %q", tt.at)
			}
			got, err := doc.Resolve(tt.ref, at)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("Resolve = %q, want error %q", got.Ptr, tt.err)
				}
				if err.Error() != tt.err {
					t.Errorf("err = %q\nwant  %q", err, tt.err)
				}
				var e *Error
				if !errors.As(err, &e) || e.Ptr != tt.at {
					t.Errorf("error %#v should be an *Error at %q", err, tt.at)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got != doc.Lookup(tt.want) {
				t.Errorf("Resolve = %q, want %q", got.Ptr, tt.want)
			}
		})
	}
}

func TestResolveForeignNode(t *testing.T) {
	doc, err := Parse([]byte(`{"$defs": {"x": true}}`), "a.json")
	if err != nil {
		t.Fatal(err)
	}
	other := mustJSON(t, `{"$defs": {"x": true}}`)
	_, err = doc.Resolve("#/$defs/x", other.Get("$defs"))
	var e *Error
	if !errors.As(err, &e) || e.Code != Internal {
		t.Errorf("Resolve from a node of another document: %v, want Internal", err)
	}
	if v, err := doc.Resolve("#/$defs/x", nil); err != nil || v != doc.Lookup("/$defs/x") {
		t.Errorf("Resolve with nil at = %v, %v", v, err)
	}
}

func TestDeref(t *testing.T) {
	doc, err := Parse([]byte(`{
  "$dynamicAnchor": "meta",
  "$defs": {"s": {"type": "string"}},
  "properties": {
    "plain": {"type": "integer"},
    "ref": {"$ref": "#/$defs/s"},
    "dyn": {"$dynamicRef": "#meta"},
    "rec": {"$recursiveRef": "#"}
  }
}`), "d.json")
	if err != nil {
		t.Fatal(err)
	}
	props := doc.Root.Get("properties")
	if v, err := doc.Deref(props.Get("plain")); v != nil || err != nil {
		t.Errorf("Deref(plain) = %v, %v; want nil, nil", v, err)
	}
	if v, err := doc.Deref(props.Get("ref")); err != nil || v != doc.Lookup("/$defs/s") {
		t.Errorf("Deref(ref) = %v, %v", v, err)
	}
	_, err = doc.Deref(props.Get("dyn"))
	if want := `d.json: unsupported: $dynamicRef "#meta" at /properties/dyn`; err == nil || err.Error() != want {
		t.Errorf("Deref(dyn) = %v, want %q", err, want)
	}
	// $recursiveRef is not a 2020-12 keyword: ignored.
	if v, err := doc.Deref(props.Get("rec")); v != nil || err != nil {
		t.Errorf("Deref(rec) in 2020-12 = %v, %v; want nil, nil", v, err)
	}

	doc19, err := Parse([]byte(`{"$schema": "https://json-schema.org/draft/2019-09/schema", "$recursiveAnchor": true, "items": {"$recursiveRef": "#"}}`), "r.json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = doc19.Deref(doc19.Root.Get("items"))
	if want := `r.json: unsupported: $recursiveRef "#" at /items`; err == nil || err.Error() != want {
		t.Errorf("Deref(rec) in 2019-09 = %v, want %q", err, want)
	}
}
