package compiler

import (
	"fmt"

	"github.com/schemac-dev/schemac/compiler/lang"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

// Text is the instance laid out the way the decoder writes it.
func (r *Result) Text(instance *schema.Value) []byte {
	return lang.Format(instance, r.Layout, r.Order)
}

// Accept answers "could the decoder emit this value?": it lays the value
// out as the decoder writes it (layout, member order, spelling), encodes
// those bytes as a continuation, and walks the token automaton through the
// tokens and then EOS. A nil error means accepted; otherwise the error says
// where the walk stopped.
func (r *Result) Accept(instance *schema.Value, tok *tokenizer.Tokenizer) error {
	text := r.Text(instance)
	ids := tok.Encode(string(text), tokenizer.Continuation)
	a := r.Tokens
	s := a.Start
	pos := 0
	for _, id := range ids {
		next := a.Next(s, id)
		if next < 0 {
			return fmt.Errorf("token %d %q not allowed after %q", id, tok.Piece(id), clip(text[:pos]))
		}
		pos += len(tok.TokenBytes(id))
		s = next
	}
	if !a.Accepting(s) {
		return fmt.Errorf("value incomplete: EOS not allowed after %q", clip(text))
	}
	return nil
}

// clip shortens long text for messages, keeping its end.
func clip(b []byte) string {
	const n = 60
	if len(b) <= n {
		return string(b)
	}
	return "…" + string(b[len(b)-n:])
}
