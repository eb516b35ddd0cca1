package canon

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// AppendString appends s as a JSON string the way Python's json.dumps with
// ensure_ascii=False writes it: characters raw, except '"' and '\\' and the
// control characters below U+0020, which use \" \\ \b \f \n \r \t or
// \u00xx (lower-case hex). Bytes of s are copied as they are, so s should
// be valid UTF-8.
func AppendString(buf []byte, s string) []byte {
	return appendString(buf, s)
}

func appendString[S ~string | ~[]byte](buf []byte, s S) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		buf = appendStringByte(buf, s[i])
	}
	return append(buf, '"')
}

// appendStringByte appends one byte of a string's value, escaped where
// AppendString escapes it.
func appendStringByte(buf []byte, c byte) []byte {
	const hex = "0123456789abcdef"
	switch c {
	case '"':
		return append(buf, '\\', '"')
	case '\\':
		return append(buf, '\\', '\\')
	case '\b':
		return append(buf, '\\', 'b')
	case '\f':
		return append(buf, '\\', 'f')
	case '\n':
		return append(buf, '\\', 'n')
	case '\r':
		return append(buf, '\\', 'r')
	case '\t':
		return append(buf, '\\', 't')
	}
	if c < 0x20 {
		return append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
	}
	return append(buf, c)
}

// decodeString reads the JSON string that starts with the quote at
// src[pos], appends its value (escapes decoded) to dst and returns the
// offset after the closing quote. It fails on what the decoder cannot
// write: a raw control character, invalid UTF-8, a bad escape or an
// escaped lone surrogate.
func decodeString(dst, src []byte, pos int) ([]byte, int, error) {
	i := pos + 1
	for {
		// run of bytes that stand for themselves
		j := i
		for j < len(src) {
			c := src[j]
			if c == '"' || c == '\\' || c < 0x20 {
				break
			}
			if c < utf8.RuneSelf {
				j++
				continue
			}
			r, size := utf8.DecodeRune(src[j:])
			if r == utf8.RuneError && size == 1 {
				return dst, j, errorf(j, "invalid UTF-8 in string")
			}
			j += size
		}
		dst = append(dst, src[i:j]...)
		i = j
		if i >= len(src) {
			return dst, i, errorf(i, "unexpected end of input in string")
		}
		switch c := src[i]; {
		case c == '"':
			return dst, i + 1, nil
		case c < 0x20:
			return dst, i, errorf(i, "control character U+%04X in string must be escaped", c)
		}
		// backslash
		if i+1 >= len(src) {
			return dst, i + 1, errorf(i+1, "unexpected end of input in string escape")
		}
		switch e := src[i+1]; e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(src, i+2)
			if !ok {
				return dst, i, errorf(i, `invalid \u escape: want four hex digits`)
			}
			n := 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+7 < len(src) && src[i+6] == '\\' && src[i+7] == 'u' {
					r2, ok = hex4(src, i+8)
				}
				if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
					return dst, i, errorf(i, "lone surrogate %q", src[i:i+6])
				}
				n = 12
			}
			dst = utf8.AppendRune(dst, r)
			i += n
			continue
		default:
			if e >= 0x20 && e < 0x7f {
				return dst, i, errorf(i, `invalid escape "\%c"`, e)
			}
			return dst, i, errorf(i, "invalid escape: backslash before %s", describe(src, i+1))
		}
		i += 2
	}
}

// hex4 reads four hex digits at src[off:].
func hex4(src []byte, off int) (rune, bool) {
	if off < 0 || off+4 > len(src) {
		return 0, false
	}
	var r rune
	for _, c := range src[off : off+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// describe names the input at off for error messages.
func describe(src []byte, off int) string {
	if off >= len(src) {
		return "end of input"
	}
	r, size := utf8.DecodeRune(src[off:])
	if (r == utf8.RuneError && size == 1) || r < 0x20 || r == 0x7f {
		return fmt.Sprintf("byte 0x%02x", src[off])
	}
	return fmt.Sprintf("%q", r)
}
