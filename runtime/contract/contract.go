package contract

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/schemac-dev/schemac/runtime/canon"
	"github.com/schemac-dev/schemac/runtime/mask"
)

// Spec describes one generated package: its embedded table blob and how its
// values are laid out. Generated code declares a Spec as a package variable;
// its methods are safe for concurrent use.
type Spec struct {
	// Name names the package in errors, e.g. "userprofile".
	Name string
	// Blob is the embedded table blob (see mask.Load).
	Blob []byte
	// Vocab is the fingerprint of the tokenizer the tables were compiled
	// for.
	Vocab string
	// Layout and Order are how the decoder writes values.
	Layout canon.Layout
	Order  *canon.Order

	once  sync.Once
	table *mask.Table
	err   error
}

// Table loads the embedded tables the first time it is called and returns
// the same table (or error) on every call. The blob is checked (magic,
// format version, checksum, every index) and must name the vocabulary the
// package was generated for.
func (s *Spec) Table() (*mask.Table, error) {
	s.once.Do(func() {
		t, err := mask.Load(s.Blob)
		if err != nil {
			s.err = fmt.Errorf("%s: embedded tables: %w", s.Name, err)
			return
		}
		if t.Vocab != s.Vocab {
			s.err = fmt.Errorf("%s: embedded tables were compiled for vocabulary %s, but the package says %s: regenerate it", s.Name, t.Vocab, s.Vocab)
			return
		}
		s.table = t
	})
	return s.table, s.err
}

// TableFor is Table for a decoder whose tokenizer has the given
// fingerprint: it fails, naming both fingerprints, when the tables were
// compiled for another vocabulary.
func (s *Spec) TableFor(vocabFingerprint string) (*mask.Table, error) {
	t, err := s.Table()
	if err != nil {
		return nil, err
	}
	if err := t.CheckVocab(vocabFingerprint); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return t, nil
}

// Text returns v (a value of a generated type) laid out exactly as the
// decoder writes it: encoding/json's output re-spelled by canon.Format with
// the package's layout and member order.
func (s *Spec) Text(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	text, err := canon.Format(nil, b, s.Layout, s.Order)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return text, nil
}

// Check reports whether the decoder could have written v: it runs Text(v)
// through the table's byte automaton. The error is an *Error whose pointer
// names the innermost value where the text leaves the schema's language.
func (s *Spec) Check(v any) error {
	t, err := s.Table()
	if err != nil {
		return err
	}
	text, err := s.Text(v)
	if err != nil {
		return err
	}
	if ok, at := t.Match(text); !ok {
		msg := "value not allowed by the schema"
		if at >= len(text) {
			msg = "value is incomplete for the schema (a required member or item is missing)"
		}
		return &Error{Ptr: canon.PointerAt(text, at), Msg: msg + fmt.Sprintf(" (byte %d of its %s text)", at, s.Layout)}
	}
	return nil
}
