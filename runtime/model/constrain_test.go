package model

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck

	"github.com/schemac-dev/schemac/gen/userprofile"
	"github.com/schemac-dev/schemac/runtime/mask"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

func userProfileTable(t *testing.T) *mask.Table {
	tab, err := userprofile.Table()
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

// TestMaskLogits: the device masking equals mask.Table.MaskLogits for a
// spread of states of the UserProfile table (accepting ones included).
func TestMaskLogits(t *testing.T) {
	tab := userProfileTable(t)
	m := &Model{Config: &Config{VocabSize: tab.VocabSize}, Backend: testBackend(), eos: -1}
	if err := m.SetMask(tab); err != nil {
		t.Fatal(err)
	}
	defer m.maskRows.FinalizeAll()
	exec, err := NewExec(m.Backend, func(logits, rows, row, eosOK *Node) *Node {
		return maskLogits(logits, rows, row, eosOK, int(tab.EOS))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, tab.VocabSize)
	for i := range logits {
		logits[i] = float32(r.NormFloat64())
	}
	var states []int32
	for s := 0; s < tab.NumStates; s += max(1, tab.NumStates/60) {
		states = append(states, int32(s))
	}
	for s := range tab.NumStates {
		if tab.Accepting(int32(s)) {
			states = append(states, int32(s))
			break
		}
	}
	for _, s := range states {
		out, err := exec.Exec1(logits, m.maskRows, tab.RowIndex(s), tab.Accepting(s))
		if err != nil {
			t.Fatal(err)
		}
		got := out.Value().([]float32)
		want := append([]float32(nil), logits...)
		tab.MaskLogits(s, want)
		for i := range want {
			if got[i] != want[i] && !(math.IsInf(float64(got[i]), -1) && math.IsInf(float64(want[i]), -1)) {
				t.Fatalf("state %d token %d: device %g, table %g", s, i, got[i], want[i])
			}
		}
	}
	// Row -1: nothing masked.
	out, err := exec.Exec1(logits, m.maskRows, int32(-1), false)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := maxAbsDiff(out.Value().([]float32), logits); d != 0 {
		t.Error("row -1 masked something")
	}
}

// TestGenerateConstrained decodes the fixture model under the UserProfile
// schema, with and without jump-forward: every token is checked by the
// table on the host, finished outputs parse and validate, and
// jump-forward needs fewer steps for the same tokens.
func TestGenerateConstrained(t *testing.T) {
	tab := userProfileTable(t)
	tok, err := tokenizer.Load(filepath.Join("../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.CheckVocab(tok.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	m := loadTiny(t, "tiny-mistral", nil)
	var prompt []int32
	for _, id := range tok.Encode("[INST] Extract the user profile as JSON. [/INST]\n", tokenizer.Default) {
		prompt = append(prompt, int32(id))
	}
	for _, tc := range []struct {
		name string
		s    Sampling
		jump bool
	}{
		{"greedy", Sampling{}, false},
		{"greedy+jump", Sampling{}, true},
		{"sampled+jump", Sampling{Temperature: 1, TopP: 0.95, Seed: 3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, st, err := m.GenerateConstrained(prompt, 40, tc.s, Constrained{Table: tab, Tokenizer: tok, JumpForward: tc.jump})
			if err != nil {
				t.Fatal(err)
			}
			var text []byte
			for _, id := range out {
				text = append(text, tab.TokenBytes(int(id))...)
			}
			t.Logf("%d tokens, %d steps, %d forced, finished %v: %q", st.Tokens, st.Steps, st.Forced, st.Finished, text)
			if ok, at := tab.Match(text); at != len(text) {
				t.Errorf("output leaves the automaton at byte %d (ok=%v)", at, ok)
			}
			if st.Finished {
				if _, err := userprofile.Parse(text); err != nil {
					t.Errorf("finished output does not parse: %v", err)
				}
			}
			if tc.jump && (st.Forced == 0 || st.Steps >= st.Tokens) {
				t.Errorf("jump-forward: %d forced, %d steps for %d tokens", st.Forced, st.Steps, st.Tokens)
			}
			if !tc.jump && st.Steps+1 != st.Tokens+boolInt(st.Finished) {
				t.Errorf("without jump-forward: %d steps for %d tokens", st.Steps, st.Tokens)
			}
		})
	}
	if _, _, err := m.GenerateConstrained(prompt, 5, Sampling{}, Constrained{}); err == nil {
		t.Error("no table accepted")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
