package model

import (
	"fmt"
	"time"

	"github.com/schemac-dev/schemac/runtime/mask"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

// DecodeStats describe one generation.
type DecodeStats struct {
	PromptTokens int
	Tokens       int           // tokens returned (Generate includes a sampled EOS, GenerateConstrained does not)
	Steps        int           // step programs run after the prefill
	Forced       int           // tokens fed by jump-forward instead of sampled
	Prefill      time.Duration // the first step (prompt + any forced prefix)
	Decode       time.Duration // the rest
	Finished     bool          // EOS was sampled
}

// Constrained configures GenerateConstrained.
type Constrained struct {
	Table       *mask.Table
	Tokenizer   *tokenizer.Tokenizer // encodes forced bytes for jump-forward (nil: no jump-forward)
	JumpForward bool
}

// GenerateConstrained decodes under a compiled schema: each step passes the
// state's mask row to the device, which masks the logits and samples; the
// host only advances the state. With jump-forward, the bytes forced from a
// state are tokenized and fed, with the sampled token, as one multi-token
// step. The output stops at EOS (allowed only in accepting states, not
// included) or after maxNew tokens. Every token is checked against the
// table on the host too: a disagreement is an error, never a silent
// invalid output.
func (m *Model) GenerateConstrained(prompt []int32, maxNew int, s Sampling, con Constrained) ([]int32, DecodeStats, error) {
	st := DecodeStats{PromptTokens: len(prompt)}
	t := con.Table
	if t == nil {
		return nil, st, fmt.Errorf("no table")
	}
	if m.maskTable != t {
		if err := m.SetMask(t); err != nil {
			return nil, st, err
		}
	}
	if con.JumpForward && con.Tokenizer == nil {
		return nil, st, fmt.Errorf("jump-forward needs the tokenizer")
	}
	c, err := m.NewCache(min(bucket(len(prompt)+maxNew), m.Config.MaxPositionEmbeddings))
	if err != nil {
		return nil, st, err
	}
	defer c.Finalize()
	state := t.Start()
	feed := append([]int32(nil), prompt...)
	var out []int32
	start := time.Now()
	for len(out) < maxNew {
		if con.JumpForward {
			if fb := t.Forced(state); len(fb) > 0 {
				for _, id := range con.Tokenizer.Encode(string(fb), tokenizer.Continuation) {
					if len(out) >= maxNew {
						break
					}
					next, err := t.Next(state, id)
					if err != nil {
						break // the tokenization leaves the automaton: let the model choose
					}
					state = next
					feed = append(feed, int32(id))
					out = append(out, int32(id))
					st.Forced++
				}
				if len(out) >= maxNew {
					break
				}
			}
		}
		tok, _, err := c.StepMasked(feed, s, t.RowIndex(state), t.Accepting(state), false)
		if err != nil {
			return out, st, err
		}
		if st.Steps == 0 {
			st.Prefill = time.Since(start)
			start = time.Now()
		}
		st.Steps++
		if tok == t.EOS {
			if !t.Accepting(state) {
				return out, st, fmt.Errorf("device sampled EOS in the non-accepting state %d", state)
			}
			st.Finished = true
			break
		}
		next, err := t.Next(state, int(tok))
		if err != nil {
			return out, st, fmt.Errorf("device sampled a token the table refuses: %w", err)
		}
		state = next
		out = append(out, tok)
		feed = []int32{tok}
	}
	if st.Steps > 0 {
		st.Steps-- // the prefill is not a decode step
	}
	st.Decode = time.Since(start)
	st.Tokens = len(out)
	return out, st, nil
}
