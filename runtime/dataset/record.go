package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Record is one line of a data set file (JSONL, one JSON object a line).
type Record struct {
	ID       int    `json:"id"`
	Split    Split  `json:"split"`
	Template string `json:"template"`
	// Input is the text the prompt quotes.
	Input string `json:"input"`
	// Prompt ends with templates.Cue; Completion is the JSON value as the
	// decoder writes it; Text is Prompt + Completion, the field SFT trainers
	// read. None contains an EOS string: the trainer appends the EOS token.
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
	Text       string `json:"text"`
}

// MarshalLine writes r as one JSON line (with its newline), characters
// unescaped (no \u003c for "<", UTF-8 as is).
func (r Record) MarshalLine() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		panic("dataset: " + err.Error()) // strings and an int: cannot fail
	}
	return b.Bytes()
}

// LineError is a bad line of a data set file.
type LineError struct {
	Line int // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Read reads a data set file. The first malformed line (not a JSON object,
// unknown fields, empty prompt or completion, text not prompt + completion)
// is returned as a *LineError; blank lines are skipped.
func Read(rd io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var r Record
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return out, &LineError{line, err}
		}
		if dec.More() {
			return out, &LineError{line, errors.New("more than one JSON value")}
		}
		if err := r.check(); err != nil {
			return out, &LineError{line, err}
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

func (r *Record) check() error {
	switch {
	case r.Prompt == "" || r.Completion == "":
		return errors.New("empty prompt or completion")
	case r.Text != r.Prompt+r.Completion:
		return errors.New("text is not prompt + completion")
	case r.Split != Train && r.Split != Validation && r.Split != Test:
		return fmt.Errorf("unknown split %q", r.Split)
	}
	return nil
}
