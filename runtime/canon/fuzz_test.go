package canon

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	`{"a": [1, {"b": null}], "c": {}, "d": []}`,
	`"\u00e9\ud83d\ude00\/\n\u001f"`,
	`[1.0, -0, 2e1, 1E+2, 2.5e-3, 1e1000]`,
	`{"b": 1, "a": 2, "a\u0062": 3}`,
	`{"a":1,"a":2}`,
	`"\ud800"`,
	"\"\xff\"",
	`[[[[]]]]`,
	` true `,
	`{"x": "y`,
}

// FuzzFormat: Format never panics; what it writes formats to itself and
// holds the value encoding/json reads from the source.
func FuzzFormat(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	o := NewOrder([]string{"b", "a"})
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, l := range []Layout{indent2, compact, flex} {
			out, err := Format(nil, src, l, o)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error of type %T: %v", err, err)
				}
				continue
			}
			if !json.Valid(src) {
				t.Fatalf("Format accepted %q, which encoding/json rejects", src)
			}
			if !utf8.Valid(out) {
				t.Fatalf("Format wrote invalid UTF-8 %q", out)
			}
			again, err := Format(nil, out, l, o)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("output %q formats to %q, %v", out, again, err)
			}
			checkSameValue(t, src, out)
		}
	})
}

// FuzzPointerAt: PointerAt never panics and answers a pointer.
func FuzzPointerAt(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), len(s)/2)
	}
	f.Add([]byte(`{"a/b":[1,{"~":2}]}`), 14)
	f.Fuzz(func(t *testing.T, text []byte, off int) {
		p := PointerAt(text, off)
		if p != "" && p[0] != '/' {
			t.Fatalf("PointerAt(%q, %d) = %q, not a pointer", text, off, p)
		}
	})
}

// checkSameValue fails unless a and b hold equal JSON values as
// encoding/json reads them, numbers compared by exact value.
func checkSameValue(t *testing.T, a, b []byte) {
	t.Helper()
	va, err := decodeJSON(a)
	if err != nil {
		t.Fatalf("encoding/json rejects %q: %v", a, err)
	}
	vb, err := decodeJSON(b)
	if err != nil {
		t.Fatalf("encoding/json rejects %q: %v", b, err)
	}
	if !sameValue(va, vb) {
		t.Fatalf("values differ:\n%q\n%q", a, b)
	}
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

func sameValue(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		return ok && normNum(string(a)) == normNum(string(b))
	}
	return a == b
}

// normNum writes a number literal as sign, digits without leading or
// trailing zeros, and a power of ten: "1.50" and "15e-1" are both "15e-1".
func normNum(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, exps, _ := strings.Cut(strings.ToLower(s), "e")
	exp := new(big.Int)
	if exps != "" {
		exp.SetString(exps, 10)
	}
	ip, fp, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(ip+fp, "0")
	exp.Sub(exp, big.NewInt(int64(len(fp))))
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		exp.Add(exp, big.NewInt(1))
	}
	if digits == "" {
		return "0"
	}
	sign := ""
	if neg {
		sign = "-"
	}
	return fmt.Sprintf("%s%se%s", sign, digits, exp)
}
