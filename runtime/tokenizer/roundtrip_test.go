package tokenizer

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// randomText builds a string from a mix of character classes.
func randomText(r *rand.Rand) string {
	var b strings.Builder
	n := r.IntN(40)
	for range n {
		switch r.IntN(11) {
		case 0, 1: // ASCII printable, often several
			for k := r.IntN(6); k >= 0; k-- {
				b.WriteByte(byte(0x20 + r.IntN(0x5f)))
			}
		case 2: // whitespace, including runs
			ws := []string{" ", " ", "  ", "    ", "\t", "\n", "\r", "\r\n", "\v", "\f", "\u00a0", "\u2009", "\u3000", "\u0085"}
			b.WriteString(ws[r.IntN(len(ws))])
		case 3: // Latin-1
			b.WriteRune(rune(0xa0 + r.IntN(0x60)))
		case 4: // Cyrillic
			b.WriteRune(rune(0x400 + r.IntN(0x100)))
		case 5: // CJK
			b.WriteRune(rune(0x4e00 + r.IntN(0x5200)))
		case 6: // emoji, with ZWJ and variation selectors
			b.WriteRune(rune(0x1f300 + r.IntN(0x900)))
			if r.IntN(2) == 0 {
				b.WriteString("\u200d")
				b.WriteRune(rune(0x1f466 + r.IntN(4)))
			}
			if r.IntN(3) == 0 {
				b.WriteString("\ufe0f")
			}
		case 7: // any code point of any plane, but no surrogates
			c := rune(r.IntN(0x110000 - 0x800))
			if c >= 0xd800 {
				c += 0x800
			}
			b.WriteRune(c)
		case 8: // controls and odd ones
			odd := []string{"\x00", "\x01", "\x7f", "\ufffd", "\ufeff", "▁", "▁▁", "<0x41>", "<", ">", "</", "s>"}
			b.WriteString(odd[r.IntN(len(odd))])
		case 9: // common words, so merges get exercised
			words := []string{"the", " the", "Hello", " world", "ing", " {\"key\": ", "func", "\n    ", "—", "“", "…"}
			b.WriteString(words[r.IntN(len(words))])
		case 10: // Greek, Arabic, Devanagari, Hangul
			base := []rune{0x391, 0x627, 0x915, 0xac00}[r.IntN(4)]
			b.WriteRune(base + rune(r.IntN(40)))
		}
	}
	return b.String()
}

// hasSpecialText reports whether s contains the text of a special token
// (which Default turns into a Control id that Decode drops).
func hasSpecialText(tok *Tokenizer, s string) bool {
	for _, a := range tok.addedTokens {
		if a.special && strings.Contains(s, a.content) {
			return true
		}
	}
	return false
}

// checkRoundTrip asserts the round-trip properties for valid UTF-8 s.
func checkRoundTrip(t testing.TB, tok *Tokenizer, s string) {
	t.Helper()
	cont := tok.Encode(s, Continuation)
	if got := concatTokenBytes(tok, cont); got != s {
		t.Fatalf("TokenBytes of Encode(%q, Continuation) = %q", s, got)
	}
	if got, want := tok.Decode(cont), strings.TrimPrefix(s, " "); got != want {
		t.Fatalf("Decode(Encode(%q, Continuation)) = %q, want %q", s, got, want)
	}
	if hasSpecialText(tok, s) {
		return
	}
	// Hugging Face reads a literal "▁" as a space.
	ids := tok.Encode(s, Default)
	want := strings.ReplaceAll(s, "▁", " ")
	if got := tok.Decode(ids); got != want {
		t.Fatalf("Decode(Encode(%q, Default)) = %q (ids %v)", s, got, ids)
	}
	st := tok.NewStream(true)
	var out []byte
	for _, id := range ids {
		out = append(out, st.Next(id)...)
	}
	if string(out) != want {
		t.Fatalf("stream of Encode(%q, Default) = %q", s, out)
	}
}

func TestRoundTripRandom(t *testing.T) {
	tok := mistral(t)
	n := 4000
	if testing.Short() {
		n = 500
	}
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		for range n / 4 {
			s := randomText(r)
			if !utf8.ValidString(s) {
				t.Fatalf("generator made invalid UTF-8 %q", s)
			}
			checkRoundTrip(t, tok, s)
		}
	}
}

// TestSegmentedBPEMatchesWholeWord checks the exact shortcut of cutting a
// word where no merge can cross: merging the whole word with one heap gives
// the same ids.
func TestSegmentedBPEMatchesWholeWord(t *testing.T) {
	tok := mistral(t)
	r := rand.New(rand.NewPCG(7, 7))
	texts := []string{benchText()}
	for _, c := range loadCases(t) {
		texts = append(texts, c.Text)
	}
	for range 500 {
		texts = append(texts, randomText(r))
	}
	for _, text := range texts {
		s := tok.normalize(text, true, false)
		got := tok.bpe(s, new(scratch), nil)
		want := tok.bpeWhole(s)
		if len(got) != len(want) {
			t.Fatalf("%q: segmented %v, whole %v", text, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%q: segmented %v, whole %v", text, got, want)
			}
		}
	}
}

// bpeWhole is bpe without cutting the word: one heap over all symbols.
func (t *Tokenizer) bpeWhole(s string) []int {
	return t.bpe(s, &scratch{whole: true}, nil)
}

func FuzzRoundTrip(f *testing.F) {
	tok := mistral(f)
	for _, c := range loadCases(f) {
		f.Add(c.Text)
	}
	f.Add("")
	f.Add(" ")
	f.Add("a</s>b")
	f.Add("▁▁x")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("invalid UTF-8")
		}
		checkRoundTrip(t, tok, s)
	})
}
