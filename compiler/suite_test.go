package compiler_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/internal/oracle"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

var update = flag.Bool("update", false, "rewrite golden and ratchet files")

const (
	suiteDir    = "../../shared/json-schema-test-suite/tests"
	ratchetFile = "testdata/suite.ratchet"
	tokPath     = "../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"
)

var (
	tokOnce sync.Once
	tok     *tokenizer.Tokenizer
	tokErr  error
)

func mistral(t testing.TB) *tokenizer.Tokenizer {
	tokOnce.Do(func() { tok, tokErr = tokenizer.Load(tokPath) })
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	return tok
}

type suiteCase struct {
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	Tests       []struct {
		Description string          `json:"description"`
		Data        json.RawMessage `json:"data"`
		Valid       bool            `json:"valid"`
	} `json:"tests"`
}

// suiteWalks is the number of random walks per compiled suite schema.
const suiteWalks = 20

// TestSuite runs the official JSON Schema Test Suite (draft2020-12 and
// draft7, optional tests included, format assertions on). For every case
// whose schema compiles, no invalid instance may be accepted, and random
// walks through its automaton must validate with the reference library:
// either failure fails the test outright. The outcome of every case (pass, compile error, valid
// instances rejected) is compared with the ratchet file, so a regression
// fails and an improvement must be recorded with -update.
func TestSuite(t *testing.T) {
	if _, err := os.Stat(suiteDir); err != nil {
		t.Skipf("JSON Schema Test Suite not found at %s (it lives in ../shared, beside the project): %v", suiteDir, err)
	}
	tk := mistral(t)
	outcomes := map[string]string{}
	counts := map[string]int{}
	for _, draft := range []struct {
		dir string
		def schema.Draft
	}{{"draft2020-12", schema.Draft2020}, {"draft7", schema.Draft7}} {
		root := filepath.Join(suiteDir, draft.dir)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			rel, _ := filepath.Rel(suiteDir, path)
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var cases []suiteCase
			if err := json.Unmarshal(data, &cases); err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
			for i, c := range cases {
				id := fmt.Sprintf("%s#%d", filepath.ToSlash(rel), i)
				out := runCase(t, tk, id, c, draft.def)
				outcomes[id] = out
				counts[strings.SplitN(out, ":", 2)[0]]++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("suite outcomes: %v", counts)
	checkRatchet(t, outcomes)
}

func runCase(t *testing.T, tk *tokenizer.Tokenizer, id string, c suiteCase, def schema.Draft) string {
	sv, err := schema.ParseJSON(c.Schema, id)
	if err != nil {
		return "error-invalid"
	}
	doc, err := schema.FromValue(sv, id, schema.ParseOptions{DefaultDraft: def})
	if err != nil {
		return errorOutcome(err)
	}
	// BigNumbers: the suite measures JSON Schema's semantics; the default
	// limit to Go's int64/float64 (a subset, tested in TestBigNumbers)
	// would only turn its bignum cases into valid-rejected.
	res, err := compiler.Compile(doc, tk, compiler.Options{BigNumbers: true})
	if err != nil {
		return errorOutcome(err)
	}
	// random outputs must validate with the reference library
	if v, err := oracle.NewValidator(doc); err == nil {
		walkAndValidate(t, id, res, v, tk, rand.New(rand.NewPCG(uint64(len(id)), 9)), suiteWalks)
	}
	rejected, valid := 0, 0
	for _, tc := range c.Tests {
		inst, err := schema.ParseJSON(tc.Data, id)
		if err != nil {
			t.Errorf("%s: test %q: instance does not parse: %v", id, tc.Description, err)
			continue
		}
		err = res.Accept(inst, tk)
		switch {
		case err == nil && !tc.Valid:
			t.Errorf("UNSOUND %s (%s): invalid instance %q accepted: %s", id, c.Description, tc.Description, res.Text(inst))
		case err != nil && tc.Valid:
			rejected++
		}
		if tc.Valid {
			valid++
		}
	}
	if rejected > 0 {
		return fmt.Sprintf("valid-rejected:%d/%d", rejected, valid)
	}
	return "pass"
}

func errorOutcome(err error) string {
	var se *schema.Error
	if errors.As(err, &se) {
		return "error-" + strings.ReplaceAll(se.Code.String(), " ", "-")
	}
	return "error-other"
}

func checkRatchet(t *testing.T, got map[string]string) {
	ids := make([]string, 0, len(got))
	for id := range got {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if *update {
		var sb strings.Builder
		sb.WriteString("# JSON Schema Test Suite outcomes per case; rewrite with: go test ./compiler -run TestSuite -update\n")
		for _, id := range ids {
			fmt.Fprintf(&sb, "%s %s\n", id, got[id])
		}
		if err := os.WriteFile(ratchetFile, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(ratchetFile)
	if err != nil {
		t.Fatalf("%v (create it with -update)", err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, out, _ := strings.Cut(line, " ")
		want[id] = out
	}
	rank := func(out string) int {
		switch {
		case out == "pass":
			return 2
		case strings.HasPrefix(out, "valid-rejected"):
			return 1
		}
		return 0
	}
	better, worse := 0, 0
	for _, id := range ids {
		w, ok := want[id]
		switch {
		case !ok:
			t.Errorf("%s: new case (outcome %s); record it with -update", id, got[id])
		case w == got[id]:
		case rank(got[id]) > rank(w):
			better++
			t.Errorf("%s: improved from %s to %s; record it with -update", id, w, got[id])
		default:
			worse++
			t.Errorf("%s: regressed from %s to %s", id, w, got[id])
		}
	}
	t.Logf("ratchet: %d improved, %d regressed", better, worse)
}

func walkAndValidate(t *testing.T, id string, res *compiler.Result, v *oracle.Validator, tk *tokenizer.Tokenizer, r *rand.Rand, n int) int {
	t.Helper()
	w := oracle.NewWalker(res.Tokens, tk)
	done := 0
	for i := 0; i < n; i++ {
		out, _, ok := w.Walk(r, 0.5, 3000)
		if !ok {
			continue
		}
		done++
		if err := v.Validate(out); err != nil {
			t.Errorf("UNSOUND %s: random walk produced %s: %v", id, oracle.Quote(out), err)
			return done
		}
	}
	return done
}
