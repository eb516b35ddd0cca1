package schema

import (
	"math/big"
	"testing"
)

func mustJSON(t *testing.T, s string) *Value {
	t.Helper()
	v, err := ParseJSON([]byte(s), "test.json")
	if err != nil {
		t.Fatalf("ParseJSON(%s): %v", s, err)
	}
	return v
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`1`, `1.0`, true},
		{`1`, `1e0`, true},
		{`1.0`, `1e0`, true},
		{`10`, `1e1`, true},
		{`100`, `1E+2`, true},
		{`0.5`, `5e-1`, true},
		{`0.001`, `1e-3`, true},
		{`12.3400`, `1234e-2`, true},
		{`0`, `-0`, true},
		{`0`, `0.0e10`, true},
		{`-1.5`, `-15e-1`, true},
		{`1`, `-1`, false},
		{`1`, `1.0000000000000000000001`, false},
		{`1e400`, `10e399`, true},
		{`1e400`, `1e401`, false},
		{`1e99999999999999999999`, `1e99999999999999999999`, true},
		{`1e99999999999999999999`, `10e99999999999999999998`, true},
		{`1e99999999999999999999`, `1e99999999999999999998`, false},
		{`1`, `"1"`, false},
		{`null`, `null`, true},
		{`null`, `false`, false},
		{`true`, `true`, true},
		{`true`, `false`, false},
		{`"a"`, `"a"`, true},
		{`"a"`, `"b"`, false},
		{`[1,2]`, `[1,2]`, true},
		{`[1,2]`, `[1.0,2e0]`, true},
		{`[1,2]`, `[2,1]`, false},
		{`[1,2]`, `[1,2,3]`, false},
		{`[]`, `{}`, false},
		{`{"a":1,"b":[true,{"c":null}]}`, `{"b":[true,{"c":null}],"a":1.0}`, true},
		{`{"a":1,"b":2}`, `{"a":1,"c":2}`, false},
		{`{"a":1}`, `{"a":1,"b":2}`, false},
		{`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9}`,
			`{"k9":9,"k8":8,"k7":7,"k6":6,"k5":5,"k4":4,"k3":3,"k2":2,"k1":1,"k0":0.0}`, true},
		{`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9}`,
			`{"k9":9,"k8":8,"k7":7,"k6":6,"k5":5,"k4":4,"k3":3,"k2":2,"k1":1,"kx":0}`, false},
	}
	for _, tt := range tests {
		a, b := mustJSON(t, tt.a), mustJSON(t, tt.b)
		if got := a.Equal(b); got != tt.want {
			t.Errorf("%s Equal %s = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := b.Equal(a); got != tt.want {
			t.Errorf("%s Equal %s = %v, want %v (reversed)", tt.b, tt.a, got, tt.want)
		}
	}
	var nilv *Value
	if !nilv.Equal(nil) || nilv.Equal(mustJSON(t, "null")) {
		t.Error("nil Equal: nil must equal only nil")
	}
}

// TestNumberEqualMatchesRat checks the text-based number comparison against
// math/big.Rat on literals small enough for Rat.
func TestNumberEqualMatchesRat(t *testing.T) {
	lits := []string{"0", "-0", "0.0", "1", "1.0", "1e0", "10e-1", "0.1e1", "2", "-2", "-2.0",
		"0.25", "25e-2", "2.5e-1", "1e2", "100", "100.00", "1E2", "1e+2", "0.001", "1e-3", "123.456",
		"123456e-3", "1.23456e2", "-0.0", "0e5", "3", "3.0000000000000000000000001", "1e-10"}
	for _, a := range lits {
		for _, b := range lits {
			ra, _ := new(big.Rat).SetString(a)
			rb, _ := new(big.Rat).SetString(b)
			if got, want := numEqual(a, b), ra.Cmp(rb) == 0; got != want {
				t.Errorf("numEqual(%s, %s) = %v, big.Rat says %v", a, b, got, want)
			}
		}
	}
}

func TestKindString(t *testing.T) {
	want := map[Kind]string{Null: "null", Bool: "boolean", Number: "number", String: "string", Array: "array", Object: "object"}
	for k, s := range want {
		if k.String() != s {
			t.Errorf("%d.String() = %q, want %q", k, k.String(), s)
		}
	}
}
