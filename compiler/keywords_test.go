package compiler_test

import (
	"math/rand/v2"
	"testing"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/internal/oracle"
	"github.com/schemac-dev/schemac/compiler/schema"
)

// keywordCases exercise every supported keyword: instances in accept must
// be admitted (in the decoder's layout), instances in reject must not, and
// random walks through each automaton must validate with the reference
// library.
var keywordCases = []struct {
	name   string
	schema string
	accept []string
	reject []string
}{
	{"type union", `{"type": ["integer", "null", "boolean"]}`, []string{`1`, `-20`, `null`, `true`}, []string{`1.5`, `"a"`, `[]`, `{}`}},
	{"number grammar", `{"type": "number"}`, []string{`0`, `-0.5`, `1e10`, `2.5E-3`, `1.0`, `123456789012345`, `0.123456789012345`}, []string{`"1"`, `null`, `1234567890123456`, `1.234567890123456`}},
	{"integer in int64", `{"type": "integer"}`, []string{`0`, `-9223372036854775808`, `9223372036854775807`}, []string{`9223372036854775808`, `-9223372036854775809`, `1.5`}},
	{"enum mixed", `{"enum": [1, "a", null, [1, 2], {"k": true}]}`, []string{`1`, `1.0`, `"a"`, `null`, `[1,2]`, `{"k":true}`}, []string{`2`, `"b"`, `[2,1]`, `{"k":false}`}},
	{"const object", `{"const": {"b": 1, "a": [true]}}`, []string{`{"b":1,"a":[true]}`, `{"a":[true],"b":1}`}, []string{`{"b":1}`, `{"b":1,"a":[false]}`}},
	{"integer range", `{"type": "integer", "minimum": -5, "exclusiveMaximum": 120}`, []string{`-5`, `0`, `119`, `7`}, []string{`-6`, `120`, `1000`, `-50`}},
	{"decimal range", `{"type": "number", "exclusiveMinimum": 0.25, "maximum": 10.5}`, []string{`0.26`, `0.2500001`, `10.5`, `3`, `10.49`}, []string{`0.25`, `0.1`, `10.51`, `-1`, `11`, `0`}},
	{"negative range", `{"type": "number", "minimum": -2.5, "maximum": -0.5}`, []string{`-2.5`, `-1`, `-0.5`, `-0.75`}, []string{`-2.51`, `-0.49`, `0`, `1`}},
	{"multipleOf int", `{"type": "integer", "multipleOf": 7}`, []string{`0`, `14`, `-21`, `700`}, []string{`1`, `15`, `-22`}},
	{"multipleOf decimal", `{"type": "number", "multipleOf": 0.25, "maximum": 2}`, []string{`0.5`, `1.75`, `2`, `-3.25`}, []string{`0.3`, `2.25`, `0.125`}},
	{"string lengths", `{"type": "string", "minLength": 2, "maxLength": 3}`, []string{`"ab"`, `"中文字"`, `"😀😀"`, `"a\n"`}, []string{`"a"`, `"abcd"`, `""`}},
	{"pattern", `{"type": "string", "pattern": "^[A-Z]{2}-\\d+$"}`, []string{`"AB-1"`, `"ZZ-0099"`}, []string{`"ab-1"`, `"AB-"`, `"xAB-1"`}},
	{"pattern unanchored", `{"type": "string", "pattern": "go+"}`, []string{`"gopher"`, `"I like goooo"`}, []string{`"g"`, `""`}},
	{"format date", `{"type": "string", "format": "date"}`, []string{`"2024-02-29"`, `"1999-12-31"`}, []string{`"2023-02-29"`, `"2024-13-01"`, `"24-01-01"`}},
	{"format email", `{"type": "string", "format": "email"}`, []string{`"john.doe@example.com"`}, []string{`"john"`, `"@x.com"`}},
	{"format uuid", `{"format": "uuid"}`, []string{`"123e4567-e89b-12d3-a456-426614174000"`, `12`}, []string{`"123e4567"`}},
	{"array tuple", `{"prefixItems": [{"type": "integer"}, {"type": "string"}], "items": false}`, []string{`[]`, `[1]`, `[1,"a"]`}, []string{`[1,"a",2]`, `["a"]`}},
	{"array counts", `{"type": "array", "items": {"type": "boolean"}, "minItems": 2, "maxItems": 3}`, []string{`[true,false]`, `[true,true,true]`}, []string{`[true]`, `[true,true,true,true]`, `[1,2]`}},
	{"draft7 items array", `{"$schema": "http://json-schema.org/draft-07/schema#", "items": [{"const": 1}], "additionalItems": {"type": "string"}}`, []string{`[1]`, `[1,"x","y"]`}, []string{`[2]`, `[1,2]`}},
	{"uniqueItems strings", `{"type": "array", "items": {"type": "string"}, "uniqueItems": true, "maxItems": 3}`, []string{`[]`, `["api","backend","cloud"]`, `["","Zed","api"]`, `["été"]`, `["x"]`}, []string{`["a","a"]`, `["b","a"]`, `["api","auth"]`, `["a","b","c","d"]`, `["x","été"]`}},
	{"uniqueItems objects", `{"type": "array", "items": {"type": "object", "properties": {"a": {"type": "integer"}}}, "uniqueItems": true, "minItems": 1}`, []string{`[{"a":1}]`, `[{}]`}, []string{`[]`, `[{"a":1},{"a":1}]`, `[{"a":1},{"a":2}]`}},
	{"contains", `{"type": "array", "items": {"type": "integer"}, "contains": {"minimum": 10}}`, []string{`[10]`, `[1,2,30]`, `[11,12]`}, []string{`[]`, `[1,2]`}},
	{"min/maxContains", `{"type": "array", "contains": {"const": "x"}, "minContains": 2, "maxContains": 3, "maxItems": 5}`, []string{`["x","x"]`, `["x",1,"x","x"]`}, []string{`["x"]`, `["x","x","x","x"]`, `[1,2,3,4,5,6]`}},
	{"contains with prefix", `{"prefixItems": [{"type": "string"}], "items": {"type": "integer"}, "contains": {"type": "string"}, "maxContains": 1}`, []string{`["a"]`, `["a",1,2]`}, []string{`[]`, `[1]`}},
	{"uniqueItems enum", `{"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": true, "minItems": 1}`, []string{`["a"]`, `["c","a"]`, `["a","b","c"]`}, []string{`[]`, `["a","a"]`, `["b","c","b"]`, `["d"]`}},
	{"dependentSchemas", `{"properties": {"card": {"type": "string"}, "cvv": {"type": "integer"}}, "dependentSchemas": {"card": {"required": ["cvv"]}}}`, []string{`{}`, `{"cvv":1}`, `{"card":"x","cvv":1}`}, []string{`{"card":"x"}`}},
	{"unevaluatedProperties allOf", `{"$defs": {"base": {"properties": {"id": {"type": "integer"}}, "required": ["id"]}}, "allOf": [{"$ref": "#/$defs/base"}], "properties": {"name": {"type": "string"}}, "unevaluatedProperties": false}`, []string{`{"id":1}`, `{"id":1,"name":"x"}`}, []string{`{"id":1,"x":2}`, `{"name":"x"}`}},
	{"unevaluatedProperties oneOf", `{"type": "object", "properties": {"kind": {"enum": ["a", "b"]}}, "required": ["kind"], "oneOf": [{"properties": {"kind": {"const": "a"}, "x": {"type": "integer"}}}, {"properties": {"kind": {"const": "b"}, "y": {"type": "string"}}}], "unevaluatedProperties": false}`, []string{`{"kind":"a"}`, `{"kind":"a","x":1}`, `{"kind":"b","y":"s"}`}, []string{`{"kind":"a","y":"s"}`, `{"kind":"b","x":1}`, `{"kind":"a","z":1}`}},
	{"unevaluatedProperties schema", `{"properties": {"a": {"type": "integer"}}, "patternProperties": {"^x-": {"type": "string"}}, "unevaluatedProperties": {"type": "boolean"}}`, []string{`{"a":1,"x-b":"s","c":true}`}, []string{`{"c":1}`, `{"x-b":1}`}},
	{"unevaluatedItems", `{"prefixItems": [{"type": "integer"}], "allOf": [{"prefixItems": [true, {"type": "string"}]}], "unevaluatedItems": false}`, []string{`[]`, `[1]`, `[1,"a"]`}, []string{`[1,"a",2]`, `["a"]`}},
	{"dynamicRef single anchor", `{"$defs": {"n": {"$dynamicAnchor": "n", "type": "object", "properties": {"v": {"type": "integer"}, "next": {"$dynamicRef": "#n"}}, "required": ["v"]}}, "$ref": "#/$defs/n"}`, []string{`{"v":1}`, `{"v":1,"next":{"v":2,"next":{"v":3}}}`}, []string{`{"v":1,"next":{}}`, `{"next":{"v":1}}`}},
	{"object required", `{"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "required": ["b"]}`, []string{`{"b":"x"}`, `{"a":1,"b":"x"}`, `{"b":"x","a":1}`}, []string{`{"a":1}`, `{}`, `{"b":"x","c":1}`}},
	{"additionalProperties schema", `{"properties": {"id": {"type": "integer"}}, "additionalProperties": {"type": "string"}}`, []string{`{"id":1,"x":"y"}`, `{"x":"y","z":"w"}`, `{}`}, []string{`{"x":1}`, `{"id":"1"}`}},
	{"patternProperties", `{"patternProperties": {"^x-": {"type": "integer"}, "_id$": {"type": "string"}}, "additionalProperties": false}`, []string{`{"x-a":1}`, `{"user_id":"u"}`, `{}`}, []string{`{"x-a":"s"}`, `{"y":1}`, `{"x-b_id":1}`}},
	{"propertyNames", `{"propertyNames": {"maxLength": 2}, "additionalProperties": {"type": "null"}}`, []string{`{"ab":null}`, `{}`}, []string{`{"abc":null}`}},
	{"min/maxProperties", `{"properties": {"a": {}, "b": {}, "c": {}}, "minProperties": 1, "maxProperties": 2}`, []string{`{"a":1}`, `{"b":1,"c":2}`}, []string{`{}`, `{"a":1,"b":2,"c":3}`}},
	{"dependentRequired", `{"properties": {"card": {"type": "string"}, "address": {"type": "string"}}, "dependentRequired": {"card": ["address"]}}`, []string{`{}`, `{"address":"x"}`, `{"card":"1","address":"x"}`}, []string{`{"card":"1"}`}},
	{"anyOf", `{"anyOf": [{"type": "string", "maxLength": 1}, {"type": "integer", "minimum": 10}]}`, []string{`"a"`, `10`}, []string{`"ab"`, `9`, `null`}},
	{"oneOf exact", `{"oneOf": [{"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 3}]}`, []string{`2`, `3`, `4`, `9`}, []string{`6`, `12`, `0`, `1`}},
	{"allOf objects", `{"allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]}, {"properties": {"b": {"type": "string"}}, "required": ["b"]}]}`, []string{`{"a":1,"b":"x"}`}, []string{`{"a":1}`, `{"b":"x"}`, `{"a":"1","b":"x"}`}},
	{"not", `{"type": "integer", "not": {"enum": [1, 2]}}`, []string{`0`, `3`, `-1`}, []string{`1`, `2`, `"a"`}},
	{"if then else", `{"type": "integer", "if": {"minimum": 10}, "then": {"multipleOf": 5}, "else": {"maximum": 3}}`, []string{`10`, `15`, `3`, `-7`}, []string{`11`, `4`, `9`}},
	{"recursive ref", `{"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"}, "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v"]}}, "$ref": "#/$defs/node"}`, []string{`{"v":1}`, `{"v":1,"kids":[{"v":2,"kids":[{"v":3}]}]}`}, []string{`{"kids":[]}`, `{"v":1,"kids":[{}]}`}},
	{"boolean schemas", `{"properties": {"yes": true, "no": false}}`, []string{`{}`, `{"yes":[1,{"a":null}]}`}, []string{`{"no":1}`}},
	{"free object", `{"type": "object"}`, []string{`{}`, `{"any":{"thing":[1,2.5,"x"]}}`}, []string{`[]`}},
	{"escapes in strings", `{"type": "string", "maxLength": 4}`, []string{`"\"\\\n\t"`, `"é"`}, []string{`"abcde"`}},
	{"control characters in patterns", `{"type": "string", "pattern": "^.$"}`, []string{`"\u0001"`, `"\u001f"`, `"a"`}, []string{`"ab"`, `"\n"`}},
}

func TestKeywords(t *testing.T) {
	tk := mistral(t)
	r := rand.New(rand.NewPCG(3, 3))
	for _, tc := range keywordCases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := schema.Parse([]byte(tc.schema), "inline.json")
			if err != nil {
				t.Fatal(err)
			}
			res, err := compiler.Compile(doc, tk, compiler.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.accept {
				if err := res.Accept(mustParse(t, s), tk); err != nil {
					t.Errorf("valid %s rejected: %v", s, err)
				}
			}
			for _, s := range tc.reject {
				if err := res.Accept(mustParse(t, s), tk); err == nil {
					t.Errorf("invalid %s accepted (as %q)", s, res.Text(mustParse(t, s)))
				}
			}
			v, err := oracle.NewValidator(doc)
			if err != nil {
				t.Fatal(err)
			}
			if n := walkAndValidate(t, tc.name, res, v, tk, r, 300); n < 100 {
				t.Errorf("only %d of 300 walks finished", n)
			}
		})
	}
}

// TestBigNumbers: by default numbers are limited to what Go's int64 and
// float64 hold exactly; BigNumbers lifts the limit.
func TestBigNumbers(t *testing.T) {
	tk := mistral(t)
	for _, tc := range []struct {
		schema, inst string
		limited      bool // admitted by default
	}{
		{`{"type": "integer"}`, `9223372036854775807`, true},
		{`{"type": "integer"}`, `9223372036854775808`, false},
		{`{"type": "integer", "minimum": 0}`, `123456789012345678901234567890`, false},
		{`{"type": "number"}`, `-99999.9999999999`, true},
		{`{"type": "number"}`, `-99999.99999999999`, false},
		{`{"type": "number"}`, `1e400`, false},
		{`{"type": "number", "maximum": 1}`, `0.000000000000001`, true},
		{`{"type": "number", "maximum": 1}`, `0.0000000000000001`, false},
		{`{}`, `123456789012345678901234567890`, false},
		{`{}`, `-12.5`, true},
	} {
		for _, big := range []bool{false, true} {
			res, err := compileString(t, tc.schema, compiler.Options{BigNumbers: big})
			if err != nil {
				t.Fatal(err)
			}
			err = res.Accept(mustParse(t, tc.inst), tk)
			if want := big || tc.limited; (err == nil) != want {
				t.Errorf("%s with BigNumbers=%v: %s admitted=%v, want %v (%v)", tc.schema, big, tc.inst, err == nil, want, err)
			}
		}
	}
}

// TestUnsupported checks that keywords that cannot be lowered exactly fail
// with the keyword and its pointer, and with the right code.
func TestUnsupported(t *testing.T) {
	for _, tc := range []struct{ schema, msg string }{
		{`{"properties": {"pair": {"prefixItems": [{"type": "string"}], "uniqueItems": true}}}`, "unsupported: uniqueItems with prefixItems or contains"},
		{`{"$defs": {"x": {"$dynamicAnchor": "x", "type": "integer"}, "y": {"$id": "y", "$defs": {"x": {"$dynamicAnchor": "x"}}}}, "$dynamicRef": "#x"}`, `unsupported: $dynamicRef "#x" (2 dynamic anchors`},
		{`{"format": "uri-template"}`, `unsupported: format "uri-template" at (root)`},
		{`{"$ref": "http://example.com/other.json"}`, `unsupported: $ref "http://example.com/other.json" at (root)`},
		{`{"type": "string", "pattern": "(?=a)b"}`, `unsupported:`},
	} {
		_, err := compileString(t, tc.schema, compiler.Options{})
		var se *schema.Error
		if err == nil || !asSchemaError(err, &se) || se.Code != schema.Unsupported {
			t.Errorf("%s: want an Unsupported error, got %v", tc.schema, err)
			continue
		}
		if !contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %q does not contain %q", tc.schema, err, tc.msg)
		}
	}
}
