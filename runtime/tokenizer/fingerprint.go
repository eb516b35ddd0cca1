package tokenizer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
)

// Fingerprint identifies the tokenizer's behaviour: "sha256:" and the hex
// SHA-256 of a canonical serialization, so it is stable across runs and
// machines and independent of JSON member order and whitespace in the file.
//
// The serialization (integers little-endian, strings as a uint32 length and
// the bytes) is: the tag "schemac tokenizer v1"; the number of ids; for
// every id in order its Kind (one byte), TokenBytes and piece string; the
// BOS, EOS and UNK ids (int32); the number of merges and each merge as the
// two ids (uint32) in rank order; then what else changes encoding or
// decoding: the byte_fallback, fuse_unk and ignore_merges flags (one byte
// each), the normalizer steps (kind byte and strings), the added tokens
// (id, content and the lstrip, rstrip, single_word, normalized flags), and
// the decoder's Strip (string and count).
func (t *Tokenizer) Fingerprint() string {
	t.fpOnce.Do(func() {
		h := sha256.New()
		w := fpWriter{h: h}
		w.str("schemac tokenizer v1")
		w.u32(uint32(len(t.pieces)))
		for id, p := range t.pieces {
			w.byte(byte(t.kinds[id]))
			w.bytes(t.tokBytes[id])
			w.str(p)
		}
		w.u32(uint32(int32(t.bos)))
		w.u32(uint32(int32(t.eos)))
		w.u32(uint32(int32(t.unk)))
		w.u32(uint32(len(t.mergeL)))
		for i := range t.mergeL {
			w.u32(uint32(t.mergeL[i]))
			w.u32(uint32(t.mergeR[i]))
		}
		w.flag(t.byteFallback)
		w.flag(t.fuseUnk)
		w.flag(t.ignoreMerges)
		w.u32(uint32(len(t.norm)))
		for _, st := range t.norm {
			w.byte(byte(st.kind))
			w.str(st.from)
			w.str(st.to)
		}
		w.u32(uint32(len(t.addedTokens)))
		for _, a := range t.addedTokens {
			w.u32(uint32(a.id))
			w.str(a.content)
			w.flag(a.lstrip)
			w.flag(a.rstrip)
			w.flag(a.singleWord)
			w.flag(a.normalized)
		}
		w.str(t.stripRune)
		w.u32(uint32(t.stripStart))
		w.flush()
		t.fp = "sha256:" + hex.EncodeToString(h.Sum(nil))
	})
	return t.fp
}

type fpWriter struct {
	h   hash.Hash
	buf []byte
}

func (w *fpWriter) byte(b byte) { w.buf = append(w.buf, b); w.maybeFlush() }

func (w *fpWriter) flag(b bool) {
	if b {
		w.byte(1)
	} else {
		w.byte(0)
	}
}

func (w *fpWriter) u32(v uint32) { w.buf = binary.LittleEndian.AppendUint32(w.buf, v); w.maybeFlush() }

func (w *fpWriter) bytes(b []byte) {
	w.u32(uint32(len(b)))
	w.buf = append(w.buf, b...)
	w.maybeFlush()
}

func (w *fpWriter) str(s string) { w.u32(uint32(len(s))); w.buf = append(w.buf, s...); w.maybeFlush() }

func (w *fpWriter) maybeFlush() {
	if len(w.buf) >= 1<<15 {
		w.flush()
	}
}

func (w *fpWriter) flush() { w.h.Write(w.buf); w.buf = w.buf[:0] }
