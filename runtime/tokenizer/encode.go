package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Encode turns text into token ids.
//
// With Default it gives the ids of Hugging Face's tokenizer(text) (BOS, then
// the dummy-prefix "▁", special-token text recognised). With Continuation the
// concatenated TokenBytes of the result are exactly the bytes of text, even
// for invalid UTF-8 (each invalid byte becomes its <0xNN> token when
// byte_fallback is on) and for text containing "▁" (see
// EncodeOptions.ExactBytes).
func (t *Tokenizer) Encode(text string, opt EncodeOptions) []int {
	sc, _ := t.pool.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	out := make([]int, 0, len(text)/3+4)
	if opt.AddBOS {
		out = append(out, t.bos)
	}
	if !t.rawTrie.active(opt.ParseSpecial) {
		out = t.encodeSegment(text, opt, sc, out)
	} else {
		sc.splits1 = t.findMatches(text, &t.rawTrie, opt.ParseSpecial, sc.splits1[:0])
		for _, sp := range sc.splits1 {
			if sp.id >= 0 {
				out = append(out, int(sp.id))
			} else {
				out = t.encodeSegment(text[sp.start:sp.end], opt, sc, out)
			}
		}
	}
	if opt.AddEOS {
		out = append(out, t.eos)
	}
	t.pool.Put(sc)
	return out
}

// encodeSegment normalizes one segment between added tokens, splits out
// normalized added tokens and runs BPE on the rest.
func (t *Tokenizer) encodeSegment(seg string, opt EncodeOptions, sc *scratch, out []int) []int {
	if seg == "" {
		return out
	}
	if opt.ExactBytes && t.byteFallback && len(t.decReplaces) > 0 {
		if i, _ := t.nextLiteral(seg); i >= 0 {
			return t.encodeExact(seg, opt, sc, out)
		}
	}
	return t.encodeNormalized(t.normalize(seg, opt.DummyPrefix, false), opt, sc, out)
}

// nextLiteral finds the first occurrence in s of text the decoder would
// rewrite (a literal "▁"), returning its index and the text, or -1.
func (t *Tokenizer) nextLiteral(s string) (int, string) {
	at, lit := -1, ""
	for _, st := range t.decReplaces {
		if i := strings.Index(s, st.from); i >= 0 && (at < 0 || i < at || (i == at && len(st.from) > len(lit))) {
			at, lit = i, st.from
		}
	}
	return at, lit
}

// encodeExact encodes a segment that contains literal "▁": the text between
// them is encoded as usual, each literal "▁" as its byte tokens, so that
// TokenBytes give back the text.
func (t *Tokenizer) encodeExact(seg string, opt EncodeOptions, sc *scratch, out []int) []int {
	for first := true; ; first = false {
		i, lit := t.nextLiteral(seg)
		sub := seg
		if i >= 0 {
			sub = seg[:i]
		}
		// The dummy prefix belongs to the (non-empty) segment, so it is
		// added even if the first part is empty.
		out = t.encodeNormalized(t.normalize(sub, opt.DummyPrefix && first, first), opt, sc, out)
		if i < 0 {
			return out
		}
		for k := 0; k < len(lit); k++ {
			out = append(out, int(t.byteIDs[lit[k]]))
		}
		seg = seg[i+len(lit):]
		if seg == "" {
			return out
		}
	}
}

// encodeNormalized splits a normalized segment at normalized added tokens
// and runs BPE on the rest.
func (t *Tokenizer) encodeNormalized(s string, opt EncodeOptions, sc *scratch, out []int) []int {
	if s == "" {
		return out
	}
	m := &t.normTrie[0]
	if opt.DummyPrefix {
		m = &t.normTrie[1]
	}
	if !m.active(opt.ParseSpecial) {
		return t.bpe(s, sc, out)
	}
	sc.splits2 = t.findMatches(s, m, opt.ParseSpecial, sc.splits2[:0])
	for _, sp := range sc.splits2 {
		if sp.id >= 0 {
			out = append(out, int(sp.id))
		} else {
			out = t.bpe(s[sp.start:sp.end], sc, out)
		}
	}
	return out
}

type scratch struct {
	ids, prev, next []int32
	cut             []bool // cut[i]: no merge can ever join symbol i-1 and symbol i
	heap            []mergeEntry
	splits1         []split
	splits2         []split
	whole           bool // never cut the word (for tests of the cutting shortcut)
}

// split is a piece of text between added tokens (id -1) or an added token.
type split struct {
	id         int32
	start, end int
}

// matcher finds added tokens in text, leftmost-longest like the library's
// Aho-Corasick automaton.
type matcher struct {
	byFirst       map[byte][]int // token indices by first byte of the matched text, longest first
	first         [256]bool
	textOf        int // -1: content; 0, 1: normContent index
	anyNonSpecial bool
}

func (t *Tokenizer) newMatcher(idx []int, textOf int) matcher {
	m := matcher{textOf: textOf, byFirst: map[byte][]int{}}
	key := func(i int) string { return m.text(&t.addedTokens[i]) }
	for _, i := range sortedByLenDesc(idx, key) {
		k := key(i)
		if k == "" {
			continue
		}
		m.first[k[0]] = true
		m.byFirst[k[0]] = append(m.byFirst[k[0]], i)
		if !t.addedTokens[i].special {
			m.anyNonSpecial = true
		}
	}
	return m
}

func (m *matcher) text(a *addedToken) string {
	if m.textOf < 0 {
		return a.content
	}
	return a.normContent[m.textOf]
}

// active reports whether matching can produce any token.
func (m *matcher) active(parseSpecial bool) bool {
	if len(m.byFirst) == 0 {
		return false
	}
	return parseSpecial || m.anyNonSpecial
}

// findMatches mirrors AddedVocabulary::find_matches: every leftmost-longest
// match is considered in turn; special tokens are skipped (their text stays
// in the surrounding segment) unless parseSpecial; single_word, lstrip and
// rstrip are applied as the library does.
func (t *Tokenizer) findMatches(s string, m *matcher, parseSpecial bool, dst []split) []split {
	startOffset := 0
	for i := 0; i < len(s); {
		// Next leftmost-longest match at or after i.
		tok, at := -1, -1
		for j := i; j < len(s) && tok < 0; j++ {
			if !m.first[s[j]] {
				continue
			}
			for _, k := range m.byFirst[s[j]] {
				if strings.HasPrefix(s[j:], m.text(&t.addedTokens[k])) {
					tok, at = k, j
					break
				}
			}
		}
		if tok < 0 {
			break
		}
		a := &t.addedTokens[tok]
		start, stop := at, at+len(m.text(a))
		i = stop
		if a.special && !parseSpecial {
			continue
		}
		if a.singleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if a.lstrip {
			start = max(len(strings.TrimRightFunc(s[:start], unicode.IsSpace)), startOffset)
		}
		if a.rstrip {
			stop = len(s) - len(strings.TrimLeftFunc(s[stop:], unicode.IsSpace))
		}
		if start > startOffset {
			dst = append(dst, split{id: -1, start: startOffset, end: start})
		}
		dst = append(dst, split{id: a.id, start: start, end: stop})
		startOffset = stop
	}
	if startOffset < len(s) {
		dst = append(dst, split{id: -1, start: startOffset, end: len(s)})
	}
	return dst
}

// isWordRune is the regex class \w of the Rust regex crate (Unicode).
func isWordRune(r rune) bool {
	return r == '_' || unicode.In(r, unicode.L, unicode.M, unicode.Nd, unicode.Pc, unicode.Nl,
		unicode.Other_Alphabetic, unicode.Join_Control)
}

func endsWithWord(s string) bool {
	r, size := utf8.DecodeLastRuneInString(s)
	return size > 0 && isWordRune(r)
}

func startsWithWord(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	return size > 0 && isWordRune(r)
}

// mergeEntry is a candidate merge in the heap: key is rank<<32 | position, so
// the smallest key is the lowest rank, then the leftmost position. l and r
// are the symbol ids the entry was made for.
type mergeEntry struct {
	key         uint64
	newID, l, r int32
}

// mayJoin reports whether some merge joins a piece ending in rune x to a
// piece starting with rune y.
func (t *Tokenizer) mayJoin(x, y rune) bool {
	if xi, yi := fastRune(x), fastRune(y); xi >= 0 && yi >= 0 {
		return t.pairFast[xi*129+yi]
	}
	_, ok := t.pairSlow.get(runePairKey(x, y))
	return ok
}

// bpe encodes one word (a normalized segment) and appends its ids to out.
func (t *Tokenizer) bpe(s string, sc *scratch, out []int) []int {
	if s == "" {
		return out
	}
	if t.ignoreMerges {
		if id, ok := t.vocab[s]; ok {
			return append(out, int(id))
		}
	}
	// One symbol per character, as BPE::merge_word.
	ids := sc.ids[:0]
	cut := sc.cut[:0]
	prevRune := rune(-1) // rune of the previous symbol, -1 if it is not a plain character
	pendingUnk := false
	for i := 0; i < len(s); {
		c := s[i]
		r, size := rune(c), 1
		id := int32(-1)
		if c < utf8.RuneSelf {
			id = t.ascii[c]
		} else {
			r, size = utf8.DecodeRuneInString(s[i:])
			if size > 1 {
				if v, ok := t.runes.get(uint64(r)); ok {
					id = int32(v)
				}
			} else {
				r = -1 // invalid UTF-8: a lone byte
			}
		}
		if id >= 0 {
			if pendingUnk {
				ids = append(ids, int32(t.unk))
				cut = append(cut, false)
				pendingUnk = false
			}
			ids = append(ids, id)
			cut = append(cut, prevRune >= 0 && !sc.whole && !t.mayJoin(prevRune, r))
			prevRune = r
		} else if t.byteFallback {
			// All 256 byte pieces exist (checked at load), so no unk can be pending.
			for k := 0; k < size; k++ {
				ids = append(ids, t.byteIDs[s[i+k]])
				cut = append(cut, false)
			}
			prevRune = -1
		} else if t.unk >= 0 {
			if pendingUnk && !t.fuseUnk {
				ids = append(ids, int32(t.unk))
				cut = append(cut, false)
			}
			pendingUnk = true
			prevRune = -1
		} // else: no unk_token; the library drops the character.
		i += size
	}
	if pendingUnk {
		ids = append(ids, int32(t.unk))
		cut = append(cut, false)
	}
	n := len(ids)
	if cap(sc.prev) < n {
		sc.prev = make([]int32, n, n+n/2)
		sc.next = make([]int32, n, n+n/2)
	}
	sc.ids, sc.cut = ids, cut
	prev, next := sc.prev[:n], sc.next[:n]
	lo := 0
	for hi := 1; hi <= n; hi++ {
		if hi < n && !cut[hi] {
			continue
		}
		if hi-lo == 1 {
			out = append(out, int(ids[lo]))
		} else {
			out = t.mergeRange(ids, prev, next, lo, hi, sc, out)
		}
		lo = hi
	}
	return out
}

// mergeRange runs Word::merge_all on symbols lo..hi-1 and appends the
// resulting ids to out. Positions are absolute indices, so ties break
// leftmost exactly as over the whole word.
func (t *Tokenizer) mergeRange(ids, prev, next []int32, lo, hi int, sc *scratch, out []int) []int {
	if hi-lo == 2 {
		// Fast path: a single possible merge.
		if m, ok := t.merges.get(pairKey(ids[lo], ids[lo+1])); ok {
			return append(out, int(int32(uint32(m))))
		}
		return append(out, int(ids[lo]), int(ids[lo+1]))
	}
	h := sc.heap[:0]
	for k := lo; k < hi; k++ {
		prev[k] = int32(k - 1)
		next[k] = int32(k + 1)
		if k+1 < hi {
			if m, ok := t.merges.get(pairKey(ids[k], ids[k+1])); ok {
				h = append(h, mergeEntry{key: m&^0xFFFFFFFF | uint64(k), newID: int32(uint32(m)), l: ids[k], r: ids[k+1]})
			}
		}
	}
	prev[lo] = -1
	next[hi-1] = -1
	for i := len(h)/2 - 1; i >= 0; i-- {
		siftDown(h, i)
	}
	for len(h) > 0 {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		if last > 0 {
			siftDown(h, 0)
		}
		pos := int32(uint32(top.key))
		if ids[pos] < 0 {
			continue // removed
		}
		nx := next[pos]
		if nx < 0 {
			continue // last symbol
		}
		if ids[pos] != top.l || ids[nx] != top.r {
			// Stale entry: the library only checks that the current pair
			// merges into the same new id.
			m, ok := t.merges.get(pairKey(ids[pos], ids[nx]))
			if !ok || int32(uint32(m)) != top.newID {
				continue
			}
		}
		ids[pos] = top.newID
		ids[nx] = -1
		nn := next[nx]
		next[pos] = nn
		if nn >= 0 {
			prev[nn] = pos
		}
		if p := prev[pos]; p >= 0 {
			if m, ok := t.merges.get(pairKey(ids[p], ids[pos])); ok {
				h = heapPush(h, mergeEntry{key: m&^0xFFFFFFFF | uint64(p), newID: int32(uint32(m)), l: ids[p], r: ids[pos]})
			}
		}
		if nn >= 0 {
			if m, ok := t.merges.get(pairKey(ids[pos], ids[nn])); ok {
				h = heapPush(h, mergeEntry{key: m&^0xFFFFFFFF | uint64(pos), newID: int32(uint32(m)), l: ids[pos], r: ids[nn]})
			}
		}
	}
	sc.heap = h
	for k := int32(lo); k >= 0; k = next[k] {
		out = append(out, int(ids[k]))
	}
	return out
}

func siftDown(h []mergeEntry, i int) {
	e := h[i]
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].key < h[c].key {
			c++
		}
		if e.key <= h[c].key {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = e
}

func heapPush(h []mergeEntry, e mergeEntry) []mergeEntry {
	h = append(h, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h[p].key <= e.key {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
	return h
}
