package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	tok     = "../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"
	profile = "../../schemas/user_profile.schema.json"
)

func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func writeSchema(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.json")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStats(t *testing.T) {
	code, out, errs := run(t, "", "stats", "-schema", profile, "-tokenizer", tok)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var st map[string]float64
	if err := json.Unmarshal([]byte(out), &st); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("want one JSON line, got %q (%v)", out, err)
	}
	for _, k := range []string{"states", "mask_rows", "table_bytes", "compile_ms"} {
		if st[k] <= 0 {
			t.Errorf("%s = %v, want > 0", k, st[k])
		}
	}
}

func TestAccept(t *testing.T) {
	in := `{"full_name": "A B", "years_of_experience": 3, "skills": ["Go"], "primary_role": "Data Scientist"}
{"full_name": "A B", "years_of_experience": -3, "skills": ["Go"], "primary_role": "Data Scientist"}
not json

{"primary_role": "Data Scientist", "skills": [], "years_of_experience": 0, "full_name": ""}
`
	code, out, errs := run(t, in, "accept", "-schema", profile, "-tokenizer", tok, "-ws", "compact")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []string{"accept", "reject: ", "reject: not JSON", "reject: empty line", "accept"}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want prefix %q", i+1, lines[i], w)
		}
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name, schema string
		args         []string
		code         int
		msg          string
	}{
		{"malformed JSON", `{"type": `, nil, ExitInvalid, "s.json:1:"},
		{"not a schema", `{"type": 12}`, nil, ExitInvalid, "invalid at /type"},
		{"unsupported", `{"format": "uri-template"}`, nil, ExitUnsupported, `unsupported: format "uri-template" at (root)`},
		{"too large", `{"type": "array", "minItems": 5000}`, nil, ExitTooLarge, "too large"},
		{"bad layout", `{}`, []string{"-ws", "wide"}, ExitUsage, "-ws"},
		{"missing tokenizer", `{}`, []string{"-tokenizer", "nope.json"}, ExitUsage, "nope.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"stats", "-schema", writeSchema(t, tc.schema), "-tokenizer", tok}, tc.args...)
			code, _, errs := run(t, "", args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, tc.code, tc.msg)
			}
		})
	}
	if code, _, _ := run(t, "", "frobnicate"); code != ExitUsage {
		t.Errorf("unknown command: exit %d", code)
	}
}
