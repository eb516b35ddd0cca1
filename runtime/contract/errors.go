package contract

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a value that does not satisfy its schema, or JSON that does not
// decode into the generated type. Ptr is the RFC 6901 JSON pointer of the
// offending value ("" for the root).
type Error struct {
	Ptr string
	Msg string
}

func (e *Error) Error() string {
	if e.Ptr == "" {
		return "at the root: " + e.Msg
	}
	return e.Ptr + ": " + e.Msg
}

// Errorf returns an *Error at ptr.
func Errorf(ptr, format string, args ...any) *Error {
	return &Error{Ptr: ptr, Msg: fmt.Sprintf(format, args...)}
}

// Escape escapes a member name as one RFC 6901 reference token.
func Escape(name string) string {
	if !strings.ContainsAny(name, "~/") {
		return name
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
}

// at prefixes err's pointer with token (already escaped): errors from a
// nested value get the path of the member or item that holds them.
func at(token string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return &Error{Ptr: "/" + token + e.Ptr, Msg: e.Msg}
	}
	return &Error{Ptr: "/" + token, Msg: plain(err)}
}

// plain strips the "json: " prefix of encoding/json's messages.
func plain(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}
