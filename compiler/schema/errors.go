package schema

import (
	"fmt"
	"strings"
)

// Code classifies an [Error].
type Code int

const (
	// Invalid means the input is not valid: malformed JSON, a schema that
	// does not conform to its metaschema, or a $ref that points nowhere.
	Invalid Code = iota + 1
	// Unsupported means the input is valid but uses something schemac does
	// not implement, such as a $ref to a remote document.
	Unsupported
	// TooLarge means the input, or what would be built from it, exceeds a
	// limit of the compiler.
	TooLarge
	// Internal means a bug or a misuse of the API, not a problem with the
	// input.
	Internal
)

// String returns the word used for the code in error messages:
// "invalid", "unsupported", "too large" or "internal error".
func (c Code) String() string {
	switch c {
	case Invalid:
		return "invalid"
	case Unsupported:
		return "unsupported"
	case TooLarge:
		return "too large"
	case Internal:
		return "internal error"
	}
	return fmt.Sprintf("Code(%d)", int(c))
}

// Error is the error type of this package and of the later compiler stages.
//
// Its message has one of two shapes, depending on Code:
//
//	FILE:LINE:COL: invalid at PTR: MSG           (Invalid, Internal)
//	FILE: unsupported: MSG at PTR                (Unsupported, TooLarge)
//
// where ":LINE:COL" appears only when Line is set, "FILE: " only when File is
// set, and PTR is the JSON pointer Ptr, written "(root)" when it is empty.
// For Unsupported and TooLarge, Msg should name the offending thing, e.g.
// `$ref "http://example.com/x.json"`.
type Error struct {
	Code Code
	// File is the name of the file the error is about ("" if unknown).
	File string
	// Ptr is the RFC 6901 JSON pointer of the offending value inside its
	// document; "" is the document root.
	Ptr string
	// Msg describes the problem.
	Msg string
	// Line and Col give the 1-based position in the file, when known
	// (malformed JSON); zero otherwise. Col counts characters, not bytes.
	Line, Col int
	// Err is the underlying error, if any (for instance the validator's
	// error); it is returned by Unwrap but not included in Error().
	Err error
}

// Error formats the error as described on [Error].
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Col)
	}
	at := e.Ptr
	if at == "" {
		at = "(root)"
	}
	switch e.Code {
	case Unsupported, TooLarge:
		b.WriteString(e.Code.String())
		if e.Msg != "" {
			b.WriteString(": ")
			b.WriteString(e.Msg)
		}
		b.WriteString(" at ")
		b.WriteString(at)
	default:
		b.WriteString(e.Code.String())
		b.WriteString(" at ")
		b.WriteString(at)
		if e.Msg != "" {
			b.WriteString(": ")
			b.WriteString(e.Msg)
		}
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }
