package schema

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func keys(v *Value) []string {
	var ks []string
	for _, m := range v.Members {
		ks = append(ks, m.Key)
	}
	return ks
}

func TestParseJSONKeepsOrderAndPointers(t *testing.T) {
	src := `{
  "zeta": {"y": 1, "x": [true, {"c": null, "b": "s", "a": 1.50}], "w": {}},
  "alpha": "first?",
  "a/b": {"m~n": {"~1": 0}, "": -0},
  "mid": 1e2
}`
	v, err := ParseJSON([]byte(src), "t.json")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(v), []string{"zeta", "alpha", "a/b", "mid"}; !reflect.DeepEqual(got, want) {
		t.Errorf("root order = %q, want %q", got, want)
	}
	if got, want := keys(v.Get("zeta")), []string{"y", "x", "w"}; !reflect.DeepEqual(got, want) {
		t.Errorf("zeta order = %q, want %q", got, want)
	}
	inner := v.Get("zeta").Get("x").Items[1]
	if got, want := keys(inner), []string{"c", "b", "a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("inner order = %q, want %q", got, want)
	}

	ptrs := []struct {
		v    *Value
		want string
	}{
		{v, ""},
		{v.Get("zeta"), "/zeta"},
		{v.Get("zeta").Get("x"), "/zeta/x"},
		{v.Get("zeta").Get("x").Items[0], "/zeta/x/0"},
		{inner.Get("a"), "/zeta/x/1/a"},
		{v.Get("zeta").Get("w"), "/zeta/w"},
		{v.Get("a/b"), "/a~1b"},
		{v.Get("a/b").Get("m~n"), "/a~1b/m~0n"},
		{v.Get("a/b").Get("m~n").Get("~1"), "/a~1b/m~0n/~01"},
		{v.Get("a/b").Get(""), "/a~1b/"},
	}
	for _, p := range ptrs {
		if p.v == nil {
			t.Errorf("value for %q missing", p.want)
			continue
		}
		if p.v.Ptr != p.want {
			t.Errorf("Ptr = %q, want %q", p.v.Ptr, p.want)
		}
	}

	nums := map[string]*Value{"1.50": inner.Get("a"), "-0": v.Get("a/b").Get(""), "1e2": v.Get("mid")}
	for want, n := range nums {
		if n.Kind != Number || n.Num != want {
			t.Errorf("number = %v %q, want literal %q", n.Kind, n.Num, want)
		}
	}
	if s := v.Get("alpha"); s.Kind != String || s.Str != "first?" {
		t.Errorf("alpha = %+v", s)
	}
	if v.Get("nope") != nil || v.Get("alpha").Get("x") != nil || (*Value)(nil).Get("x") != nil {
		t.Error("Get of a missing member or on a non-object should be nil")
	}
}

func TestParseJSONStrings(t *testing.T) {
	tests := []struct{ src, want string }{
		{`"plain"`, "plain"},
		{`"esc \" \\ \/ \b \f \n \r \t"`, "esc \" \\ / \b \f \n \r \t"},
		{`"\u00e9\u4e2d"`, "é中"},
		{`"\uD83D\uDCA9"`, "💩"},
		{`"héllo"`, "héllo"},
		{`"mixed é \n"`, "mixed é \n"},
	}
	for _, tt := range tests {
		v, err := ParseJSON([]byte(tt.src), "s.json")
		if err != nil {
			t.Errorf("ParseJSON(%s): %v", tt.src, err)
			continue
		}
		if v.Kind != String || v.Str != tt.want {
			t.Errorf("ParseJSON(%s) = %q, want %q", tt.src, v.Str, tt.want)
		}
	}
}

func TestParseJSONErrors(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	tests := []struct {
		name      string
		src       string
		code      Code
		line, col int
		ptr       string
		msg       string // substring of Error()
	}{
		{"duplicate", `{"a": 1, "b": {"x": 1,` + "\n" + `  "x": 2}}`, Invalid, 2, 3, "/b/x", `duplicate member name "x"`},
		{"duplicate escaped", `{"a/b": 1, "a/b": 2}`, Invalid, 1, 12, "/a~1b", `duplicate member name "a/b"`},
		{"duplicate in big object", `{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k3":3}`, Invalid, 1, 72, "/k3", `duplicate member name "k3"`},
		{"missing value", "{\n  \"a\": {\n    \"b\": }\n}", Invalid, 3, 10, "/a/b", "unexpected character '}', expecting a value"},
		{"trailing data", `{"a": 1} {"b": 2}`, Invalid, 1, 10, "", "after top-level value"},
		{"trailing comma", `[1, 2,]`, Invalid, 1, 7, "/2", "expecting a value"},
		{"missing comma", `{"a": 1 "b": 2}`, Invalid, 1, 9, "", "expecting ',' or '}'"},
		{"unterminated", `{"a": "xyz`, Invalid, 1, 11, "/a", "unexpected end of input in string"},
		{"empty", ``, Invalid, 1, 1, "", "unexpected end of input"},
		{"leading zero", `[01]`, Invalid, 1, 3, "/0", "leading zero"},
		{"bad literal", `[tru]`, Invalid, 1, 5, "/0", "in literal true"},
		{"single quotes", `{'a': 1}`, Invalid, 1, 2, "", "expecting a member name"},
		{"control char", "[\"a\tb\"]", Invalid, 1, 4, "/0", "control character U+0009"},
		{"bad escape", `["\x"]`, Invalid, 1, 3, "/0", `invalid escape \x`},
		{"lone surrogate", `["ok", "\ud800x"]`, Invalid, 1, 9, "/1", "unpaired UTF-16 surrogate"},
		{"invalid utf8", "[\"ab\xffc\"]", Invalid, 1, 5, "/0", "invalid UTF-8"},
		{"column counts characters", `{"é": 1, "é": 2}`, Invalid, 1, 10, "/é", "duplicate"},
		{"too deep", deep, TooLarge, 1, MaxDepth + 1, strings.Repeat("/0", MaxDepth), "nesting deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tt.src), "in.json")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Code != tt.code || e.Line != tt.line || e.Col != tt.col || e.Ptr != tt.ptr || e.File != "in.json" {
				t.Errorf("got code %v at %d:%d ptr %q file %q, want %v at %d:%d ptr %q (%v)",
					e.Code, e.Line, e.Col, e.Ptr, e.File, tt.code, tt.line, tt.col, tt.ptr, e)
			}
			if !strings.Contains(e.Error(), tt.msg) {
				t.Errorf("Error() = %q, want it to contain %q", e.Error(), tt.msg)
			}
			if prefix := "in.json:"; !strings.HasPrefix(e.Error(), prefix) {
				t.Errorf("Error() = %q, want prefix %q", e.Error(), prefix)
			}
		})
	}
}

func TestParseJSONErrorMessage(t *testing.T) {
	_, err := ParseJSON([]byte("{\"a\": 1,\n \"a\": 2}"), "dup.json")
	if got, want := err.Error(), `dup.json:2:2: invalid at /a: duplicate member name "a"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestParseJSONBOM(t *testing.T) {
	v, err := ParseJSON([]byte("\xEF\xBB\xBF{\"a\": 1}"), "bom.json")
	if err != nil || v.Get("a") == nil {
		t.Fatalf("ParseJSON with BOM: %v", err)
	}
}

func TestInterfaceAndMarshal(t *testing.T) {
	src := `{"b":[1.0,"x\n\u0001",null,true,false],"a":{"z":-1e-3,"y":{}},"c":[]}`
	v, err := ParseJSON([]byte(src), "i.json")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"b": []any{json.Number("1.0"), "x\n\x01", nil, true, false},
		"a": map[string]any{"z": json.Number("-1e-3"), "y": map[string]any{}},
		"c": []any{},
	}
	if got := v.Interface(); !reflect.DeepEqual(got, want) {
		t.Errorf("Interface() = %#v\nwant %#v", got, want)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != src {
		t.Errorf("MarshalJSON = %s\nwant %s", out, src)
	}
}
