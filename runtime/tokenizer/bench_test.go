package tokenizer

import (
	"os"
	"strings"
	"testing"
)

// benchText is about 10 KB of mixed input: English prose, JSON, Go code and
// some non-ASCII text.
func benchText() string {
	parts := []string{
		"The quick brown fox jumps over the lazy dog. Tokenizers split text into pieces that a language model can read; " +
			"a good one keeps common words whole and falls back to bytes for anything it has never seen. ",
		`{"full_name": "Alex Ray", "email": "alex.ray@example.com", "years_of_experience": 9, "skills": ["Go", "Kubernetes", "Terraform"], "remote": true, "salary": null}` + "\n",
		"func (t *Tokenizer) Encode(text string, opt EncodeOptions) []int {\n\tout := make([]int, 0, len(text)/3)\n\tfor i := 0; i < len(text); i++ {\n\t\tout = append(out, int(text[i]))\n\t}\n\treturn out\n}\n",
		"Ünïcödé façade naïve café — “quotes” and ‘single’. Привет, мир! Как дела? 日本語のテキストです。中文测试：镇上的人 🦙🚀\n",
		"    - name: build\n      run: go test ./... && go vet ./...\n\n",
	}
	var b strings.Builder
	for i := 0; b.Len() < 10*1024; i++ {
		b.WriteString(parts[i%len(parts)])
	}
	return b.String()
}

func BenchmarkEncode(b *testing.B) {
	tok := mistral(b)
	text := benchText()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		tok.Encode(text, Default)
	}
}

func BenchmarkEncodeWholeWord(b *testing.B) {
	tok := mistral(b)
	text := tok.normalize(benchText(), true, false)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.bpeWhole(text)
	}
}

func BenchmarkDecode(b *testing.B) {
	tok := mistral(b)
	text := benchText()
	ids := tok.Encode(text, Default)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		tok.Decode(ids)
	}
}

func BenchmarkLoad(b *testing.B) {
	data, err := os.ReadFile(mistralPath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
