package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

// Member describes one declared member of a generated struct for Members.
type Member struct {
	Name string
	// Required members must be present.
	Required bool
	// Nullable members may be JSON null (their Go type is a pointer).
	Nullable bool
}

// Members splits the JSON object b into its members for a generated
// UnmarshalJSON. It fails when b is not an object, when a required member
// is missing, when a member that may not be null is null, when a name
// occurs twice, and, if closed (the schema admits no undeclared members),
// when a member is not declared.
func Members(b []byte, ms []Member, closed bool) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, &Error{Msg: plain(err)}
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &Error{Msg: "want an object, got " + describe(tok)}
	}
	out := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &Error{Msg: plain(err)}
		}
		name := tok.(string) // object keys are always strings
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &Error{Ptr: "/" + Escape(name), Msg: plain(err)}
		}
		if _, dup := out[name]; dup {
			return nil, &Error{Ptr: "/" + Escape(name), Msg: "member occurs twice"}
		}
		out[name] = raw
	}
	known := make(map[string]bool, len(ms))
	for _, m := range ms {
		known[m.Name] = true
		raw, ok := out[m.Name]
		switch {
		case !ok && m.Required:
			return nil, &Error{Msg: "missing required member " + strconv.Quote(m.Name)}
		case ok && !m.Nullable && string(raw) == "null":
			return nil, &Error{Ptr: "/" + Escape(m.Name), Msg: "null is not allowed here"}
		}
	}
	if closed {
		for name := range out {
			if !known[name] {
				return nil, &Error{Ptr: "/" + Escape(name), Msg: "member not allowed by the schema (the object is closed)"}
			}
		}
	}
	return out, nil
}

func describe(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
		return string(t)
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "something else"
}

// Decode decodes the member value raw into dst; errors get the member's
// name in their pointer.
func Decode[T any](raw json.RawMessage, name string, dst *T) error {
	return at(Escape(name), json.Unmarshal(raw, dst))
}

// DecodeList decodes the JSON array raw, the value of member name, into
// dst item by item, so that an error names the item's index.
func DecodeList[T any](raw json.RawMessage, name string, dst *[]T) error {
	if string(raw) == "null" {
		*dst = nil
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return at(Escape(name), err)
	}
	out := make([]T, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it, &out[i]); err != nil {
			return at(Escape(name), at(strconv.Itoa(i), err))
		}
	}
	*dst = out
	return nil
}

// Unmarshal decodes one JSON value b into dst: nothing but whitespace may
// follow the value, and every error is an *Error.
func Unmarshal(b []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(dst); err != nil {
		var e *Error
		var syn *json.SyntaxError
		switch {
		case errors.As(err, &e):
			return e
		case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return &Error{Msg: "invalid JSON: " + plain(err)}
		}
		return &Error{Msg: plain(err)}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &Error{Msg: "data after the JSON value"}
	}
	return nil
}

// Try decodes b into a new T and runs check on it (a generated type's
// cheap checks): it is how a generated union tries one alternative.
func Try[T any](b []byte, check func(*T, string) error) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, &Error{Msg: plain(err)}
	}
	if err := check(v, ""); err != nil {
		return nil, err
	}
	return v, nil
}

// NoAlternative is the error of a generated union that no alternative
// fits; first is why the first alternative did not.
func NoAlternative(first error) error {
	msg := "fits none of the alternatives"
	var e *Error
	if errors.As(first, &e) {
		return &Error{Ptr: e.Ptr, Msg: msg + "; the first: " + e.Msg}
	}
	if first != nil {
		msg += "; the first: " + first.Error()
	}
	return &Error{Msg: msg}
}
