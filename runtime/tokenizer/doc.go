// Package tokenizer loads a Hugging Face tokenizer.json of the
// Llama/Mistral (SentencePiece-style BPE) family and encodes and decodes text
// exactly as the Hugging Face tokenizers library does, in pure Go.
//
// Supported file layout: model type BPE (with or without byte_fallback,
// fuse_unk and ignore_merges; no dropout, continuing_subword_prefix or
// end_of_word_suffix), merges in either the "a b" string form or the
// [["a","b"], ...] array form, a normalizer made of Prepend and Replace (plain
// string pattern) steps, no pre-tokenizer, a TemplateProcessing (or null)
// post-processor, and a decoder made of Replace steps, ByteFallback, Fuse and
// Strip (leading characters only), in that order. Anything else is rejected by
// Load with an error naming the file and the unsupported piece.
//
// # Encoding
//
// Encode follows the library step by step:
//
//  1. Added tokens whose text appears literally in the input are split out
//     (leftmost-longest, honouring lstrip, rstrip and single_word). Special
//     added tokens such as "</s>" are only recognised when
//     EncodeOptions.ParseSpecial is set; non-special added tokens always are,
//     as in the library (encode_special_tokens only affects special ones).
//  2. The normalizer runs on each remaining segment separately, so Prepend("▁")
//     adds a "▁" to every non-empty segment (EncodeOptions.DummyPrefix turns
//     the Prepend steps off).
//  3. Each normalized segment is one BPE word: one symbol per character,
//     characters missing from the vocabulary become one <0xNN> symbol per
//     UTF-8 byte (byte_fallback) or <unk> (fused when fuse_unk). Merges are
//     then applied lowest rank first, ties broken by the leftmost position,
//     exactly as the library's heap over a linked list of symbols does
//     (including its re-validation of stale heap entries).
//
// BPE is O(n log n) in the length of the word. As an exact shortcut, the word
// is first cut at character boundaries that no merge of the vocabulary can
// ever cross (no merge joins a piece ending in the left character to a piece
// starting with the right one); the pieces are then independent and each gets
// its own small heap. Results are identical to running the heap over the
// whole word.
//
// Invalid UTF-8 input (which the Rust library cannot receive) is encoded with
// one byte-fallback token per invalid byte, so the bytes still round-trip.
//
// The library reads a literal "▁" in the input exactly like a space (the
// normalizer turns spaces into "▁" and the decoder turns every "▁" back into
// a space), so Default encodes "a▁b" like "a b". EncodeOptions.ExactBytes,
// set in Continuation, instead encodes a literal "▁" as its three byte
// tokens, so that the TokenBytes of a Continuation encoding always
// concatenate to the input.
//
// # Decoding
//
// Decode and DecodeWithSpecial reproduce the library's decode with
// skip_special_tokens true and false. TokenBytes and Stream give the exact
// bytes each token contributes, for incremental output.
//
// A Tokenizer is immutable after loading and safe for concurrent use.
package tokenizer
