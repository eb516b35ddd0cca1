package schema

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMetaschema(t *testing.T) {
	const d7 = `"$schema": "http://json-schema.org/draft-07/schema#"`
	const d4 = `"$schema": "http://json-schema.org/draft-04/schema#"`
	tests := []struct {
		name  string
		src   string
		opt   ParseOptions
		draft Draft  // wanted draft when valid
		err   string // wanted Error(), exactly; "" if valid
	}{
		{"type not a string", `{"type": 12}`, ParseOptions{}, 0,
			`s.json: invalid at /type: value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'; got number, want array`},
		{"minimum not a number", `{"minimum": "a"}`, ParseOptions{}, 0,
			`s.json: invalid at /minimum: got string, want number`},
		{"nested bad minimum", `{"properties": {"age": {"type": "integer", "minimum": "zero"}}}`, ParseOptions{}, 0,
			`s.json: invalid at /properties/age/minimum: got string, want number`},
		{"escaped key in pointer", `{"properties": {"a/b~": {"minLength": -1}}}`, ParseOptions{}, 0,
			`s.json: invalid at /properties/a~1b~0/minLength: minimum: got -1, want 0`},
		{"draft-07 deepest error", `{` + d7 + `, "items": {"type": 12}}`, ParseOptions{}, 0,
			`s.json: invalid at /items/type: value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string'; got number, want array`},
		{"draft-04 rejects empty required", `{` + d4 + `, "required": []}`, ParseOptions{}, 0,
			`s.json: invalid at /required: minItems: got 0, want 1`},
		{"draft-04 rejects boolean subschema", `{` + d4 + `, "properties": {"a": true}}`, ParseOptions{}, 0,
			`s.json: invalid at /properties/a: got boolean, want object`},
		{"draft-07 via option, empty required ok", `{"required": []}`, ParseOptions{DefaultDraft: Draft7}, Draft7, ""},
		{"draft-04 via option", `{"required": []}`, ParseOptions{DefaultDraft: Draft4}, 0,
			`s.json: invalid at /required: minItems: got 0, want 1`},
		{"2020 $id with fragment", `{"$id": "#foo"}`, ParseOptions{}, 0,
			`s.json: invalid at /$id: '#foo' does not match pattern '^[^#]*#?$'`},
		{"not a schema", `[1]`, ParseOptions{}, 0,
			`s.json: invalid at (root): a schema must be an object or a boolean, not array`},
		{"custom metaschema", `{"$schema": "http://localhost:1234/draft2020-12/metaschema-no-validation.json"}`, ParseOptions{}, 0,
			`s.json: unsupported: $schema "http://localhost:1234/draft2020-12/metaschema-no-validation.json" at (root)`},
		{"custom metaschema in embedded resource", `{"$defs": {"x": {"$id": "x.json", "$schema": "http://example.com/meta"}}}`, ParseOptions{}, 0,
			`s.json: unsupported: $schema "http://example.com/meta" at /$defs/x`},
		{"duplicate $id", `{"$defs": {"a": {"$id": "x.json"}, "b": {"$id": "x.json"}}}`, ParseOptions{}, 0,
			`s.json: invalid at /$defs/b: $id "x.json" is also used at /$defs/a`},
		{"duplicate $anchor", `{"$defs": {"a": {"$anchor": "n"}, "b": {"$anchor": "n"}}}`, ParseOptions{}, 0,
			`s.json: invalid at /$defs/b: $anchor "n" is also defined at /$defs/a`},
		{"dangling pointer ref", `{"properties": {"a": {"$ref": "#/$defs/missing"}}}`, ParseOptions{}, 0,
			`s.json: invalid at /properties/a: $ref "#/$defs/missing": nothing at /$defs/missing (no "$defs" in the object at (root))`},
		{"dangling anchor ref", `{"properties": {"a": {"$ref": "#nope"}}}`, ParseOptions{}, 0,
			`s.json: invalid at /properties/a: $ref "#nope": no anchor "nope" in the document`},

		{"true", `true`, ParseOptions{}, Draft2020, ""},
		{"false", `false`, ParseOptions{}, Draft2020, ""},
		{"empty object", `{}`, ParseOptions{}, Draft2020, ""},
		{"draft-07 detected", `{` + d7 + `, "type": "object", "properties": {"a": true}}`, ParseOptions{}, Draft7, ""},
		{"$schema beats option", `{` + d7 + `}`, ParseOptions{DefaultDraft: Draft4}, Draft7, ""},
		{"draft-06 https no fragment", `{"$schema": "https://json-schema.org/draft-06/schema"}`, ParseOptions{}, Draft6, ""},
		{"2019-09", `{"$schema": "https://json-schema.org/draft/2019-09/schema", "$recursiveAnchor": true}`, ParseOptions{}, Draft2019, ""},
		{"draft-04", `{` + d4 + `, "properties": {"a": {"type": "string"}}}`, ParseOptions{}, Draft4, ""},
		{"ECMA regex accepted", `{"pattern": "^(?=a)\\p{Letter}+$"}`, ParseOptions{}, Draft2020, ""},
		{"remote ref is not a parse error", `{"$ref": "http://example.com/x.json"}`, ParseOptions{}, Draft2020, ""},
		{"localhost $id compiles offline", `{"$id": "http://localhost:1234/root", "$ref": "http://localhost:1234/other.json#/x"}`, ParseOptions{}, Draft2020, ""},
		{"metaschema ref compiles offline", `{"$ref": "https://json-schema.org/draft/2020-12/schema"}`, ParseOptions{}, Draft2020, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := ParseWith([]byte(tt.src), "s.json", tt.opt)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("got no error, want %q", tt.err)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err is %T, want *Error: %v", err, err)
				}
				if err.Error() != tt.err {
					t.Errorf("err = %q\nwant  %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if doc.Draft != tt.draft {
				t.Errorf("Draft = %v, want %v", doc.Draft, tt.draft)
			}
			if doc.Name != "s.json" || doc.Root == nil {
				t.Errorf("Name = %q, Root = %v", doc.Name, doc.Root)
			}
		})
	}
}

func TestMetaschemaErrorFields(t *testing.T) {
	_, err := Parse([]byte(`{"properties": {"age": {"minimum": "a"}}}`), "schema.json")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if e.Code != Invalid || e.File != "schema.json" || e.Ptr != "/properties/age/minimum" || e.Line != 0 {
		t.Errorf("got %+v", e)
	}
	if e.Unwrap() == nil || !strings.Contains(e.Unwrap().Error(), "not valid against metaschema") {
		t.Errorf("Unwrap() = %v, want the validator's error", e.Unwrap())
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Code: Invalid, File: "schema.json", Ptr: "/properties/age/minimum", Msg: "must be number"},
			"schema.json: invalid at /properties/age/minimum: must be number"},
		{Error{Code: Unsupported, File: "schema.json", Ptr: "/properties/a", Msg: `$ref "http://example.com/x.json"`},
			`schema.json: unsupported: $ref "http://example.com/x.json" at /properties/a`},
		{Error{Code: Unsupported, Msg: "keyword \"not\""}, `unsupported: keyword "not" at (root)`},
		{Error{Code: TooLarge, File: "f.json", Ptr: "/enum", Msg: "enum of 100000 values"}, "f.json: too large: enum of 100000 values at /enum"},
		{Error{Code: Internal, File: "f.json", Ptr: "/x", Msg: "oops"}, "f.json: internal error at /x: oops"},
		{Error{Code: Invalid, File: "f.json", Line: 3, Col: 7, Msg: "malformed JSON: x"}, "f.json:3:7: invalid at (root): malformed JSON: x"},
		{Error{Code: Invalid, Ptr: "/a"}, "invalid at /a"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestDraftNames(t *testing.T) {
	tests := []struct {
		d         Draft
		name, uri string
	}{
		{Draft4, "draft-04", "http://json-schema.org/draft-04/schema"},
		{Draft6, "draft-06", "http://json-schema.org/draft-06/schema"},
		{Draft7, "draft-07", "http://json-schema.org/draft-07/schema"},
		{Draft2019, "draft2019-09", "https://json-schema.org/draft/2019-09/schema"},
		{Draft2020, "draft2020-12", "https://json-schema.org/draft/2020-12/schema"},
	}
	for _, tt := range tests {
		if tt.d.String() != tt.name || tt.d.URI() != tt.uri {
			t.Errorf("%d: String() = %q, URI() = %q", int(tt.d), tt.d.String(), tt.d.URI())
		}
		for _, u := range []string{tt.uri, tt.uri + "#", strings.Replace(tt.uri, "http://", "https://", 1)} {
			if d, ok := DraftFromURI(u); !ok || d != tt.d {
				t.Errorf("DraftFromURI(%q) = %v, %v", u, d, ok)
			}
		}
	}
	for _, u := range []string{"http://example.com/schema", "json-schema.org/draft-07/schema", "http://json-schema.org/draft-07/schema#/definitions"} {
		if d, ok := DraftFromURI(u); ok {
			t.Errorf("DraftFromURI(%q) = %v, want not ok", u, d)
		}
	}
}

func TestFromValueRederivesPointers(t *testing.T) {
	file := mustJSON(t, `[{"description": "d", "schema": {"$defs": {"a~b": {"type": "string"}}, "properties": {"p": {"$ref": "#/$defs/a~0b"}}}}]`)
	sch := file.Items[0].Get("schema")
	if sch.Ptr != "/0/schema" {
		t.Fatalf("precondition: Ptr = %q", sch.Ptr)
	}
	doc, err := FromValue(sch, "suite.json", ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Root.Ptr != "" || doc.Root.Get("$defs").Get("a~b").Ptr != "/$defs/a~0b" {
		t.Errorf("pointers not re-derived: root %q, def %q", doc.Root.Ptr, doc.Root.Get("$defs").Get("a~b").Ptr)
	}
	if sch.Get("$defs").Ptr != "/0/schema/$defs" {
		t.Errorf("FromValue modified its argument: %q", sch.Get("$defs").Ptr)
	}
	p := doc.Root.Get("properties").Get("p")
	target, err := doc.Resolve("#/$defs/a~0b", p)
	if err != nil || target != doc.Lookup("/$defs/a~0b") || target.Get("type").Str != "string" {
		t.Errorf("Resolve = %v, %v", target, err)
	}
	// Errors name pointers relative to the schema too.
	bad := mustJSON(t, `{"tests": [], "schema": {"properties": {"x": {"type": 1}}}}`)
	_, err = FromValue(bad.Get("schema"), "suite.json", ParseOptions{})
	var e *Error
	if !errors.As(err, &e) || e.Ptr != "/properties/x/type" {
		t.Errorf("err = %v, want one at /properties/x/type", err)
	}
	if _, err := FromValue(nil, "n.json", ParseOptions{}); err == nil {
		t.Error("FromValue(nil) should fail")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(`{"$schema": "http://json-schema.org/draft-07/schema#", "properties": {"b": {}, "a": {}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Name != good || doc.Draft != Draft7 || strings.Join(keys(doc.Root.Get("properties")), ",") != "b,a" {
		t.Errorf("Load: name %q draft %v props %q", doc.Name, doc.Draft, keys(doc.Root.Get("properties")))
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"type\": \"object\",\n  \"type\": \"string\"\n}"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if got, want := err.Error(), bad+`:3:3: invalid at /type: duplicate member name "type"`; got != want {
		t.Errorf("Load(bad) = %q, want %q", got, want)
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestDraftAt(t *testing.T) {
	doc, err := Parse([]byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$defs": {
    "old": {"$id": "old.json", "$schema": "http://json-schema.org/draft-07/schema#", "properties": {"x": {"type": "string"}}},
    "ignored": {"$schema": "http://json-schema.org/draft-07/schema#"}
  }
}`), "mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	for ptr, want := range map[string]Draft{
		"": Draft2020, "/$defs/old": Draft7, "/$defs/old/properties/x": Draft7, "/$defs/ignored": Draft2020,
	} {
		if got := doc.DraftAt(doc.Lookup(ptr)); got != want {
			t.Errorf("DraftAt(%q) = %v, want %v", ptr, got, want)
		}
	}
}

// TestNoLoading checks that the validator loads nothing: the library's
// default loader would read file: URLs, and this file is not a valid schema.
func TestNoLoading(t *testing.T) {
	other := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(other, []byte(`{"type": 12}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := "file://" + filepath.ToSlash(other)
	doc, err := Parse([]byte(`{"properties": {"a": {"$ref": "`+ref+`"}}}`), "s.json")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = doc.Resolve(ref, doc.Lookup("/properties/a"))
	var e *Error
	if !errors.As(err, &e) || e.Code != Unsupported {
		t.Errorf("Resolve(%q) = %v, want Unsupported", ref, err)
	}
	if _, err := (noLoader{}).Load("http://localhost:1234/x.json"); err == nil {
		t.Error("noLoader loaded something")
	}
}
