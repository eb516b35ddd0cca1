package lang

import (
	"testing"

	"github.com/schemac-dev/schemac/compiler/schema"
)

func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"-0.0", "0"}, {"1.0", "1"}, {"1.50", "1.5"}, {"1e2", "100"},
		{"1E+2", "100"}, {"2.5e-3", "0.0025"}, {"-12.340e1", "-123.4"}, {"123e-2", "1.23"},
		{"0.000", "0"}, {"100", "100"}, {"1e-1", "0.1"}, {"9007199254740993", "9007199254740993"},
		{"1e1000", "1e1000"}, {"1E-500", "1e-500"},
	} {
		if got := FormatNumber(tc.in); got != tc.want {
			t.Errorf("FormatNumber(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestFormat checks the indent2 layout against what Python's
// json.dumps(value, indent=2, ensure_ascii=False) writes for the same
// values (expected texts written out by hand from Python's rules).
func TestFormat(t *testing.T) {
	for _, tc := range []struct{ in, ws, want string }{
		{`{"a": [1, {"b": null}], "c": {}, "d": []}`, "indent2", "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": {},\n  \"d\": []\n}"},
		{`{"a": [1, {"b": null}], "c": {}}`, "compact", `{"a":[1,{"b":null}],"c":{}}`},
		{`"é\u0001\"\\/\n\t\u007f😀"`, "indent2", "\"é\\u0001\\\"\\\\/\\n\\t\u007f😀\""},
		{`[1.0, -0, 2e1]`, "compact", `[1,0,20]`},
	} {
		v, err := schema.ParseJSON([]byte(tc.in), "in")
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseLayout(tc.ws)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(Format(v, l, &Order{rank: map[string]int{}})); got != tc.want {
			t.Errorf("Format(%s, %s):\n got %q\nwant %q", tc.in, tc.ws, got, tc.want)
		}
	}
}

// TestOrder checks member ranks: properties first in document order, then
// names that appear only in required.
func TestOrder(t *testing.T) {
	root, err := schema.ParseJSON([]byte(`{"required": ["z", "b"], "properties": {"b": {}, "a": {"properties": {"c": {}, "b": {}}}}}`), "s")
	if err != nil {
		t.Fatal(err)
	}
	o := NewOrder(root)
	for name, want := range map[string]int{"b": 0, "a": 1, "c": 2, "z": 3, "nope": -1} {
		if got := o.Rank(name); got != want {
			t.Errorf("Rank(%q) = %d, want %d", name, got, want)
		}
	}
}

func TestParseLayout(t *testing.T) {
	for _, s := range []string{"", "indent2", "compact", "flexible:0", "flexible:64"} {
		if _, err := ParseLayout(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"indent4", "flexible:", "flexible:-1", "flexible:65", "flexible:x"} {
		if _, err := ParseLayout(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}
