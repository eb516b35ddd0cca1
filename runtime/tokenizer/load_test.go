package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// synthJSON is a small tokenizer.json in the Mistral layout: <unk>, <s>,
// </s>, the 256 byte pieces (ids 3..258), then "▁" 259, "a" 260, "b" 261,
// "▁a" 262, "ab" 263, with merges "▁ a" then "a b".
func synthJSON() map[string]any {
	vocab := map[string]any{"<unk>": 0, "<s>": 1, "</s>": 2}
	for b := range 256 {
		vocab[fmt.Sprintf("<0x%02X>", b)] = 3 + b
	}
	for i, p := range []string{"▁", "a", "b", "▁a", "ab"} {
		vocab[p] = 259 + i
	}
	special := func(id int, content string) map[string]any {
		return map[string]any{"id": id, "content": content, "single_word": false, "lstrip": false,
			"rstrip": false, "normalized": false, "special": true}
	}
	return map[string]any{
		"version":      "1.0",
		"added_tokens": []any{special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")},
		"normalizer": map[string]any{"type": "Sequence", "normalizers": []any{
			map[string]any{"type": "Prepend", "prepend": "▁"},
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": " "}, "content": "▁"},
		}},
		"pre_tokenizer": nil,
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
			"special_tokens": map[string]any{
				"<s>": map[string]any{"id": "<s>", "ids": []any{1}, "tokens": []any{"<s>"}},
			},
		},
		"decoder": map[string]any{"type": "Sequence", "decoders": []any{
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": "▁"}, "content": " "},
			map[string]any{"type": "ByteFallback"},
			map[string]any{"type": "Fuse"},
			map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0},
		}},
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": "<unk>", "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": true, "byte_fallback": true,
			"vocab": vocab, "merges": []any{"▁ a", "a b"},
		},
	}
}

func model(m map[string]any) map[string]any { return m["model"].(map[string]any) }
func vocab(m map[string]any) map[string]any { return model(m)["vocab"].(map[string]any) }

// writeJSON writes v (or raw bytes) to a file in dir and returns its path.
func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	data, ok := v.([]byte)
	if !ok {
		var err error
		if data, err = json.MarshalIndent(v, "", "  "); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	good, err := json.MarshalIndent(synthJSON(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(m map[string]any)) map[string]any {
		m := synthJSON()
		f(m)
		return m
	}
	for _, c := range []struct {
		name string
		file any    // map to marshal, []byte, or nil for a missing file
		want string // substring of the error besides the file name
	}{
		{"missing", nil, "cannot read file"},
		{"truncated", good[:len(good)/2], "malformed JSON at line"},
		{"syntax", []byte("{\n  \"model\": {\"type\": \"BPE\",, }\n}"), "malformed JSON at line 2, column 27 (byte offset 28)"},
		{"wrongtype", []byte(`{"model": {"type": "BPE", "fuse_unk": "yes"}}`), "wrong JSON type near line 1, column 44 (byte offset 43)"},
		{"vocab-array", []byte(`{"model": {"type": "BPE", "vocab": [1, 2]}}`), "model vocab: expected an object"},
		{"vocab-float", []byte(`{"model": {"type": "BPE", "vocab": {"a": 1.5}}}`), `model vocab: piece "a": expected a non-negative integer id, got 1.5`},
		{"wordpiece", mut(func(m map[string]any) { model(m)["type"] = "WordPiece" }), `unsupported model type "WordPiece"`},
		{"nomodel", []byte(`{"version": "1.0"}`), `no "model" object`},
		{"missing-byte", mut(func(m map[string]any) {
			delete(vocab(m), "<0x41>")
			vocab(m)["ab"] = 3 + 0x41 // keep the ids dense
		}), "byte piece(s) <0x41> are missing"},
		{"duplicate-id", mut(func(m map[string]any) { vocab(m)["b"] = 260 }), `duplicate id 260 in vocab (pieces "a" and "b")`},
		{"not-dense", mut(func(m map[string]any) { vocab(m)["zz"] = 300 }), "ids are not dense: no piece has id 264"},
		{"negative-id", mut(func(m map[string]any) { vocab(m)["zz"] = -1 }), `piece "zz": expected a non-negative integer id, got -1`},
		{"added-conflict", mut(func(m map[string]any) {
			m["added_tokens"] = append(m["added_tokens"].([]any), map[string]any{"id": 7, "content": "a", "special": false})
		}), `added token "a" has id 7 but the vocab gives it id 260`},
		{"missing-unk", mut(func(m map[string]any) { model(m)["unk_token"] = "<unk2>" }), `unk_token "<unk2>" is not in the vocab`},
		{"missing-eos", mut(func(m map[string]any) {
			delete(vocab(m), "</s>")
			vocab(m)["<eos>"] = 2
			m["added_tokens"].([]any)[2].(map[string]any)["content"] = "<eos>"
		}), `no EOS token: "</s>" is not in the vocabulary`},
		{"missing-bos", mut(func(m map[string]any) {
			delete(vocab(m), "<s>")
			vocab(m)["<bos>"] = 1
			m["added_tokens"].([]any)[1].(map[string]any)["content"] = "<bos>"
			m["post_processor"] = nil
		}), `no BOS token`},
		{"merge-out-of-vocab", mut(func(m map[string]any) { model(m)["merges"] = []any{"a x"} }), `merges[0] "a" "x": piece "x" is not in the vocab`},
		{"merge-result-out-of-vocab", mut(func(m map[string]any) { model(m)["merges"] = []any{"b a"} }), `merged piece "ba" is not in the vocab`},
		{"merge-three-parts", mut(func(m map[string]any) { model(m)["merges"] = []any{"a b ab"} }), `merges[0] = "a b ab": expected two pieces`},
		{"merge-bad-pair", mut(func(m map[string]any) { model(m)["merges"] = []any{[]any{"a"}} }), `merges[0]: expected a pair`},
		{"normalizer-nfkc", mut(func(m map[string]any) { m["normalizer"] = map[string]any{"type": "NFKC"} }), `unsupported normalizer step "NFKC"`},
		{"normalizer-regex", mut(func(m map[string]any) {
			m["normalizer"] = map[string]any{"type": "Replace", "pattern": map[string]any{"Regex": " +"}, "content": "▁"}
		}), `Replace with a Regex pattern`},
		{"pretokenizer", mut(func(m map[string]any) {
			m["pre_tokenizer"] = map[string]any{"type": "Metaspace", "replacement": "▁"}
		}), `unsupported pre_tokenizer "Metaspace"`},
		{"decoder-metaspace", mut(func(m map[string]any) { m["decoder"] = map[string]any{"type": "Metaspace"} }), `unsupported decoder step "Metaspace"`},
		{"decoder-null", mut(func(m map[string]any) { m["decoder"] = nil }), `unsupported decoder null`},
		{"decoder-order", mut(func(m map[string]any) {
			m["decoder"] = map[string]any{"type": "Sequence", "decoders": []any{
				map[string]any{"type": "ByteFallback"},
				map[string]any{"type": "Replace", "pattern": map[string]any{"String": "▁"}, "content": " "},
			}}
		}), `step Replace out of order`},
		{"decoder-strip-stop", mut(func(m map[string]any) {
			m["decoder"] = map[string]any{"type": "Sequence", "decoders": []any{
				map[string]any{"type": "Fuse"},
				map[string]any{"type": "Strip", "content": " ", "start": 0, "stop": 1},
			}}
		}), `Strip with stop 1`},
		{"postprocessor", mut(func(m map[string]any) { m["post_processor"] = map[string]any{"type": "ByteLevel"} }), `unsupported post_processor "ByteLevel"`},
		{"dropout", mut(func(m map[string]any) { model(m)["dropout"] = 0.1 }), `unsupported BPE dropout 0.1`},
		{"duplicate-piece", []byte(`{"model": {"type": "BPE", "vocab": {"a": 0, "a": 1}}}`), `vocab lists piece "a" twice`},
		{"empty-vocab", mut(func(m map[string]any) { model(m)["vocab"] = map[string]any{} }), `vocab is missing or empty`},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".json")
			if c.file != nil {
				path = writeJSON(t, dir, c.name+".json", c.file)
			}
			tok, err := Load(path)
			if err == nil {
				t.Fatalf("Load succeeded (vocab size %d), want error containing %q", tok.VocabSize(), c.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error %q does not name the file %q", msg, path)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not contain %q", msg, c.want)
			}
		})
	}
	// The missing-file error wraps the os error.
	if _, err := Load(filepath.Join(dir, "nope.json")); !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file error %v does not wrap fs.ErrNotExist", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// synth builds a tokenizer from a mutated synthJSON.
func synth(t *testing.T, f func(m map[string]any)) *Tokenizer {
	t.Helper()
	m := synthJSON()
	if f != nil {
		f(m)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := Parse(data, "synth")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// addPieces appends pieces to the synthetic vocab with the next free ids.
func addPieces(m map[string]any, pieces ...string) {
	v := vocab(m)
	for _, p := range pieces {
		v[p] = len(v)
	}
}

func pieces(tok *Tokenizer, ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = tok.Piece(id)
	}
	return out
}

func TestBPESemantics(t *testing.T) {
	noBytes := func(m map[string]any) {
		v := vocab(m)
		for b := range 256 {
			delete(v, fmt.Sprintf("<0x%02X>", b))
		}
		// Re-number densely: <unk> <s> </s> ▁ a b ▁a ab ...
		for i, p := range []string{"▁", "a", "b", "▁a", "ab"} {
			v[p] = 3 + i
		}
		model(m)["byte_fallback"] = false
	}
	for _, c := range []struct {
		name string
		f    func(m map[string]any)
		text string
		opt  EncodeOptions
		want []string
	}{
		{"rank order", nil, "ab", Default, []string{"<s>", "▁a", "b"}},
		{"rank order without prefix", nil, "ab", Continuation, []string{"ab"}},
		{"merges as pairs", func(m map[string]any) {
			model(m)["merges"] = []any{[]any{"▁", "a"}, []any{"a", "b"}}
		}, "ab ab", Default, []string{"<s>", "▁a", "b", "▁a", "b"}},
		{"tie breaks leftmost", func(m map[string]any) {
			addPieces(m, "aa")
			model(m)["merges"] = []any{"a a"}
		}, "aaa", Continuation, []string{"aa", "a"}},
		{"lower rank first even to the right", func(m map[string]any) {
			addPieces(m, "aa")
			model(m)["merges"] = []any{"a b", "a a"}
		}, "aab", Continuation, []string{"a", "ab"}},
		{"merged symbols merge again", func(m map[string]any) {
			addPieces(m, "aa", "aaaa")
			model(m)["merges"] = []any{"a a", "aa aa"}
		}, "aaaaa", Continuation, []string{"aaaa", "a"}},
		{"byte fallback", nil, "é", Continuation, []string{"<0xC3>", "<0xA9>"}},
		{"fused unk", noBytes, "xyz a", Continuation, []string{"<unk>", "▁a"}},
		{"unfused unk", func(m map[string]any) {
			noBytes(m)
			model(m)["fuse_unk"] = false
		}, "xyz a", Continuation, []string{"<unk>", "<unk>", "<unk>", "▁a"}},
		{"unk runs split by known chars", noBytes, "xaxx", Continuation, []string{"<unk>", "a", "<unk>"}},
		{"ignore_merges off", func(m map[string]any) { addPieces(m, "ba") }, "ba", Continuation, []string{"b", "a"}},
		{"ignore_merges on", func(m map[string]any) {
			addPieces(m, "ba")
			model(m)["ignore_merges"] = true
		}, "ba", Continuation, []string{"ba"}},
		{"non-special added token always split", func(m map[string]any) {
			addPieces(m, "<tool>")
			m["added_tokens"] = append(m["added_tokens"].([]any), map[string]any{"id": 264, "content": "<tool>", "special": false})
		}, "a<tool>b", Continuation, []string{"a", "<tool>", "b"}},
		{"special token split only with ParseSpecial", nil, "a</s>", Continuation, []string{"a", "<0x3C>", "<0x2F>", "<0x73>", "<0x3E>"}},
		{"rstrip eats following spaces", func(m map[string]any) {
			m["added_tokens"].([]any)[2].(map[string]any)["rstrip"] = true
		}, "a</s>  b", EncodeOptions{ParseSpecial: true}, []string{"a", "</s>", "b"}},
		{"lstrip eats preceding spaces", func(m map[string]any) {
			m["added_tokens"].([]any)[2].(map[string]any)["lstrip"] = true
		}, "a  </s>b", EncodeOptions{ParseSpecial: true}, []string{"a", "</s>", "b"}},
		{"single_word rejects a match inside a word", func(m map[string]any) {
			m["added_tokens"].([]any)[2].(map[string]any)["single_word"] = true
		}, "a</s>", EncodeOptions{ParseSpecial: true}, []string{"a", "<0x3C>", "<0x2F>", "<0x73>", "<0x3E>"}},
		{"single_word accepts a separate word", func(m map[string]any) {
			m["added_tokens"].([]any)[2].(map[string]any)["single_word"] = true
		}, "a </s>", EncodeOptions{ParseSpecial: true}, []string{"a", "▁", "</s>"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := synth(t, c.f)
			got := pieces(tok, tok.Encode(c.text, c.opt))
			if !slices.Equal(got, c.want) {
				t.Errorf("Encode(%q) = %q, want %q", c.text, got, c.want)
			}
		})
	}
}

func TestAddedKind(t *testing.T) {
	tok := synth(t, func(m map[string]any) {
		addPieces(m, "<tool>")
		m["added_tokens"] = append(m["added_tokens"].([]any), map[string]any{"id": 264, "content": "<tool>", "special": false})
	})
	if k := tok.Kind(264); k != Added {
		t.Errorf("Kind = %v, want Added", k)
	}
	ids := tok.Encode("x<tool>", Default)
	if got := tok.Decode(ids); got != "x<tool>" {
		t.Errorf("Decode = %q", got)
	}
}
