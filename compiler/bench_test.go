package compiler_test

import (
	"testing"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/schema"
)

// BenchmarkCompileUserProfile measures the whole compile of the reference
// article's schema with the Mistral vocabulary (indent2), the figure the
// issue compares with XGrammar (~30 ms). The tokenizer is loaded once, as a
// compiler run compiling several schemas would.
func BenchmarkCompileUserProfile(b *testing.B) {
	doc, err := schema.Load("../schemas/user_profile.schema.json")
	if err != nil {
		b.Fatal(err)
	}
	tk := mistral(b)
	if _, err := compiler.Compile(doc, tk, compiler.Options{}); err != nil {
		b.Fatal(err)
	}
	var st compiler.Stats
	for b.Loop() {
		res, err := compiler.Compile(doc, tk, compiler.Options{})
		if err != nil {
			b.Fatal(err)
		}
		st = res.Stats
	}
	b.ReportMetric(float64(st.States), "states")
	b.ReportMetric(float64(st.MaskRows), "mask_rows")
	b.ReportMetric(float64(st.TableBytes), "table_bytes")
}
