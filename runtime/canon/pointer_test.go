package canon

import (
	"strings"
	"testing"
)

func TestPointerAt(t *testing.T) {
	const doc = `{"a":[1,{"b/c":"xy"}],"d~":true,"e":12,"":[[],{}]}`
	// at returns the offset of the n-th (from 0) occurrence of sub in doc,
	// plus delta.
	at := func(sub string, n, delta int) int {
		i := -1
		for ; n >= 0; n-- {
			j := strings.Index(doc[i+1:], sub)
			if j < 0 {
				t.Fatalf("%q not in the document", sub)
			}
			i += 1 + j
		}
		return i + delta
	}
	for _, tc := range []struct {
		name string
		off  int
		want string
	}{
		{"root brace", 0, ""},
		{"before the text", -5, ""},
		{"in a name", at(`"a"`, 0, 1), ""},
		{"at a name's quote", at(`"a"`, 0, 0), ""},
		{"at a colon", at(`:[`, 0, 0), ""},
		{"at an array's bracket", at(`[1`, 0, 0), "/a"},
		{"at an element", at(`1,`, 0, 0), "/a/0"},
		{"at a comma after a number", at(`1,`, 0, 1), "/a"},
		{"at an element object", at(`{"b/c"`, 0, 0), "/a/1"},
		{"in a nested name", at(`b/c`, 0, 1), "/a/1"},
		{"at a nested value", at(`"xy"`, 0, 0), "/a/1/b~1c"},
		{"in a nested value", at(`"xy"`, 0, 2), "/a/1/b~1c"},
		{"at a closing quote", at(`"xy"`, 0, 3), "/a/1/b~1c"},
		{"at a closing brace", at(`}]`, 0, 0), "/a/1"},
		{"at a closing bracket", at(`}]`, 0, 1), "/a"},
		{"at a comma after a container", at(`],`, 0, 1), ""},
		{"name with tilde", at(`true`, 0, 0), "/d~0"},
		{"in a literal", at(`true`, 0, 3), "/d~0"},
		{"first digit", at(`12`, 0, 0), "/e"},
		{"last digit", at(`12`, 0, 1), "/e"},
		{"after a number", at(`12`, 0, 2), ""},
		{"empty name", at(`[[]`, 0, 0), "/"},
		{"empty array element", at(`[]`, 0, 0), "//0"},
		{"in an empty array", at(`[]`, 0, 1), "//0"},
		{"empty object element", at(`{}`, 0, 0), "//1"},
		{"last byte", len(doc) - 1, ""},
		{"at the end", len(doc), ""},
		{"past the end", len(doc) + 10, ""},
	} {
		if got := PointerAt([]byte(doc), tc.off); got != tc.want {
			t.Errorf("%s: PointerAt(%d) = %q, want %q", tc.name, tc.off, got, tc.want)
		}
	}
}

// TestPointerAtEnd checks texts that stop early: the value being written
// when the text stops, or the innermost open container.
func TestPointerAtEnd(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{``, ""},
		{`{`, ""},
		{`{"a"`, ""},
		{`{"a":`, ""},
		{`{"a":"x`, "/a"},
		{`{"a":"x\"`, "/a"},
		{`{"a":[1`, "/a/0"},
		{`{"a":[1,`, "/a"},
		{`{"a":[1,2]`, ""},
		{`{"a":tr`, "/a"},
		{`{"a":true`, ""},
		{`{"a":-`, "/a"},
		{`{"a":{"b":`, "/a"},
		{`{"a":{"b":{`, "/a/b"},
		{`[[[`, "/0/0"},
		{`[0,[1,[`, "/1/1"},
		{`[0,[1,[]`, "/1"},
		{`"abc`, ""},
		{`12`, ""},
		{"{\n  \"a\": [\n    1,\n    ", "/a"},
	} {
		if got := PointerAt([]byte(tc.text), len(tc.text)); got != tc.want {
			t.Errorf("PointerAt(%q, end) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestPointerAtNames checks that names are decoded and escaped (RFC 6901).
func TestPointerAtNames(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{`{"a/b":1}`, "/a~1b"},
		{`{"~1":1}`, "/~01"},
		{`{"x\"y":1}`, `/x"y`},
		{`{"\u0041\/":1}`, "/A~1"},
		{`{"é 😀":1}`, "/é 😀"},
		{`{"\q":1}`, `/\q`}, // not a valid name: read as written
	} {
		off := strings.LastIndex(tc.text, "1")
		if got := PointerAt([]byte(tc.text), off); got != tc.want {
			t.Errorf("PointerAt(%s, %d) = %q, want %q", tc.text, off, got, tc.want)
		}
	}
}

// TestPointerAtFormatted checks offsets in the indent2 layout, where
// indentation belongs to the container.
func TestPointerAtFormatted(t *testing.T) {
	text, err := Format(nil, []byte(`{"a":[1,{"b":null}]}`), indent2, nil)
	if err != nil {
		t.Fatal(err)
	}
	// {\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}
	s := string(text)
	for _, tc := range []struct {
		off  int
		want string
	}{
		{strings.Index(s, "[") + 2, "/a"},       // indentation before 1
		{strings.Index(s, "1"), "/a/0"},         // the element
		{strings.Index(s, "{\n      "), "/a/1"}, // the nested object
		{strings.Index(s, "null"), "/a/1/b"},
		{strings.Index(s, "null") + 4, "/a/1"}, // newline after null
		{strings.LastIndex(s, "]"), "/a"},
	} {
		if got := PointerAt(text, tc.off); got != tc.want {
			t.Errorf("PointerAt(%q, %d) = %q, want %q", s, tc.off, got, tc.want)
		}
	}
}

// TestPointerAtGarbage: anything reads without panicking.
func TestPointerAtGarbage(t *testing.T) {
	for _, text := range []string{"]]}},,::", `{"a" "b" 1 2}`, `[1 2 "x":3]`, `{{{`, `"\`, `{"\`, `1 2 3`, "\xff\xfe", `{,:}`, `[,1]`} {
		for off := -1; off <= len(text)+1; off++ {
			p := PointerAt([]byte(text), off)
			if p != "" && p[0] != '/' {
				t.Errorf("PointerAt(%q, %d) = %q", text, off, p)
			}
		}
	}
}
