package lang

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/canon"
)

// TestFormat checks the indent2 layout against what Python's
// json.dumps(value, indent=2, ensure_ascii=False) writes for the same
// values (expected texts written out by hand from Python's rules).
func TestFormat(t *testing.T) {
	for _, tc := range []struct{ in, ws, want string }{
		{`{"a": [1, {"b": null}], "c": {}, "d": []}`, "indent2", "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": {},\n  \"d\": []\n}"},
		{`{"a": [1, {"b": null}], "c": {}}`, "compact", `{"a":[1,{"b":null}],"c":{}}`},
		{`{"a": [1, {"b": null}], "c": {}}`, "flexible:3", `{"a":[1,{"b":null}],"c":{}}`},
		{`"é\u0001\"\\/\n\t\u007f😀"`, "indent2", "\"é\\u0001\\\"\\\\/\\n\\t\u007f😀\""},
		{`[1.0, -0, 2e1]`, "compact", `[1,0,20]`},
		{`{"b": 1, "a": 2}`, "compact", `{"a":2,"b":1}`},
	} {
		v, err := schema.ParseJSON([]byte(tc.in), "in")
		if err != nil {
			t.Fatal(err)
		}
		l, err := ParseLayout(tc.ws)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(Format(v, l, nil)); got != tc.want {
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
	if got := fmt.Sprint(o.Names()); got != "[b a c z]" {
		t.Errorf("Names() = %s", got)
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

// TestUserProfileLayout: the shared instance is laid out by Python's
// json.dumps(indent=2); with the order of the UserProfile schema, both
// Format (of the parsed value) and canon.Format (of the text, compact or as
// it is) write it byte for byte.
func TestUserProfileLayout(t *testing.T) {
	doc, err := schema.Load("../../schemas/user_profile.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	o := NewOrder(doc.Root)
	want, err := os.ReadFile("../../testdata/user_profile.instance.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.ParseJSON(want, "instance")
	if err != nil {
		t.Fatal(err)
	}
	l := Layout{Kind: Indent2}
	if got := Format(v, l, o); !bytes.Equal(got, want) {
		t.Errorf("Format:\n got %q\nwant %q", got, want)
	}
	small, _ := v.MarshalJSON()
	for _, src := range [][]byte{small, want} {
		got, err := canon.Format(nil, src, l, o)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("canon.Format(%s) = %q, %v\nwant %q", src, got, err, want)
		}
	}
}

// TestFormatSameAsCanon: for random values, Format of the value and
// canon.Format of its JSON text agree in every layout.
func TestFormatSameAsCanon(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	o := canon.NewOrder([]string{"m2", "m0", "é", "m4"})
	layouts := []Layout{{Kind: Indent2}, {Kind: Compact}, {Kind: Flexible, MaxWS: 2}}
	for i := 0; i < 500; i++ {
		v := randomValue(r, 0)
		text, err := v.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range layouts {
			want := Format(v, l, o)
			got, err := canon.Format(nil, text, l, o)
			if err != nil {
				t.Fatalf("canon.Format(%s): %v", text, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("layout %v, value %s:\n canon.Format %q\n Format       %q", l, text, got, want)
			}
		}
	}
}

func randomValue(r *rand.Rand, depth int) *schema.Value {
	k := r.IntN(9)
	if depth >= 4 {
		k = r.IntN(5)
	}
	switch k {
	case 0:
		return &schema.Value{Kind: schema.Null}
	case 1:
		return &schema.Value{Kind: schema.Bool, Bool: r.IntN(2) == 0}
	case 2:
		return &schema.Value{Kind: schema.Number, Num: randomNumber(r)}
	case 3, 4:
		return &schema.Value{Kind: schema.String, Str: randomString(r)}
	case 5, 6:
		v := &schema.Value{Kind: schema.Array, Items: []*schema.Value{}}
		for n := r.IntN(4); n > 0; n-- {
			v.Items = append(v.Items, randomValue(r, depth+1))
		}
		return v
	}
	v := &schema.Value{Kind: schema.Object, Members: []schema.Member{}}
	names := []string{"m0", "m1", "m2", "m3", "m4", "é", "A", "", "a\"b", "a\nb", "z~/"}
	for _, i := range r.Perm(len(names))[:r.IntN(6)] {
		v.Members = append(v.Members, schema.Member{Key: names[i], Value: randomValue(r, depth+1)})
	}
	return v
}

func randomNumber(r *rand.Rand) string {
	var b strings.Builder
	if r.IntN(3) == 0 {
		b.WriteByte('-')
	}
	if r.IntN(4) == 0 {
		b.WriteByte('0')
	} else {
		fmt.Fprint(&b, 1+r.IntN(999))
	}
	if r.IntN(2) == 0 {
		b.WriteByte('.')
		for n := 1 + r.IntN(3); n > 0; n-- {
			b.WriteByte(byte('0' + r.IntN(10)))
		}
	}
	if r.IntN(3) == 0 {
		b.WriteString([]string{"e", "E", "e+", "E-", "e-"}[r.IntN(5)])
		fmt.Fprint(&b, r.IntN(12))
	}
	return b.String()
}

func randomString(r *rand.Rand) string {
	var b strings.Builder
	for n := r.IntN(8); n > 0; n-- {
		switch k := r.IntN(6); k {
		case 0:
			b.WriteByte(byte(r.IntN(0x20))) // control characters
		case 1:
			b.WriteString([]string{`"`, `\`, "/", "\x7f", "~"}[r.IntN(5)])
		case 2:
			b.WriteRune([]rune{'é', '☃', '😀', '\u2028', '\ufeff'}[r.IntN(5)])
		default:
			b.WriteByte(byte('a' + r.IntN(26)))
		}
	}
	return b.String()
}
