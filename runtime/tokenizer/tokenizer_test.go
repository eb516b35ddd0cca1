package tokenizer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

const mistralDir = "../../testdata/tokenizers/mistral-7b-v0.2"

var mistralPath = filepath.Join(mistralDir, "tokenizer.json")

var (
	mistralOnce sync.Once
	mistralTok  *Tokenizer
	mistralErr  error
)

// mistral loads the real Mistral-7B tokenizer once per test binary.
func mistral(tb testing.TB) *Tokenizer {
	tb.Helper()
	mistralOnce.Do(func() { mistralTok, mistralErr = Load(mistralPath) })
	if mistralErr != nil {
		tb.Fatal(mistralErr)
	}
	return mistralTok
}

type encodeCase struct {
	Text string `json:"text"`
	IDs  []int  `json:"ids"`
}

func loadCases(tb testing.TB) []encodeCase {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(mistralDir, "encode-cases.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var f struct {
		BOS   int          `json:"bos_id"`
		Cases []encodeCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		tb.Fatal(err)
	}
	if f.BOS != 1 || len(f.Cases) != 30 {
		tb.Fatalf("unexpected encode-cases.json: bos %d, %d cases", f.BOS, len(f.Cases))
	}
	return f.Cases
}

func TestLoadFacts(t *testing.T) {
	tok := mistral(t)
	if got := tok.VocabSize(); got != 32000 {
		t.Errorf("VocabSize = %d, want 32000", got)
	}
	if tok.BOS() != 1 || tok.EOS() != 2 || tok.UNK() != 0 {
		t.Errorf("BOS/EOS/UNK = %d/%d/%d, want 1/2/0", tok.BOS(), tok.EOS(), tok.UNK())
	}
	for _, c := range []struct {
		id    int
		piece string
		kind  Kind
		bytes string
		nilB  bool
	}{
		{0, "<unk>", Control, "", true},
		{1, "<s>", Control, "", true},
		{2, "</s>", Control, "", true},
		{3, "<0x00>", Byte, "\x00", false},
		{13, "<0x0A>", Byte, "\n", false},
		{258, "<0xFF>", Byte, "\xff", false},
		{259, "▁▁", Normal, "  ", false},
		{260, "▁▁▁▁", Normal, "    ", false},
		{28705, "▁", Normal, " ", false},
		{22557, "▁Hello", Normal, " Hello", false},
		{-1, "", Control, "", true},
		{32000, "", Control, "", true},
	} {
		if got := tok.Piece(c.id); got != c.piece {
			t.Errorf("Piece(%d) = %q, want %q", c.id, got, c.piece)
		}
		if got := tok.Kind(c.id); got != c.kind {
			t.Errorf("Kind(%d) = %v, want %v", c.id, got, c.kind)
		}
		got := tok.TokenBytes(c.id)
		if string(got) != c.bytes || (got == nil) != c.nilB {
			t.Errorf("TokenBytes(%d) = %q (nil %v), want %q (nil %v)", c.id, got, got == nil, c.bytes, c.nilB)
		}
		if c.piece != "" {
			if id, ok := tok.ID(c.piece); !ok || id != c.id {
				t.Errorf("ID(%q) = %d, %v; want %d", c.piece, id, ok, c.id)
			}
		}
	}
	if _, ok := tok.ID("no such piece"); ok {
		t.Error("ID of a missing piece reported ok")
	}
}

func TestEncodeCases(t *testing.T) {
	tok := mistral(t)
	for _, c := range loadCases(t) {
		got := tok.Encode(c.Text, Default)
		if !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q)\n got %v\nwant %v", c.Text, got, c.IDs)
		}
	}
}

func TestDecodeCases(t *testing.T) {
	tok := mistral(t)
	for _, c := range loadCases(t) {
		if got := tok.Decode(tok.Encode(c.Text, Default)); got != c.Text {
			t.Errorf("Decode(Encode(%q, Default)) = %q", c.Text, got)
		}
		// With special tokens the BOS text stays and, as it now comes first,
		// the dummy-prefix space is not stripped.
		want := "<s>" + c.Text
		if c.Text != "" {
			want = "<s> " + c.Text
		}
		if got := tok.DecodeWithSpecial(c.IDs); got != want {
			t.Errorf("DecodeWithSpecial(ids of %q) = %q, want %q", c.Text, got, want)
		}
	}
}

func TestLeadingSpace(t *testing.T) {
	tok := mistral(t)
	ids := tok.Encode(" leading space", Default)
	// "▁▁leading" is not a piece: "▁" then "▁leading".
	if want := []int{1, 28705, 5374, 2764}; !slices.Equal(ids, want) {
		t.Fatalf("Encode = %v, want %v", ids, want)
	}
	// Decoder: "  leading space", Strip removes exactly one space.
	if got := tok.Decode(ids); got != " leading space" {
		t.Errorf("Decode = %q", got)
	}
}

func TestContinuation(t *testing.T) {
	tok := mistral(t)
	texts := []string{" leading space", "Hello world!", "  two", "x", "", "\n\n", "a</s>b", "日本語 ok", "\t tab"}
	for _, c := range loadCases(t) {
		texts = append(texts, c.Text)
	}
	for _, text := range texts {
		ids := tok.Encode(text, Continuation)
		if got := concatTokenBytes(tok, ids); got != text {
			t.Errorf("TokenBytes of Encode(%q, Continuation) = %q", text, got)
		}
		if slices.Contains(ids, tok.BOS()) || slices.Contains(ids, tok.EOS()) {
			t.Errorf("Encode(%q, Continuation) = %v contains BOS/EOS", text, ids)
		}
		// Decode strips one leading space; nothing else changes.
		if got, want := tok.Decode(ids), strings.TrimPrefix(text, " "); got != want {
			t.Errorf("Decode(Encode(%q, Continuation)) = %q, want %q", text, got, want)
		}
		// No dummy prefix: the continuation of "Hello" must not start with "▁".
		if len(ids) > 0 && !strings.HasPrefix(text, " ") && strings.HasPrefix(tok.Piece(ids[0]), "▁") {
			t.Errorf("Encode(%q, Continuation) starts with %q", text, tok.Piece(ids[0]))
		}
	}
	// Exact ids: "Hello" without a prefix is not "▁Hello".
	if got, want := tok.Encode("Hello", Continuation), tok.Encode("Hello", Default)[1:]; slices.Equal(got, want) {
		t.Errorf("Continuation and Default encode \"Hello\" the same: %v", got)
	}
	if got := tok.Encode(" world", Continuation); !slices.Equal(got, []int{1526}) {
		t.Errorf("Encode(\" world\", Continuation) = %v, want [1526]", got)
	}
}

func TestLiteralMetaspace(t *testing.T) {
	tok := mistral(t)
	// Hugging Face: a literal "▁" in the input is the same as a space.
	if a, b := tok.Encode("▁▁x ▁", Default), tok.Encode("  x  ", Default); !slices.Equal(a, b) {
		t.Errorf("Default: %v vs %v", a, b)
	}
	if got := tok.Decode(tok.Encode("a▁b", Default)); got != "a b" {
		t.Errorf("Decode(Encode(\"a▁b\", Default)) = %q", got)
	}
	// ExactBytes (and so Continuation) keeps it as its bytes.
	e2, x96, x81 := 3+0xE2, 3+0x96, 3+0x81
	x, _ := tok.ID("x")
	spX, _ := tok.ID("▁x")
	sp, _ := tok.ID("▁")
	for _, c := range []struct {
		text string
		opt  EncodeOptions
		want []int
	}{
		{"▁x", Continuation, []int{e2, x96, x81, x}},
		{"x▁", Continuation, []int{x, e2, x96, x81}},
		{"▁x", EncodeOptions{DummyPrefix: true, ExactBytes: true}, []int{sp, e2, x96, x81, x}},
		{"x▁ x", EncodeOptions{DummyPrefix: true, ExactBytes: true}, []int{spX, e2, x96, x81, spX}},
	} {
		ids := tok.Encode(c.text, c.opt)
		if !slices.Equal(ids, c.want) {
			t.Errorf("Encode(%q, %+v) = %v %q, want %v", c.text, c.opt, ids, pieces(tok, ids), c.want)
		}
		want := c.text
		if c.opt.DummyPrefix {
			want = " " + want
		}
		if got := concatTokenBytes(tok, ids); got != want {
			t.Errorf("TokenBytes of Encode(%q, %+v) = %q, want %q", c.text, c.opt, got, want)
		}
	}
}

func concatTokenBytes(tok *Tokenizer, ids []int) string {
	var b bytes.Buffer
	for _, id := range ids {
		b.Write(tok.TokenBytes(id))
	}
	return b.String()
}

func TestOptions(t *testing.T) {
	tok := mistral(t)
	for _, c := range []struct {
		text string
		opt  EncodeOptions
		want []int
	}{
		{"Hello world!", Default, []int{1, 22557, 1526, 28808}},
		{"Hello world!", EncodeOptions{DummyPrefix: true}, []int{22557, 1526, 28808}},
		{"Hello world!", EncodeOptions{AddBOS: true, AddEOS: true, DummyPrefix: true}, []int{1, 22557, 1526, 28808, 2}},
		{"", Default, []int{1}},
		{"", Continuation, []int{}},
		// Special tokens split the text; the normalizer runs per segment, so
		// each segment gets its own dummy prefix ("▁a", "</s>", "▁b").
		{"a</s>b", Default, []int{1, 264, 2, 287}},
		{"</s>", Default, []int{1, 2}},
		{"<s><s>", EncodeOptions{ParseSpecial: true}, []int{1, 1}},
		{"<unk>", EncodeOptions{ParseSpecial: true}, []int{0}},
	} {
		if got := tok.Encode(c.text, c.opt); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q, %+v) = %v, want %v", c.text, c.opt, got, c.want)
		}
	}
}

func TestParseSpecial(t *testing.T) {
	tok := mistral(t)
	for _, c := range []struct {
		opt     EncodeOptions
		wantEOS bool
	}{
		{Default, true},
		{EncodeOptions{ParseSpecial: true}, true},
		{Continuation, false},
		{EncodeOptions{AddBOS: true, DummyPrefix: true}, false},
	} {
		ids := tok.Encode("a</s>b", c.opt)
		if got := slices.Contains(ids, tok.EOS()); got != c.wantEOS {
			t.Errorf("Encode(\"a</s>b\", %+v) = %v: contains EOS %v, want %v", c.opt, ids, got, c.wantEOS)
		}
		if !c.wantEOS {
			if got := concatTokenBytes(tok, ids); !strings.HasSuffix(got, "a</s>b") {
				t.Errorf("bytes of %v = %q", ids, got)
			}
		}
	}
	// Decode skips the special token; DecodeWithSpecial keeps it.
	ids := tok.Encode("a</s>b", Default)
	if got := tok.Decode(ids); got != "a b" {
		t.Errorf("Decode(%v) = %q, want %q", ids, got, "a b")
	}
	if got := tok.DecodeWithSpecial(ids); got != "<s> a</s> b" {
		t.Errorf("DecodeWithSpecial(%v) = %q", ids, got)
	}
}

func TestDecodeByteFallback(t *testing.T) {
	tok := mistral(t)
	b := func(x byte) int { return 3 + int(x) }
	hello, _ := tok.ID("▁Hello")
	for _, c := range []struct {
		name string
		ids  []int
		want string
	}{
		{"valid run", []int{b(0xE2), b(0x82), b(0xAC)}, "€"},
		{"invalid run: one U+FFFD per token", []int{b(0xE2), b(0x82)}, "\uFFFD\uFFFD"},
		{"invalid run then text", []int{b(0xFF), hello}, "\uFFFD Hello"},
		{"run split by text", []int{b(0xE2), hello, b(0x82), b(0xAC)}, "\uFFFD Hello\uFFFD\uFFFD"},
		{"skipped special joins a run", []int{b(0xE2), 2, b(0x82), b(0xAC)}, "€"},
		{"leading byte space stripped", []int{b(' '), b('x')}, "x"},
		{"only one space stripped", []int{259, hello}, "  Hello"},
		{"out of range ids dropped", []int{-5, hello, 99999}, "Hello"},
	} {
		if got := tok.Decode(c.ids); got != c.want {
			t.Errorf("%s: Decode(%v) = %q, want %q", c.name, c.ids, got, c.want)
		}
	}
	// With special tokens kept, a special token ends a byte run.
	if got, want := tok.DecodeWithSpecial([]int{b(0xE2), 2, b(0x82), b(0xAC)}), "\uFFFD</s>\uFFFD\uFFFD"; got != want {
		t.Errorf("DecodeWithSpecial = %q, want %q", got, want)
	}
}

func TestInvalidUTF8Continuation(t *testing.T) {
	tok := mistral(t)
	for _, s := range []string{"\xff", "a\xffb", "\xe2\x82", "ok \xc3\x28 x", "\xed\xa0\x80"} {
		ids := tok.Encode(s, Continuation)
		if got := concatTokenBytes(tok, ids); got != s {
			t.Errorf("TokenBytes of Encode(%q) = %q", s, got)
		}
	}
}

func TestStream(t *testing.T) {
	tok := mistral(t)
	texts := []string{" leading", "   ", "a</s>b", "€ sign", ""}
	for _, c := range loadCases(t) {
		texts = append(texts, c.Text)
	}
	for _, text := range texts {
		ids := tok.Encode(text, Default)
		s := tok.NewStream(true)
		var out []byte
		for _, id := range ids {
			out = append(out, s.Next(id)...)
		}
		if want := tok.Decode(ids); string(out) != want {
			t.Errorf("stream of %q = %q, Decode = %q", text, out, want)
		}
	}
	// Without stripping the stream is just TokenBytes.
	s := tok.NewStream(false)
	var out []byte
	for _, id := range tok.Encode("Hi there", Default) {
		out = append(out, s.Next(id)...)
	}
	if string(out) != " Hi there" {
		t.Errorf("unstripped stream = %q", out)
	}
	// The strip applies to the first output byte, even after control tokens
	// and when it comes from a byte token.
	s = tok.NewStream(true)
	var got []byte
	for _, id := range []int{1, 3 + ' ', 3 + ' ', 3 + 'x'} {
		got = append(got, s.Next(id)...)
	}
	if string(got) != " x" {
		t.Errorf("stream = %q, want %q", got, " x")
	}
}

func TestConcurrentUse(t *testing.T) {
	tok := mistral(t)
	cases := loadCases(t)
	var wg sync.WaitGroup
	errs := make(chan string, len(cases))
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				c := cases[(g*7+i)%len(cases)]
				if got := tok.Encode(c.Text, Default); !slices.Equal(got, c.IDs) {
					errs <- c.Text
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for text := range errs {
		t.Errorf("concurrent Encode(%q) differs", text)
	}
}

func TestFingerprint(t *testing.T) {
	tok := mistral(t)
	fp := tok.Fingerprint()
	if !strings.HasPrefix(fp, "sha256:") || len(fp) != len("sha256:")+64 {
		t.Fatalf("Fingerprint = %q", fp)
	}
	data, err := os.ReadFile(mistralPath)
	if err != nil {
		t.Fatal(err)
	}
	// Same file loaded again: same fingerprint.
	again, err := Parse(data, "again")
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint() != fp {
		t.Error("fingerprint differs between two loads of the same file")
	}
	// Re-serialized with other member order and whitespace: same fingerprint.
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	compact, err := json.Marshal(generic) // sorted keys, no whitespace
	if err != nil {
		t.Fatal(err)
	}
	re, err := Parse(compact, "compact")
	if err != nil {
		t.Fatal(err)
	}
	if re.Fingerprint() != fp {
		t.Error("fingerprint depends on JSON layout")
	}
	// One piece renamed: different. ("梦", id 31999, is in no merge.)
	mod := bytes.Replace(data, []byte(`"梦"`), []byte(`"梦X"`), -1)
	if bytes.Count(data, []byte(`"梦"`)) != 1 {
		t.Fatal("test assumes exactly one occurrence of the piece \"梦\"")
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(path, mod, 0o644); err != nil {
		t.Fatal(err)
	}
	renamed, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Fingerprint() == fp {
		t.Error("fingerprint unchanged after renaming a piece")
	}
}
