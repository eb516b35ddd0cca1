package canon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

var (
	indent2 = Layout{Kind: Indent2}
	compact = Layout{Kind: Compact}
	flex    = Layout{Kind: Flexible, MaxWS: 4}
)

func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"}, {"-0", "0"}, {"-0.0", "0"}, {"1.0", "1"}, {"1.50", "1.5"}, {"1e2", "100"},
		{"1E+2", "100"}, {"2.5e-3", "0.0025"}, {"-12.340e1", "-123.4"}, {"123e-2", "1.23"},
		{"0.000", "0"}, {"100", "100"}, {"1e-1", "0.1"}, {"9007199254740993", "9007199254740993"},
		{"0e5", "0"}, {"-0.5", "-0.5"}, {"10e-1", "1"}, {"1e400", "1" + strings.Repeat("0", 400)},
		{"1e1000", "1e1000"}, {"1E-500", "1e-500"},
	} {
		if got := FormatNumber(tc.in); got != tc.want {
			t.Errorf("FormatNumber(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain é ☃ 😀 \x7f", "\"plain é ☃ 😀 \x7f\""},
		{"\"\\/", `"\"\\/"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
	} {
		if got := string(AppendString([]byte("x"), tc.in)); got != "x"+tc.want {
			t.Errorf("AppendString(%q) = %s, want x%s", tc.in, got, tc.want)
		}
	}
}

// TestFormat checks Format against texts written out by hand from the rules
// of Python's json.dumps(value, indent=2, ensure_ascii=False) (or with
// separators=(",", ":") for compact), with members put in the given order
// and numbers spelled as exact decimals.
func TestFormat(t *testing.T) {
	ba := NewOrder([]string{"b", "a"})
	for _, tc := range []struct {
		name string
		in   string
		l    Layout
		o    *Order
		want string
	}{
		{"nested indent2", `{"a": [1, {"b": null}], "c": {}, "d": []}`, indent2, nil,
			"{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": {},\n  \"d\": []\n}"},
		{"nested compact", `{"a": [1, {"b": null}], "c": {}, "d": []}`, compact, nil, `{"a":[1,{"b":null}],"c":{},"d":[]}`},
		{"nested flexible", "{ \"a\" :\t[1 ,{\"b\":null}],\r\n\"c\":{ }, \"d\":[\n] }", flex, nil, `{"a":[1,{"b":null}],"c":{},"d":[]}`},
		{"empty containers", `[[], {}, [{}], {"a": []}, [ ], { }]`, indent2, nil,
			"[\n  [],\n  {},\n  [\n    {}\n  ],\n  {\n    \"a\": []\n  },\n  [],\n  {}\n]"},
		{"empty root", " { \n } ", indent2, nil, "{}"},
		{"scalars", `[true, false, null, "", "x"]`, indent2, nil, "[\n  true,\n  false,\n  null,\n  \"\",\n  \"x\"\n]"},
		{"root scalar", " \r\n\t12 \n", indent2, nil, "12"},
		{"escapes decoded", `"\u00e9\ud83d\ude00\/\u0041\u00E9\uD83D\uDE00"`, indent2, nil, `"é😀/Aé😀"`},
		{"escapes respelled", `"\"\\\n\t\b\f\r\u0008\u000a\u001F\u0000\u007f"`, compact, nil, "\"\\\"\\\\\\n\\t\\b\\f\\r\\b\\n\\u001f\\u0000\x7f\""},
		{"raw UTF-8 kept", `"é☃😀 \u2028"`, compact, nil, "\"é☃😀 \u2028\""},
		{"numbers", `[1.0, -0, -0.0, 2e1, 1E+2, 2.5e-3, 0.10, 123, -7, -0.5, 1.5E3, 1e1000]`, compact, nil,
			`[1,0,0,20,100,0.0025,0.1,123,-7,-0.5,1500,1e1000]`},
		{"order", `{"z": 1, "a": 2, "y": 3, "b": 4}`, compact, ba, `{"b":4,"a":2,"y":3,"z":1}`},
		{"order nested indent2", `{"a": {"a": 1, "b": 2}, "b": []}`, indent2, ba,
			"{\n  \"b\": [],\n  \"a\": {\n    \"b\": 2,\n    \"a\": 1\n  }\n}"},
		{"order in arrays", `[{"a": 1, "c": {"x": 0, "b": 1}, "b": 2}]`, compact, ba, `[{"b":2,"a":1,"c":{"b":1,"x":0}}]`},
		{"no order sorts by name", `{"b": 1, "B": 2, "é": 3, "a": 4, "": 5}`, compact, nil, `{"":5,"B":2,"a":4,"b":1,"é":3}`},
		{"sorted by decoded name", `{"\u0062": 1, "a": 2, "a\"": 3}`, compact, nil, `{"a":2,"a\"":3,"b":1}`},
		{"ranked by decoded name", `{"a": 1, "\u0062": 2}`, compact, ba, `{"b":2,"a":1}`},
		{"flexible writes none", `{"b": [1, 2], "a": {"c": "d"}}`, Layout{Kind: Flexible, MaxWS: 64}, ba, `{"b":[1,2],"a":{"c":"d"}}`},
		{"deepest", strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), compact, nil,
			strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)},
	} {
		got, err := Format([]byte("keep"), []byte(tc.in), tc.l, tc.o)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(got) != "keep"+tc.want {
			t.Errorf("%s: Format(%s, %v):\n got %q\nwant %q", tc.name, tc.in, tc.l, got[4:], tc.want)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	for _, tc := range []struct {
		in     string
		off    int
		reason string
	}{
		{"", 0, "unexpected end of input, expecting a value"},
		{"  ", 2, "unexpected end of input, expecting a value"},
		{"\xef\xbb\xbf1", 0, `unexpected '\ufeff', expecting a value`},
		{"x", 0, `unexpected 'x', expecting a value`},
		{`{"a":1,}`, 7, "unexpected '}' in object, expecting a member name"},
		{`{1:2}`, 1, "expecting a member name"},
		{`{"a" 1}`, 5, "expecting ':'"},
		{`{"a":1]`, 6, "expecting ',' or '}'"},
		{`{"a":1`, 6, "unexpected end of input in object"},
		{`[1,]`, 3, "unexpected ']', expecting a value"},
		{`[1 2]`, 3, "expecting ',' or ']'"},
		{`[1`, 2, "unexpected end of input in array"},
		{`1 2`, 2, "unexpected '2' after the value"},
		{`[1]x`, 3, "after the value"},
		{`"\q"`, 1, `invalid escape "\q"`},
		{"\"\\\x01\"", 1, "invalid escape: backslash before byte 0x01"},
		{`"\u12g4"`, 1, `invalid \u escape`},
		{`"\u12"`, 1, `invalid \u escape`},
		{`"\ud800"`, 1, `lone surrogate "\\ud800"`},
		{`"ab\ud83d"`, 3, "lone surrogate"},
		{`"\ud800\u0041"`, 1, "lone surrogate"},
		{`"\udc00\ud800"`, 1, "lone surrogate"},
		{`["ok", "\ude00"]`, 8, "lone surrogate"},
		{"\"\xff\"", 1, "invalid UTF-8 in string"},
		{"\"ab\xc3\"", 3, "invalid UTF-8 in string"},
		{"\"\xed\xa0\x80\"", 1, "invalid UTF-8 in string"},
		{"{\"k\xc0\":1}", 3, "invalid UTF-8 in string"},
		{"\"a\nb\"", 2, "control character U+000A in string must be escaped"},
		{`"abc`, 4, "unexpected end of input in string"},
		{`"abc\`, 5, "unexpected end of input in string escape"},
		{`01`, 1, "leading zero in number"},
		{`-`, 1, "expecting a digit"},
		{`-a`, 1, "unexpected 'a' in number"},
		{`1.`, 2, "after decimal point"},
		{`1.e5`, 2, "after decimal point"},
		{`1e`, 2, "in exponent"},
		{`1e+`, 3, "in exponent"},
		{`.5`, 0, "expecting a value"},
		{`+1`, 0, "expecting a value"},
		{`tru`, 3, "unexpected end of input in literal true"},
		{`nul1`, 3, "in literal null"},
		{`True`, 0, "expecting a value"},
		{`{"a":1,"a":2}`, 7, `duplicate member name "a"`},
		{`{"b":1,"a":2,"b":3}`, 13, `duplicate member name "b"`},
		{`{"a\u0062":1,"ab":2}`, 13, `duplicate member name "ab"`},
		{`[{"x":{"y":1,"y":2}}]`, 13, `duplicate member name "y"`},
		{strings.Repeat("[", MaxDepth+1), MaxDepth, fmt.Sprintf("nesting deeper than %d", MaxDepth)},
		{strings.Repeat(`{"a":`, MaxDepth+1), 5 * MaxDepth, "nesting deeper than"},
	} {
		dst := []byte("keep")
		got, err := Format(dst, []byte(tc.in), indent2, NewOrder([]string{"b"}))
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("Format(%q) = %q, %v; want an *Error", tc.in, got, err)
			continue
		}
		if e.Offset != tc.off || !strings.Contains(e.Reason, tc.reason) {
			t.Errorf("Format(%q): %v; want offset %d, reason %q", tc.in, err, tc.off, tc.reason)
		}
		if want := fmt.Sprintf("canon: offset %d: ", tc.off); !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Format(%q): message %q does not start %q", tc.in, err, want)
		}
		if string(got) != "keep" {
			t.Errorf("Format(%q) changed dst on failure: %q", tc.in, got)
		}
	}
}

// userProfileOrder is the member order of schemas/user_profile.schema.json:
// its "properties" in document order.
var userProfileOrder = NewOrder([]string{"full_name", "email", "years_of_experience", "skills", "primary_role"})

// TestUserProfile: the shared instance is laid out by Python's
// json.dumps(indent=2); Format must write it byte for byte from its compact
// form, from itself, and from a shuffled, re-spaced, re-escaped form.
func TestUserProfile(t *testing.T) {
	want, err := os.ReadFile("../../testdata/user_profile.instance.json")
	if err != nil {
		t.Fatal(err)
	}
	var small bytes.Buffer
	if err := json.Compact(&small, want); err != nil {
		t.Fatal(err)
	}
	shuffled := `{ "primary_role":"DevOps\u0020Engineer", "skills" : ["Kubernetes","AWS","Go","Python","Terraform"],` +
		"\n\t\"years_of_experience\": 9.0E0, \"email\":\"alex.ray\\u0040example.com\",\"full_name\":\"Alex Ray\"}"
	for _, src := range []string{small.String(), string(want), shuffled} {
		got, err := Format(nil, []byte(src), indent2, userProfileOrder)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Format(%s):\n got %q\nwant %q", src, got, want)
		}
	}
	got, err := Format(nil, want, compact, userProfileOrder)
	if err != nil || !bytes.Equal(got, small.Bytes()) {
		t.Errorf("compact: got %s, %v; want %s", got, err, small.Bytes())
	}
}

// TestFormatRandom formats random texts written with random spacing,
// escapes and member order, and checks that the result holds the same value
// (as encoding/json reads both) and that formatting it again changes
// nothing.
func TestFormatRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	o := NewOrder([]string{"k3", "k1", "k5"})
	for i := 0; i < 300; i++ {
		src := randomText(r, 0)
		for _, l := range []Layout{indent2, compact, flex} {
			got, err := Format(nil, []byte(src), l, o)
			if err != nil {
				t.Fatalf("Format(%s): %v", src, err)
			}
			again, err := Format(nil, got, l, o)
			if err != nil || !bytes.Equal(again, got) {
				t.Fatalf("Format is not idempotent on %s:\n%s\n%s (%v)", src, got, again, err)
			}
			checkSameValue(t, []byte(src), got)
		}
	}
}

// randomText writes a random JSON text with arbitrary whitespace and escapes.
func randomText(r *rand.Rand, depth int) string {
	ws := func() string { return []string{"", "", " ", "\n  ", "\t", "\r\n"}[r.IntN(6)] }
	k := r.IntN(8)
	if depth > 3 {
		k = r.IntN(4)
	}
	switch k {
	case 0:
		return []string{"true", "false", "null"}[r.IntN(3)]
	case 1:
		return []string{"0", "-0", "1.50", "12e-1", "-3E+2", "0.000", "42", "-0.5e-2", "7e0"}[r.IntN(9)]
	case 2, 3:
		return randomString(r)
	case 4, 5:
		var b strings.Builder
		b.WriteString("[" + ws())
		n := r.IntN(4)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(ws() + "," + ws())
			}
			b.WriteString(randomText(r, depth+1))
		}
		b.WriteString(ws() + "]")
		return b.String()
	}
	var b strings.Builder
	b.WriteString("{" + ws())
	names := r.Perm(7)[:r.IntN(6)]
	for i, n := range names {
		if i > 0 {
			b.WriteString(ws() + "," + ws())
		}
		name := fmt.Sprintf(`"k%d"`, n)
		if r.IntN(3) == 0 {
			name = fmt.Sprintf(`"\u006b%d"`, n) // "k" escaped
		}
		b.WriteString(name + ws() + ":" + ws() + randomText(r, depth+1))
	}
	b.WriteString(ws() + "}")
	return b.String()
}

func randomString(r *rand.Rand) string {
	parts := []string{"a", "é", "😀", `\"`, `\\`, `\/`, `\n`, `\t`, `\b`, `\f`, `\r`, `\u0001`, `\u001F`,
		`\u00e9`, `\uD83D\uDE00`, `\u2028`, "\x7f", " ", "~"}
	var b strings.Builder
	b.WriteByte('"')
	for n := r.IntN(6); n > 0; n-- {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	b.WriteByte('"')
	return b.String()
}

// BenchmarkFormat formats a 2 KB object written with other spacing and
// member order, in the indent2 layout.
func BenchmarkFormat(b *testing.B) {
	src := benchText()
	o := NewOrder([]string{"id", "name", "email", "tags", "address", "history"})
	dst, err := Format(nil, src, indent2, o)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = Format(dst[:0], src, indent2, o)
	}
}

func benchText() []byte {
	var b strings.Builder
	b.WriteString(`{"history": [`)
	for i := 0; i < 12; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"when": "2024-01-%02dT10:00:00Z", "amount": %d.50, "note": "payment \u00e9 #%d\n", "ok": true}`, i+1, 100+i, i)
	}
	b.WriteString(`], "tags": ["alpha", "beta", "gamma", "delta"], "name": "Alex Ray", "id": 12345,`)
	b.WriteString(` "address": {"street": "1 Infinite Loop", "city": "Cupertino", "zip": "95014", "geo": [37.33182, -122.03118]},`)
	b.WriteString(` "email": "alex.ray@example.com", "extra": null, "score": 1.5e2, "bio": "` + strings.Repeat("Go and JSON. ", 40) + `"}`)
	return []byte(b.String())
}
