package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// rawScanner reads the two large members of a tokenizer.json (the vocab
// object and the merges list) without reflection. Its input has already been
// checked for JSON syntax by encoding/json, so it only checks the shape.
type rawScanner struct {
	d []byte
	p int
}

func (s *rawScanner) ws() {
	for s.p < len(s.d) {
		switch s.d[s.p] {
		case ' ', '\t', '\n', '\r':
			s.p++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (s *rawScanner) peek() byte {
	s.ws()
	if s.p >= len(s.d) {
		return 0
	}
	return s.d[s.p]
}

func (s *rawScanner) expect(c byte, what string) error {
	if s.peek() != c {
		return fmt.Errorf("expected %s", what)
	}
	s.p++
	return nil
}

// str reads a JSON string. Without escapes or invalid UTF-8 the result is a
// sub-slice of the input; otherwise encoding/json decodes it (same
// semantics: invalid UTF-8 and lone surrogates become U+FFFD).
func (s *rawScanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, errors.New("expected a string")
	}
	start := s.p
	s.p++
	simple := true
	for s.p < len(s.d) {
		c := s.d[s.p]
		switch {
		case c == '"':
			s.p++
			if simple {
				return s.d[start+1 : s.p-1], nil
			}
			var v string
			if err := json.Unmarshal(s.d[start:s.p], &v); err != nil {
				return nil, err
			}
			return []byte(v), nil
		case c == '\\':
			simple = false
			s.p += 2
		case c < utf8.RuneSelf:
			s.p++
		default:
			r, size := utf8.DecodeRune(s.d[s.p:])
			if r == utf8.RuneError && size == 1 {
				simple = false
			}
			s.p += size
		}
	}
	return nil, errors.New("unterminated string")
}

// integer reads a non-negative JSON integer that fits in 31 bits.
func (s *rawScanner) integer() (int64, error) {
	s.ws()
	start := s.p
	var v int64
	for s.p < len(s.d) && s.d[s.p] >= '0' && s.d[s.p] <= '9' {
		v = v*10 + int64(s.d[s.p]-'0')
		if v >= 1<<31-1 {
			return 0, errors.New("id too large")
		}
		s.p++
	}
	if s.p == start || (s.p < len(s.d) && strings.IndexByte(".eE-", s.d[s.p]) >= 0) {
		end := s.p
		for end < len(s.d) && strings.IndexByte("+-.0123456789eE", s.d[end]) >= 0 {
			end++
		}
		return 0, fmt.Errorf("expected a non-negative integer id, got %s", s.d[start:max(end, start+1)])
	}
	return v, nil
}

// parseVocab reads {"piece": id, ...}. The pieces share one backing string.
func parseVocab(raw []byte) (keys []string, ids []int32, err error) {
	s := &rawScanner{d: raw}
	if err := s.expect('{', "an object"); err != nil {
		return nil, nil, err
	}
	var arena strings.Builder
	arena.Grow(len(raw) / 2)
	var ends []int
	if s.peek() == '}' {
		return nil, nil, nil
	}
	for {
		k, err := s.str()
		if err != nil {
			return nil, nil, err
		}
		if err := s.expect(':', `":"`); err != nil {
			return nil, nil, err
		}
		v, err := s.integer()
		if err != nil {
			return nil, nil, fmt.Errorf("piece %q: %v", k, err)
		}
		arena.Write(k)
		ends = append(ends, arena.Len())
		ids = append(ids, int32(v))
		if s.peek() == ',' {
			s.p++
			continue
		}
		if err := s.expect('}', `"," or "}"`); err != nil {
			return nil, nil, err
		}
		break
	}
	all := arena.String()
	keys = make([]string, len(ends))
	prev := 0
	for i, e := range ends {
		keys[i] = all[prev:e]
		prev = e
	}
	return keys, ids, nil
}

// parseMergeList reads ["a b", ...] or [["a", "b"], ...] and calls f for each
// merge with the two pieces (valid only during the call).
func parseMergeList(raw []byte, f func(i int, a, b []byte) error) error {
	s := &rawScanner{d: raw}
	if err := s.expect('[', "a list"); err != nil {
		return err
	}
	if s.peek() == ']' {
		return nil
	}
	for i := 0; ; i++ {
		var a, b []byte
		switch s.peek() {
		case '"':
			line, err := s.str()
			if err != nil {
				return fmt.Errorf("merges[%d]: %v", i, err)
			}
			sp := strings.IndexByte(string(line), ' ')
			if sp < 0 || strings.IndexByte(string(line[sp+1:]), ' ') >= 0 {
				return fmt.Errorf("merges[%d] = %q: expected two pieces separated by one space", i, line)
			}
			a, b = line[:sp], line[sp+1:]
		case '[':
			s.p++
			n := 0
			for s.peek() != ']' {
				if n > 0 {
					if err := s.expect(',', `","`); err != nil {
						return fmt.Errorf("merges[%d]: %v", i, err)
					}
				}
				p, err := s.str()
				if err != nil {
					return fmt.Errorf("merges[%d]: %v", i, err)
				}
				switch n {
				case 0:
					a = p
				case 1:
					b = p
				}
				n++
			}
			s.p++
			if n != 2 {
				return fmt.Errorf("merges[%d]: expected a pair, got %d strings", i, n)
			}
		default:
			return fmt.Errorf("merges[%d]: expected a \"a b\" string or an [a, b] pair", i)
		}
		if err := f(i, a, b); err != nil {
			return err
		}
		if s.peek() == ',' {
			s.p++
			continue
		}
		return s.expect(']', `"," or "]"`)
	}
}
