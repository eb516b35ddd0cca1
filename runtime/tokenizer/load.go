package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// Load reads a tokenizer.json file. Errors name the file and what is wrong:
// a missing file, malformed JSON (with line, column and byte offset), an
// unsupported model type (e.g. "WordPiece") or normalizer, pre-tokenizer,
// post-processor or decoder step, missing <0xNN> byte pieces when
// byte_fallback is on, missing unk/BOS/EOS pieces, duplicate ids, or ids that
// are not dense 0..n-1.
func Load(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: cannot read file: %w", path, err)
	}
	return Parse(data, path)
}

// Parse is Load for a file already in memory; name is used in error
// messages.
func Parse(data []byte, name string) (*Tokenizer, error) {
	t, err := parse(data, name)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	return t, nil
}

type fileJSON struct {
	AddedTokens   []addedTokenJSON `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
	Model         *modelJSON       `json:"model"`
}

type addedTokenJSON struct {
	ID         *int   `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

// jsonError turns a decoding error into a message with line and column.
func jsonError(data []byte, err error) error {
	// Offset counts the bytes read when the error was found: for a syntax
	// error the offending character is the last of them.
	what := "malformed JSON at"
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
		if off > 0 && off < int64(len(data)) {
			off--
		}
	case errors.As(err, &te):
		off = te.Offset // the end of the offending value
		what = "wrong JSON type near"
	}
	if off < 0 {
		return fmt.Errorf("malformed JSON: %v", err)
	}
	off = min(off, int64(len(data)))
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("%s line %d, column %d (byte offset %d): %v", what, line, col, off, err)
}

func isNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func parse(data []byte, name string) (*Tokenizer, error) {
	var f fileJSON
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, jsonError(data, err)
	}
	m := f.Model
	if m == nil {
		return nil, errors.New(`no "model" object`)
	}
	if m.Type == "" && m.Merges != nil {
		m.Type = "BPE" // old files omit the type
	}
	if m.Type != "BPE" {
		return nil, fmt.Errorf("unsupported model type %q (only BPE is supported)", m.Type)
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return nil, fmt.Errorf("unsupported BPE dropout %v (only null or 0)", *m.Dropout)
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, fmt.Errorf("unsupported continuing_subword_prefix %q", *m.ContinuingSubwordPrefix)
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return nil, fmt.Errorf("unsupported end_of_word_suffix %q", *m.EndOfWordSuffix)
	}
	if isNull(m.Vocab) {
		return nil, errors.New("model vocab is missing or empty")
	}
	keys, vids, err := parseVocab(m.Vocab)
	if err != nil {
		return nil, fmt.Errorf("model vocab: %v", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("model vocab is missing or empty")
	}

	t := &Tokenizer{
		name:         name,
		byteFallback: m.ByteFallback,
		fuseUnk:      m.FuseUnk,
		ignoreMerges: m.IgnoreMerges,
		unk:          -1,
	}

	// Ids: model vocabulary plus added tokens, dense 0..n-1.
	t.vocab = make(map[string]int32, len(keys))
	n := int64(0)
	for i, piece := range keys {
		if _, dup := t.vocab[piece]; dup {
			return nil, fmt.Errorf("vocab lists piece %q twice", piece)
		}
		t.vocab[piece] = vids[i]
		n = max(n, int64(vids[i])+1)
	}
	for i, a := range f.AddedTokens {
		if a.ID == nil {
			return nil, fmt.Errorf("added_tokens[%d] (%q) has no id", i, a.Content)
		}
		if *a.ID < 0 || *a.ID >= 1<<31-1 {
			return nil, fmt.Errorf("added token %q has invalid id %d", a.Content, *a.ID)
		}
		n = max(n, int64(*a.ID)+1)
	}
	if n > int64(len(keys)+len(f.AddedTokens)) {
		// Cannot be dense; find the first hole below for the message.
		n = min(n, int64(len(keys)+len(f.AddedTokens))+1)
	}
	pieces := make([]string, n)
	have := make([]bool, n)
	for i, piece := range keys {
		id := int64(vids[i])
		if id >= n {
			continue // reported as a hole below
		}
		if have[id] {
			a, b := pieces[id], piece
			if b < a {
				a, b = b, a
			}
			return nil, fmt.Errorf("duplicate id %d in vocab (pieces %q and %q)", id, a, b)
		}
		have[id] = true
		pieces[id] = piece
	}
	t.added = make(map[string]int32, len(f.AddedTokens))
	for _, a := range f.AddedTokens {
		id := int64(*a.ID)
		if a.Content == "" {
			return nil, fmt.Errorf("added token with id %d has empty content", id)
		}
		if vid, ok := t.vocab[a.Content]; ok && int64(vid) != id {
			return nil, fmt.Errorf("added token %q has id %d but the vocab gives it id %d", a.Content, id, vid)
		}
		if prev, ok := t.added[a.Content]; ok && int64(prev) != id {
			return nil, fmt.Errorf("added token %q appears with ids %d and %d", a.Content, prev, id)
		}
		if id >= n {
			continue
		}
		if have[id] && pieces[id] != a.Content {
			return nil, fmt.Errorf("duplicate id %d (pieces %q and added token %q)", id, pieces[id], a.Content)
		}
		have[id] = true
		pieces[id] = a.Content
		t.added[a.Content] = int32(id)
		t.addedTokens = append(t.addedTokens, addedToken{
			id: int32(id), content: a.Content, special: a.Special,
			lstrip: a.LStrip, rstrip: a.RStrip, singleWord: a.SingleWord, normalized: a.Normalized,
		})
	}
	for id, ok := range have {
		if !ok {
			return nil, fmt.Errorf("ids are not dense: no piece has id %d (expected ids 0..n-1)", id)
		}
	}
	t.pieces = pieces

	// Single-character pieces and byte pieces of the model vocabulary.
	for i := range t.ascii {
		t.ascii[i] = -1
	}
	t.runes = newU64Table(4096)
	for piece, id := range t.vocab {
		r, size := utf8.DecodeRuneInString(piece)
		if size != len(piece) || (r == utf8.RuneError && size < 3) {
			continue
		}
		if r < 0x80 {
			t.ascii[r] = id
		} else {
			t.runes.put(uint64(r), uint64(id))
		}
	}
	var missing []string
	for b := range 256 {
		piece := fmt.Sprintf("<0x%02X>", b)
		if id, ok := t.vocab[piece]; ok {
			t.byteIDs[b] = id
		} else {
			t.byteIDs[b] = -1
			missing = append(missing, piece)
		}
	}
	if t.byteFallback && len(missing) > 0 {
		more := ""
		if len(missing) > 4 {
			more = fmt.Sprintf(" and %d more", len(missing)-4)
			missing = missing[:4]
		}
		return nil, fmt.Errorf("byte_fallback is on but byte piece(s) %s%s are missing from the vocab", strings.Join(missing, ", "), more)
	}
	if m.UnkToken != nil {
		id, ok := t.vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocab", *m.UnkToken)
		}
		t.unk = int(id)
	}

	if err := t.parseMerges(m.Merges); err != nil {
		return nil, err
	}
	if err := t.parseNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	if !isNull(f.PreTokenizer) {
		return nil, fmt.Errorf("unsupported pre_tokenizer %s (only null is supported)", typeOf(f.PreTokenizer))
	}
	if err := t.parseDecoder(f.Decoder); err != nil {
		return nil, err
	}
	if err := t.parsePostProcessor(f.PostProcessor); err != nil {
		return nil, err
	}
	sort.SliceStable(t.addedTokens, func(i, j int) bool { return t.addedTokens[i].id < t.addedTokens[j].id })
	t.buildAdded()
	t.buildPerID()
	return t, nil
}

// typeOf names the "type" of a JSON object for messages.
func typeOf(raw json.RawMessage) string {
	var v struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(raw, &v) != nil || v.Type == "" {
		return strings.TrimSpace(string(raw))
	}
	return fmt.Sprintf("%q", v.Type)
}

func (t *Tokenizer) parseMerges(raw json.RawMessage) error {
	n := 0
	if !isNull(raw) {
		n = bytes.Count(raw, []byte{','}) + 1 // an upper bound for the legacy form
	}
	t.merges = newU64Table(n)
	t.mergeL = make([]int32, 0, n)
	t.mergeR = make([]int32, 0, n)
	t.pairFast = make([]bool, 129*129)
	t.pairSlow = newU64Table(4096)
	if isNull(raw) {
		return nil // no merges: every piece stays a single character
	}
	var buf []byte
	err := parseMergeList(raw, func(rank int, pa, pb []byte) error {
		a, ok := t.vocab[string(pa)]
		if !ok {
			return fmt.Errorf("merges[%d] %q %q: piece %q is not in the vocab", rank, pa, pb, pa)
		}
		b, ok := t.vocab[string(pb)]
		if !ok {
			return fmt.Errorf("merges[%d] %q %q: piece %q is not in the vocab", rank, pa, pb, pb)
		}
		buf = append(append(buf[:0], pa...), pb...)
		c, ok := t.vocab[string(buf)]
		if !ok {
			return fmt.Errorf("merges[%d] %q %q: merged piece %q is not in the vocab", rank, pa, pb, buf)
		}
		t.mergeL = append(t.mergeL, a)
		t.mergeR = append(t.mergeR, b)
		// Like the library's HashMap collect, a repeated pair keeps its last rank.
		t.merges.put(pairKey(a, b), uint64(rank)<<32|uint64(uint32(c)))
		x, _ := utf8.DecodeLastRune(pa)
		y, _ := utf8.DecodeRune(pb)
		if xi, yi := fastRune(x), fastRune(y); xi >= 0 && yi >= 0 {
			t.pairFast[xi*129+yi] = true
		} else {
			t.pairSlow.put(runePairKey(x, y), 1)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("model %v", err)
	}
	return nil
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func runePairKey(x, y rune) uint64 { return uint64(uint32(x))<<32 | uint64(uint32(y)) }

// fastRune maps ASCII and ▁ to 0..128 for the pairFast table, others to -1.
func fastRune(r rune) int {
	if r >= 0 && r < 0x80 {
		return int(r)
	}
	if r == '▁' {
		return 128
	}
	return -1
}

type stepJSON struct {
	Type        string            `json:"type"`
	Normalizers []json.RawMessage `json:"normalizers"`
	Decoders    []json.RawMessage `json:"decoders"`
	Prepend     *string           `json:"prepend"`
	Pattern     *struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	} `json:"pattern"`
	Content *string `json:"content"`
	Start   *int    `json:"start"`
	Stop    *int    `json:"stop"`
}

func (s *stepJSON) replace(what string) (from, to string, err error) {
	if s.Pattern == nil || s.Content == nil {
		return "", "", fmt.Errorf("%s Replace step needs a pattern and a content", what)
	}
	if s.Pattern.String == nil {
		if s.Pattern.Regex != nil {
			return "", "", fmt.Errorf("unsupported %s step Replace with a Regex pattern %q (only String patterns)", what, *s.Pattern.Regex)
		}
		return "", "", fmt.Errorf("%s Replace step has no String pattern", what)
	}
	if *s.Pattern.String == "" {
		return "", "", fmt.Errorf("%s Replace step has an empty pattern", what)
	}
	return *s.Pattern.String, *s.Content, nil
}

func (t *Tokenizer) parseNormalizer(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var s stepJSON
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("normalizer: %v", err)
	}
	switch s.Type {
	case "Sequence":
		for _, sub := range s.Normalizers {
			if err := t.parseNormalizer(sub); err != nil {
				return err
			}
		}
	case "Prepend":
		if s.Prepend == nil {
			return errors.New("normalizer Prepend step has no prepend string")
		}
		t.norm = append(t.norm, normStep{kind: normPrepend, to: *s.Prepend})
	case "Replace":
		from, to, err := s.replace("normalizer")
		if err != nil {
			return err
		}
		t.norm = append(t.norm, normStep{kind: normReplace, from: from, to: to})
	default:
		return fmt.Errorf("unsupported normalizer step %q (supported: Sequence, Prepend, Replace)", s.Type)
	}
	return nil
}

// decoder state while parsing: the steps must come in the order
// Replace*, ByteFallback?, Fuse?, Strip?.
type decoderSpec struct {
	replaces     []normStep
	byteFallback bool
	fuse         bool
	strip        bool
	stage        int // 0 replaces, 1 after ByteFallback, 2 after Fuse, 3 after Strip
}

func (t *Tokenizer) parseDecoder(raw json.RawMessage) error {
	if isNull(raw) {
		return errors.New("unsupported decoder null (the Llama/Mistral decoder Sequence[Replace, ByteFallback, Fuse, Strip] is expected)")
	}
	var d decoderSpec
	if err := t.parseDecoderStep(raw, &d); err != nil {
		return err
	}
	t.decReplaces = d.replaces
	t.decByteFallback = d.byteFallback
	return nil
}

func (t *Tokenizer) parseDecoderStep(raw json.RawMessage, d *decoderSpec) error {
	var s stepJSON
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("decoder: %v", err)
	}
	order := func(stage int) error {
		if d.stage > stage || (d.stage == stage && stage > 0) {
			return fmt.Errorf("unsupported decoder: step %s out of order (expected Replace*, ByteFallback, Fuse, Strip)", s.Type)
		}
		d.stage = stage
		return nil
	}
	switch s.Type {
	case "Sequence":
		for _, sub := range s.Decoders {
			if err := t.parseDecoderStep(sub, d); err != nil {
				return err
			}
		}
	case "Replace":
		if err := order(0); err != nil {
			return err
		}
		from, to, err := s.replace("decoder")
		if err != nil {
			return err
		}
		d.replaces = append(d.replaces, normStep{kind: normReplace, from: from, to: to})
	case "ByteFallback":
		if err := order(1); err != nil {
			return err
		}
		d.byteFallback = true
	case "Fuse":
		if err := order(2); err != nil {
			return err
		}
		d.fuse = true
	case "Strip":
		if err := order(3); err != nil {
			return err
		}
		if !d.fuse {
			return errors.New("unsupported decoder: Strip without a Fuse before it (it would strip every token)")
		}
		if s.Content == nil || utf8.RuneCountInString(*s.Content) != 1 {
			return errors.New("decoder Strip step needs a one-character content")
		}
		if s.Stop != nil && *s.Stop != 0 {
			return fmt.Errorf("unsupported decoder Strip with stop %d (only leading characters can be stripped)", *s.Stop)
		}
		if s.Start != nil {
			if *s.Start < 0 {
				return fmt.Errorf("decoder Strip step has negative start %d", *s.Start)
			}
			t.stripStart = *s.Start
		}
		t.stripRune = *s.Content
	default:
		return fmt.Errorf("unsupported decoder step %q (supported: Sequence, Replace, ByteFallback, Fuse, Strip)", s.Type)
	}
	return nil
}

type postJSON struct {
	Type   string `json:"type"`
	Single []struct {
		SpecialToken *struct {
			ID string `json:"id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID string `json:"id"`
		} `json:"Sequence"`
	} `json:"single"`
	SpecialTokens map[string]struct {
		IDs []int `json:"ids"`
	} `json:"special_tokens"`
}

func (t *Tokenizer) parsePostProcessor(raw json.RawMessage) error {
	t.bos, t.eos = -1, -1
	if !isNull(raw) {
		var p postJSON
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("post_processor: %v", err)
		}
		if p.Type != "TemplateProcessing" {
			return fmt.Errorf("unsupported post_processor %q (only TemplateProcessing or null)", p.Type)
		}
		seen := false
		for _, it := range p.Single {
			if it.Sequence != nil {
				seen = true
				continue
			}
			if it.SpecialToken == nil {
				continue
			}
			st, ok := t.lookupSpecial(p.SpecialTokens, it.SpecialToken.ID)
			if !ok {
				return fmt.Errorf("post_processor template names special token %q that has no single id in special_tokens", it.SpecialToken.ID)
			}
			if !seen && t.bos < 0 {
				t.bos = st
			} else if seen && t.eos < 0 && t.Piece(st) == "</s>" {
				t.eos = st
			}
		}
	}
	if t.bos < 0 {
		id, ok := t.ID("<s>")
		if !ok {
			return errors.New(`no BOS token: the post_processor template has no leading special token and "<s>" is not in the vocabulary`)
		}
		t.bos = id
	}
	if t.eos < 0 {
		id, ok := t.ID("</s>")
		if !ok {
			return errors.New(`no EOS token: "</s>" is not in the vocabulary`)
		}
		t.eos = id
	}
	return nil
}

func (t *Tokenizer) lookupSpecial(m map[string]struct {
	IDs []int `json:"ids"`
}, name string) (int, bool) {
	st, ok := m[name]
	if !ok || len(st.IDs) != 1 || st.IDs[0] < 0 || st.IDs[0] >= len(t.pieces) {
		return 0, false
	}
	return st.IDs[0], true
}

// normalize applies the normalizer to one segment. Prepend steps run only
// with dummyPrefix and, as in the library, only on non-empty text unless
// force is set.
func (t *Tokenizer) normalize(s string, dummyPrefix, force bool) string {
	for _, st := range t.norm {
		switch st.kind {
		case normPrepend:
			if dummyPrefix && (s != "" || force) {
				s = st.to + s
			}
		case normReplace:
			s = strings.ReplaceAll(s, st.from, st.to)
		}
	}
	return s
}

// buildAdded prepares the added-token matchers.
func (t *Tokenizer) buildAdded() {
	var raw, norm []int
	for i := range t.addedTokens {
		a := &t.addedTokens[i]
		if !a.special {
			t.anyNonSpec = true
		}
		if a.normalized {
			// The library matches normalized added tokens by their normalized text.
			a.normContent[0] = t.normalize(a.content, false, false)
			a.normContent[1] = t.normalize(a.content, true, false)
			norm = append(norm, i)
		} else {
			raw = append(raw, i)
		}
	}
	t.rawTrie = t.newMatcher(raw, -1)
	t.normTrie[0] = t.newMatcher(norm, 0)
	t.normTrie[1] = t.newMatcher(norm, 1)
}

// buildPerID fills kinds, text, byteVal and TokenBytes for every id.
func (t *Tokenizer) buildPerID() {
	n := len(t.pieces)
	t.kinds = make([]Kind, n)
	t.text = make([][]byte, n)
	t.byteVal = make([]int16, n)
	t.tokBytes = make([][]byte, n)
	special := make([]bool, n)
	addedNonSpecial := make([]bool, n)
	for _, a := range t.addedTokens {
		if a.special {
			special[a.id] = true
		} else {
			addedNonSpecial[a.id] = true
		}
	}
	// One backing array for all token texts keeps loading cheap.
	total := 0
	for _, p := range t.pieces {
		total += len(p) + 2
	}
	arena := make([]byte, 0, total)
	var singles [256]byte
	for i := range singles {
		singles[i] = byte(i)
	}
	for id, p := range t.pieces {
		s := p
		for _, st := range t.decReplaces {
			if strings.Contains(s, st.from) {
				s = strings.ReplaceAll(s, st.from, st.to)
			}
		}
		start := len(arena)
		arena = append(arena, s...)
		txt := arena[start:len(arena):len(arena)]
		t.text[id] = txt
		t.byteVal[id] = -1
		if t.decByteFallback {
			if b, ok := parseByteToken(s); ok {
				t.byteVal[id] = int16(b)
			}
		}
		switch {
		case special[id]:
			t.kinds[id] = Control
		case t.byteVal[id] >= 0:
			t.kinds[id] = Byte
			b := t.byteVal[id]
			t.tokBytes[id] = singles[b : b+1 : b+1]
		case addedNonSpecial[id]:
			t.kinds[id] = Added
			t.tokBytes[id] = txt
		default:
			t.kinds[id] = Normal
			t.tokBytes[id] = txt
		}
	}
}

// parseByteToken reports whether the decoder's ByteFallback step reads s as
// a byte: exactly like the library, 6 bytes "<0x" hh ">" where hh parses as
// a base-16 u8 (Rust's from_str_radix also accepts a leading '+').
func parseByteToken(s string) (byte, bool) {
	if len(s) != 6 || s[:3] != "<0x" || s[5] != '>' {
		return 0, false
	}
	h := s[3:5]
	if h[0] == '+' {
		v, ok := hexVal(h[1])
		return v, ok
	}
	hi, ok1 := hexVal(h[0])
	lo, ok2 := hexVal(h[1])
	return hi<<4 | lo, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// sortedByLenDesc returns idx sorted by decreasing key length (stable).
func sortedByLenDesc(idx []int, key func(int) string) []int {
	out := append([]int(nil), idx...)
	sort.SliceStable(out, func(i, j int) bool { return len(key(out[i])) > len(key(out[j])) })
	return out
}
