package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// Decode turns ids back into text like Hugging Face's
// decode(ids, skip_special_tokens=True): Control tokens and ids out of range
// are dropped, "▁" becomes a space, runs of consecutive <0xNN> tokens become
// their bytes (each token of a run that is not valid UTF-8 becomes U+FFFD),
// and the decoder's Strip step removes one leading space.
func (t *Tokenizer) Decode(ids []int) string { return t.decode(ids, true) }

// DecodeWithSpecial is Decode keeping special tokens as their text, like
// decode(ids, skip_special_tokens=False): [1 22557] gives "<s> Hello".
func (t *Tokenizer) DecodeWithSpecial(ids []int) string { return t.decode(ids, false) }

func (t *Tokenizer) decode(ids []int, skipSpecial bool) string {
	var sb strings.Builder
	sb.Grow(len(ids) * 4)
	var run []byte // pending bytes of consecutive byte tokens
	var stack [32]byte
	run = stack[:0]
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			sb.Write(run)
		} else {
			for range run {
				sb.WriteString("\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, id := range ids {
		if uint(id) >= uint(len(t.pieces)) {
			continue
		}
		if skipSpecial && t.kinds[id] == Control {
			continue
		}
		if b := t.byteVal[id]; b >= 0 {
			run = append(run, byte(b))
			continue
		}
		flush()
		sb.Write(t.text[id])
	}
	flush()
	s := sb.String()
	for i := 0; i < t.stripStart && strings.HasPrefix(s, t.stripRune); i++ {
		s = s[len(t.stripRune):]
	}
	return s
}

// Stream yields the bytes each token adds to the output, for a decode loop
// that prints tokens as they come. The concatenation of Next over ids equals
// Decode(ids) whenever the byte-fallback runs in ids form valid UTF-8 (Decode
// turns an invalid run into U+FFFD per token; Stream passes the raw bytes
// through). A Stream is not safe for concurrent use.
type Stream struct {
	t       *Tokenizer
	strip   int // leading stripRune still to remove
	matched int // bytes of a partial stripRune held back
}

// NewStream starts a stream. With stripLeadingSpace the decoder's Strip step
// is applied to the start of the output, as Decode does (for Llama/Mistral:
// one leading space is dropped, the one the dummy prefix added); leave it off
// when continuing output that already has text before it.
func (t *Tokenizer) NewStream(stripLeadingSpace bool) *Stream {
	s := &Stream{t: t}
	if stripLeadingSpace && t.stripRune != "" {
		s.strip = t.stripStart
	}
	return s
}

// Next returns the bytes token id adds to the output: TokenBytes(id), with
// the leading Strip applied at the very start of the stream. Control tokens
// and ids out of range give nil. The result may share memory with
// TokenBytes: callers must not modify it.
func (s *Stream) Next(id int) []byte {
	b := s.t.TokenBytes(id)
	if s.strip == 0 || len(b) == 0 {
		return b
	}
	c := s.t.stripRune
	for i := 0; i < len(b); i++ {
		if b[i] == c[s.matched] {
			s.matched++
			if s.matched == len(c) {
				s.matched = 0
				s.strip--
				if s.strip == 0 {
					return nilIfEmpty(b[i+1:])
				}
			}
			continue
		}
		// First character that is not stripped: stripping ends here.
		held := c[:s.matched]
		s.strip, s.matched = 0, 0
		if held == "" {
			return b[i:]
		}
		return append([]byte(held), b[i:]...)
	}
	return nil
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
