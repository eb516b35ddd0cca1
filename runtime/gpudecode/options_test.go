package gpudecode

import (
	"strings"
	"testing"
)

// TestSetOptions: a valid list sets each named variable; a list with one
// bad entry names it and changes nothing.
func TestSetOptions(t *testing.T) {
	defer func(rows int, lora bool, dec string) { NF4Rows, EarlyLoRA, NF4Decode = rows, lora, dec }(NF4Rows, EarlyLoRA, NF4Decode)
	NF4Rows, EarlyLoRA, NF4Decode = 4, false, "lut"
	if err := SetOptions("NF4Rows=2, EarlyLoRA=true,NF4Decode=prmt"); err != nil {
		t.Fatal(err)
	}
	if NF4Rows != 2 || !EarlyLoRA || NF4Decode != "prmt" {
		t.Errorf("after SetOptions: NF4Rows %d, EarlyLoRA %v, NF4Decode %q", NF4Rows, EarlyLoRA, NF4Decode)
	}
	for _, tc := range []struct{ spec, want string }{
		{"NF4Rows=8,Bogus=1", `"Bogus=1"`},
		{"NF4Rows=8,EarlyLoRA", `"EarlyLoRA"`},
		{"NF4Rows=eight", `NF4Rows: "eight" is not an integer`},
		{"NF4Rows=8,EarlyLoRA=maybe", `EarlyLoRA: "maybe" is not true or false`},
	} {
		err := SetOptions(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("SetOptions(%q) = %v, want an error containing %s", tc.spec, err, tc.want)
		}
		if NF4Rows != 2 {
			t.Errorf("SetOptions(%q) changed NF4Rows to %d", tc.spec, NF4Rows)
		}
	}
	t.Setenv(OptionsEnv, "NF4Rows=x")
	if err := OptionsFromEnv(); err == nil || !strings.Contains(err.Error(), OptionsEnv) {
		t.Errorf("OptionsFromEnv with a bad %s: %v", OptionsEnv, err)
	}
}
