package pattern

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/schemac-dev/schemac/compiler/rx"
)

const suiteDir = "../../../shared/json-schema-test-suite/tests/draft2020-12"

type suiteGroup struct {
	Description string         `json:"description"`
	Schema      map[string]any `json:"schema"`
	Tests       []struct {
		Description string `json:"description"`
		Data        any    `json:"data"`
		Valid       bool   `json:"valid"`
	} `json:"tests"`
}

// TestJSONSchemaSuite runs the pattern tests of the JSON Schema Test Suite.
// For "pattern", every string instance must match exactly when the test says
// valid. For "patternProperties", a small evaluator (patternProperties,
// additionalProperties: false, type and maximum in the subschemas) decides
// object instances, with property names matched by Search's DFAs.
func TestJSONSchemaSuite(t *testing.T) {
	files := []string{"pattern.json", "patternProperties.json", "optional/ecmascript-regex.json"}
	if _, err := os.Stat(suiteDir); err != nil {
		t.Skipf("JSON Schema Test Suite not found at %s: %v", suiteDir, err)
	}
	var run, pass, unsupported, skipped int
	for _, f := range files {
		run0, pass0 := run, pass
		data, err := os.ReadFile(filepath.Join(suiteDir, f))
		if err != nil {
			t.Fatal(err)
		}
		var groups []suiteGroup
		if err := json.Unmarshal(data, &groups); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, g := range groups {
			var pats []string
			if p, ok := g.Schema["pattern"].(string); ok {
				pats = append(pats, p)
			}
			pp, _ := g.Schema["patternProperties"].(map[string]any)
			for p := range pp {
				pats = append(pats, p)
			}
			dfas := map[string]*rx.DFA{}
			unsup := false
			for _, p := range pats {
				b := rx.NewBuilder()
				e, err := Search(b, p)
				var perr *Error
				if errors.As(err, &perr) && perr.Unsupported {
					t.Logf("%s %q: %v", f, g.Description, err)
					unsup = true
					continue
				}
				if err != nil {
					t.Errorf("%s %q: %v", f, g.Description, err)
					unsup = true
					continue
				}
				if dfas[p], err = b.Compile(e, rx.Options{}); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range g.Tests {
				var got, ok bool
				switch {
				case len(pats) == 0:
					continue
				case unsup:
					unsupported++
					continue
				case g.Schema["pattern"] != nil:
					s, isString := tc.Data.(string)
					if !isString {
						continue // pattern ignores non-strings
					}
					got, ok = dfas[g.Schema["pattern"].(string)].Matches([]byte(s)), true
				default:
					got, ok = evalObject(g.Schema, tc.Data, dfas)
				}
				if !ok {
					skipped++
					continue
				}
				run++
				if got != tc.Valid {
					t.Errorf("%s: %s / %s: got valid=%v, want %v", f, g.Description, tc.Description, got, tc.Valid)
				} else {
					pass++
				}
			}
		}
		t.Logf("%s: %d tests run, %d passed", f, run-run0, pass-pass0)
	}
	t.Logf("JSON Schema Test Suite: %d tests run, %d passed, %d with an unsupported pattern, %d outside the evaluator", run, pass, unsupported, skipped)
}

// evalObject evaluates the keywords type: object, patternProperties and
// additionalProperties: false; ok is false for any other keyword.
func evalObject(schema map[string]any, data any, dfas map[string]*rx.DFA) (valid, ok bool) {
	for k := range schema {
		switch k {
		case "$schema", "type", "patternProperties", "additionalProperties":
		default:
			return false, false
		}
	}
	obj, isObj := data.(map[string]any)
	if !isObj {
		return schema["type"] == nil, schema["type"] == nil || schema["type"] == "object"
	}
	if ap, has := schema["additionalProperties"]; has && ap != false {
		return false, false
	}
	valid = true
	for key, v := range obj {
		matched := false
		for p, sub := range schema["patternProperties"].(map[string]any) {
			if !dfas[p].Matches([]byte(key)) {
				continue
			}
			matched = true
			sv, sok := evalSub(sub, v)
			if !sok {
				return false, false
			}
			valid = valid && sv
		}
		if !matched && schema["additionalProperties"] == false {
			valid = false
		}
	}
	return valid, true
}

func evalSub(sub, v any) (valid, ok bool) {
	switch s := sub.(type) {
	case bool:
		return s, true
	case map[string]any:
		valid = true
		for k, kv := range s {
			switch k {
			case "type":
				valid = valid && hasType(v, kv.(string))
			case "maximum":
				if n, isNum := v.(float64); isNum {
					valid = valid && n <= kv.(float64)
				}
			default:
				return false, false
			}
		}
		return valid, true
	}
	return false, false
}

func hasType(v any, typ string) bool {
	switch typ {
	case "integer":
		n, ok := v.(float64)
		return ok && n == math.Trunc(n)
	case "number":
		_, ok := v.(float64)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	}
	return false
}
