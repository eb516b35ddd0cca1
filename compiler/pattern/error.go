package pattern

import "fmt"

// Error reports a pattern that Search cannot turn into a language: either
// it is not a valid ECMA-262 regular expression in Unicode mode
// (Unsupported is false), or it is valid but uses a feature whose language
// this package cannot compute exactly (Unsupported is true).
type Error struct {
	Pattern     string
	Offset      int // byte offset in Pattern where the problem was found
	Msg         string
	Unsupported bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("pattern %q: %s at offset %d", e.Pattern, e.Msg, e.Offset)
}
