package tokenizer

import (
	"sync"
)

// Kind classifies a vocabulary entry by what it contributes to decoded text.
type Kind uint8

const (
	// Normal is an ordinary vocabulary piece; its bytes are the piece with
	// the decoder's replacements applied ("▁" becomes a space).
	Normal Kind = iota
	// Byte is a byte-fallback piece "<0xNN>" that stands for the single byte
	// NN.
	Byte
	// Control is a special added token (<unk>, <s>, </s>): it contributes
	// nothing to Decode and has no TokenBytes.
	Control
	// Added is a non-special added token (SentencePiece's user-defined
	// pieces): matched literally in the input and decoded as its text.
	Added
)

// String returns the name of the kind.
func (k Kind) String() string {
	switch k {
	case Normal:
		return "Normal"
	case Byte:
		return "Byte"
	case Control:
		return "Control"
	case Added:
		return "Added"
	}
	return "Kind(?)"
}

// EncodeOptions selects how Encode treats the start of the text and
// special-token text inside it.
type EncodeOptions struct {
	// AddBOS prepends the BOS id.
	AddBOS bool
	// AddEOS appends the EOS id (Hugging Face does this only when the
	// post-processor template says so; the Llama/Mistral files do not).
	AddEOS bool
	// DummyPrefix runs the normalizer's Prepend("▁") steps
	// (SentencePiece's add_dummy_prefix).
	DummyPrefix bool
	// ParseSpecial recognises special-token text such as "</s>" in the
	// input and emits the token's id instead of encoding the characters.
	ParseSpecial bool
	// ExactBytes encodes text that the decoder would rewrite (a literal "▁",
	// which Hugging Face treats as a space) as byte-fallback tokens, so the
	// concatenated TokenBytes are exactly the input. It changes nothing for
	// text without "▁". Not a Hugging Face option; Continuation sets it.
	ExactBytes bool
}

// Default is what Hugging Face tokenizer(text) does for the Llama/Mistral
// files: BOS, the dummy-prefix space, and special-token text recognised.
var Default = EncodeOptions{AddBOS: true, DummyPrefix: true, ParseSpecial: true}

// Continuation encodes text that continues an earlier sequence: no BOS, no
// dummy prefix, no special-token parsing. The concatenated TokenBytes of the
// result are exactly the bytes of the text (ExactBytes is set for that: it
// only matters for text containing a literal "▁").
var Continuation = EncodeOptions{ExactBytes: true}

// Tokenizer is a loaded tokenizer.json. It is immutable and safe for
// concurrent use.
type Tokenizer struct {
	name string

	// Per id.
	pieces   []string
	kinds    []Kind
	tokBytes [][]byte // TokenBytes: nil for Control
	text     [][]byte // the token's string after the decoder's Replace steps
	byteVal  []int16  // byte value if the decoder's ByteFallback reads the token as <0xNN>, else -1

	vocab map[string]int32 // model vocabulary
	added map[string]int32 // added tokens, by content

	addedTokens []addedToken
	rawTrie     matcher    // non-normalized added tokens, matched on the input
	normTrie    [2]matcher // normalized added tokens, matched on normalized text; index 1 = with DummyPrefix
	anyNonSpec  bool       // some added token is not special (so splitting runs even without ParseSpecial)

	// BPE.
	ascii        [128]int32 // model id of each single ASCII character piece, -1 if none
	runes        *u64Table  // model id of each single non-ASCII character piece
	byteIDs      [256]int32 // ids of <0x00>..<0xFF>, -1 if missing
	merges       *u64Table  // pairKey(left, right) → rank<<32 | merged id
	mergeL       []int32    // merges in rank order (as listed in the file)
	mergeR       []int32
	pairFast     []bool    // [129*129]: a merge can join a piece ending in x to one starting with y (x, y ASCII or ▁)
	pairSlow     *u64Table // runePairKey(x, y) present: like pairFast for other characters
	byteFallback bool
	fuseUnk      bool
	ignoreMerges bool

	norm []normStep

	// Decoder.
	decReplaces     []normStep // Replace steps, applied to every token's string
	decByteFallback bool       // the decoder has a ByteFallback step
	stripRune       string     // content of the Strip step
	stripStart      int        // how many leading stripRune the Strip step removes

	unk, bos, eos int

	fpOnce sync.Once
	fp     string

	pool sync.Pool // *scratch
}

type addedToken struct {
	id          int32
	content     string
	special     bool
	lstrip      bool
	rstrip      bool
	singleWord  bool
	normalized  bool
	normContent [2]string // content after the normalizer, without and with the Prepend steps
}

type normStepKind uint8

const (
	normPrepend normStepKind = iota
	normReplace
)

type normStep struct {
	kind     normStepKind
	from, to string // Replace: from → to; Prepend: to
}

// VocabSize returns the number of ids (model vocabulary plus added tokens).
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// Piece returns the vocabulary string of id, e.g. "▁the", "<0x0A>", "</s>",
// or "" for an id out of range.
func (t *Tokenizer) Piece(id int) string {
	if uint(id) >= uint(len(t.pieces)) {
		return ""
	}
	return t.pieces[id]
}

// ID returns the id of a vocabulary string (added tokens first, then the
// model vocabulary, as Hugging Face's token_to_id).
func (t *Tokenizer) ID(piece string) (int, bool) {
	if id, ok := t.added[piece]; ok {
		return int(id), true
	}
	if id, ok := t.vocab[piece]; ok {
		return int(id), true
	}
	return 0, false
}

// TokenBytes returns the exact bytes id contributes to decoded output: the
// piece with "▁" turned into a space, the byte NN for a "<0xNN>" piece, nil
// for Control tokens and ids out of range. The slice is shared: callers must
// not modify it. (The decoder's Strip of the first leading space is not
// applied; see Stream.)
func (t *Tokenizer) TokenBytes(id int) []byte {
	if uint(id) >= uint(len(t.tokBytes)) {
		return nil
	}
	return t.tokBytes[id]
}

// Kind returns the kind of id; ids out of range are reported as Control
// (they contribute nothing).
func (t *Tokenizer) Kind(id int) Kind {
	if uint(id) >= uint(len(t.kinds)) {
		return Control
	}
	return t.kinds[id]
}

// BOS returns the beginning-of-sequence id ("<s>").
func (t *Tokenizer) BOS() int { return t.bos }

// EOS returns the end-of-sequence id ("</s>").
func (t *Tokenizer) EOS() int { return t.eos }

// UNK returns the unknown-token id ("<unk>"), or -1 if the model has no
// unk_token.
func (t *Tokenizer) UNK() int { return t.unk }

// Name returns the name the tokenizer was loaded under (the file path for
// Load).
func (t *Tokenizer) Name() string { return t.name }
