package schema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the type of a JSON value.
type Kind uint8

// The kinds of JSON values.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

// String returns the JSON name of the kind: "null", "boolean", "number",
// "string", "array" or "object".
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Number:
		return "number"
	case String:
		return "string"
	case Array:
		return "array"
	case Object:
		return "object"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Value is a JSON value that keeps the order of object members and the text
// of number literals. Only the fields that belong to Kind are meaningful.
type Value struct {
	Kind Kind
	// Bool is the value of a Bool.
	Bool bool
	// Num is the literal of a Number exactly as written, e.g. "1.0", "1e2",
	// "-0".
	Num string
	// Str is the (unescaped) value of a String.
	Str string
	// Items are the elements of an Array.
	Items []*Value
	// Members are the members of an Object, in document order. Names are
	// unique.
	Members []Member
	// Ptr is the RFC 6901 JSON pointer of this value inside its document,
	// escaped ("~0" for "~", "~1" for "/"); "" for the root.
	Ptr string
}

// Member is one name/value pair of a JSON object.
type Member struct {
	Key   string
	Value *Value
}

// Get returns the value of the member named key, or nil if v is nil, is not
// an object or has no such member.
func (v *Value) Get(key string) *Value {
	if v == nil || v.Kind != Object {
		return nil
	}
	for i := range v.Members {
		if v.Members[i].Key == key {
			return v.Members[i].Value
		}
	}
	return nil
}

// Interface returns v as a plain Go value, as encoding/json with UseNumber
// would decode it: nil, bool, json.Number, string, []any or map[string]any.
// It is meant for handing the value to other libraries; member order is lost.
func (v *Value) Interface() any {
	if v == nil {
		return nil
	}
	switch v.Kind {
	case Bool:
		return v.Bool
	case Number:
		return json.Number(v.Num)
	case String:
		return v.Str
	case Array:
		a := make([]any, len(v.Items))
		for i, it := range v.Items {
			a[i] = it.Interface()
		}
		return a
	case Object:
		m := make(map[string]any, len(v.Members))
		for _, mb := range v.Members {
			m[mb.Key] = mb.Value.Interface()
		}
		return m
	}
	return nil
}

// Equal reports whether v and w are equal JSON values: numbers are compared
// by mathematical value (1, 1.0, 1e0 and 10e-1 are equal, and so are 0 and
// -0), objects irrespective of member order, arrays element by element. Ptr is
// ignored. Two nil values are equal; nil is not equal to a JSON null.
func (v *Value) Equal(w *Value) bool {
	if v == nil || w == nil {
		return v == w
	}
	if v.Kind != w.Kind {
		return false
	}
	switch v.Kind {
	case Null:
		return true
	case Bool:
		return v.Bool == w.Bool
	case Number:
		return numEqual(v.Num, w.Num)
	case String:
		return v.Str == w.Str
	case Array:
		if len(v.Items) != len(w.Items) {
			return false
		}
		for i := range v.Items {
			if !v.Items[i].Equal(w.Items[i]) {
				return false
			}
		}
		return true
	case Object:
		if len(v.Members) != len(w.Members) {
			return false
		}
		if len(v.Members) <= 8 {
			for _, m := range v.Members {
				if !m.Value.Equal(w.Get(m.Key)) {
					return false
				}
			}
			return true
		}
		idx := make(map[string]*Value, len(w.Members))
		for _, m := range w.Members {
			idx[m.Key] = m.Value
		}
		for _, m := range v.Members {
			if !m.Value.Equal(idx[m.Key]) {
				return false
			}
		}
		return true
	}
	return false
}

// MarshalJSON encodes v as compact JSON, keeping member order and number
// literals as written.
func (v *Value) MarshalJSON() ([]byte, error) {
	return v.appendJSON(nil), nil
}

func (v *Value) appendJSON(b []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	switch v.Kind {
	case Bool:
		return strconv.AppendBool(b, v.Bool)
	case Number:
		return append(b, v.Num...)
	case String:
		return appendString(b, v.Str)
	case Array:
		b = append(b, '[')
		for i, it := range v.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = it.appendJSON(b)
		}
		return append(b, ']')
	case Object:
		b = append(b, '{')
		for i, m := range v.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.Key)
			b = append(b, ':')
			b = m.Value.appendJSON(b)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// escapeToken escapes one reference token of a JSON pointer (RFC 6901).
func escapeToken(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// unescapeToken undoes escapeToken; ok is false for a "~" not followed by
// "0" or "1".
func unescapeToken(tok string) (string, bool) {
	if !strings.Contains(tok, "~") {
		return tok, true
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		if tok[i] != '~' {
			b.WriteByte(tok[i])
			continue
		}
		if i+1 >= len(tok) {
			return "", false
		}
		switch tok[i+1] {
		case '0':
			b.WriteByte('~')
		case '1':
			b.WriteByte('/')
		default:
			return "", false
		}
		i++
	}
	return b.String(), true
}

// clone deep-copies v, giving the copy and its descendants pointers rooted
// at ptr.
func (v *Value) clone(ptr string) *Value {
	c := &Value{Kind: v.Kind, Bool: v.Bool, Num: v.Num, Str: v.Str, Ptr: ptr}
	if v.Items != nil {
		c.Items = make([]*Value, len(v.Items))
		for i, it := range v.Items {
			c.Items[i] = it.clone(ptr + "/" + strconv.Itoa(i))
		}
	}
	if v.Members != nil {
		c.Members = make([]Member, len(v.Members))
		for i, m := range v.Members {
			c.Members[i] = Member{m.Key, m.Value.clone(ptr + "/" + escapeToken(m.Key))}
		}
	}
	return c
}

// decimal is a number literal in normalised form: 0.digits × 10^exp, with no
// leading or trailing zeros in digits; zero has digits == "".
type decimal struct {
	neg    bool
	digits string
	exp    *big.Int
}

// parseDecimal normalises a JSON number literal. It works on the text, so
// it is exact and cheap even for literals like 1e999999999 (which big.Rat
// would try to expand).
func parseDecimal(lit string) (decimal, bool) {
	var d decimal
	s := lit
	if strings.HasPrefix(s, "-") {
		d.neg = true
		s = s[1:]
	}
	mant, expStr := s, ""
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, expStr = s[:i], s[i+1:]
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" || !allDigits(intPart) || !allDigits(frac) {
		return d, false
	}
	e := new(big.Int)
	if expStr != "" {
		if _, ok := e.SetString(expStr, 10); !ok {
			return d, false
		}
	}
	digits := intPart + frac
	e.Add(e, big.NewInt(int64(len(intPart))))
	lead := len(digits) - len(strings.TrimLeft(digits, "0"))
	digits = strings.TrimRight(digits[lead:], "0")
	if digits == "" {
		return decimal{digits: "", exp: new(big.Int)}, true
	}
	e.Sub(e, big.NewInt(int64(lead)))
	d.digits, d.exp = digits, e
	return d, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func numEqual(a, b string) bool {
	if a == b {
		return true
	}
	da, okA := parseDecimal(a)
	db, okB := parseDecimal(b)
	if !okA || !okB {
		return false
	}
	if da.digits == "" || db.digits == "" {
		return da.digits == db.digits
	}
	return da.neg == db.neg && da.digits == db.digits && da.exp.Cmp(db.exp) == 0
}
