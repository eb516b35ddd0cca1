package pattern

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxRepeat is the largest repetition count a quantifier {n}, {n,} or {n,m}
// may use; larger counts are reported as unsupported ("too large").
const MaxRepeat = 1000

type kind uint8

const (
	kSet    kind = iota // one code point from set
	kEmpty              // the empty string
	kConcat             // subs in order
	kAlt                // any of subs
	kRepeat             // subs[0] between min and max times (max < 0: unbounded)
	kAssert             // a zero-width assertion; lookarounds have subs[0]
)

type assertion uint8

const (
	aStart     assertion = iota // ^
	aEnd                        // $
	aWord                       // \b
	aNotWord                    // \B
	aAhead                      // (?=…)
	aNotAhead                   // (?!…)
	aBehind                     // (?<=…)
	aNotBehind                  // (?<!…)
)

type node struct {
	kind     kind
	set      runeSet
	subs     []*node
	min, max int
	assert   assertion
	pos      int // offset in the pattern, for messages
}

type backref struct {
	num  int    // \N, or 0 for a named reference
	name string // \k<name>
	pos  int
}

type parser struct {
	// reading selects how \s is read (see SearchPortable); negations
	// counts the enclosing negated classes and negative lookarounds.
	reading   reading
	negations int
	src       string
	pos       int
	groups    int
	names     map[string]bool
	paths     map[string][][2]int // the alternatives enclosing each named group
	path      [][2]int            // current: (disjunction id, alternative index) pairs
	disjs     int
	backrefs  []backref
	deferred  []*Error // unsupported features, reported if the pattern is valid
}

type bailout struct{ err *Error }

func (p *parser) fail(pos int, format string, args ...any) {
	panic(bailout{&Error{Pattern: p.src, Offset: pos, Msg: fmt.Sprintf(format, args...)}})
}

// unsupported records a feature this package cannot translate exactly. It
// is reported only once the whole pattern has been found valid, so that a
// syntax error anywhere takes precedence.
func (p *parser) unsupported(pos int, format string, args ...any) {
	p.deferred = append(p.deferred, &Error{Pattern: p.src, Offset: pos, Msg: fmt.Sprintf(format, args...), Unsupported: true})
}

// parse parses src as an ECMA-262 Pattern with the u flag (and no other
// flag), following the grammar of ECMA-262 §22.2.1 without the Annex B
// extensions, which do not apply in Unicode mode.
func parse(src string, rd reading) (n *node, err *Error) {
	if !utf8.ValidString(src) {
		i := 0
		for i < len(src) {
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return nil, &Error{Pattern: src, Offset: i, Msg: "invalid UTF-8"}
	}
	p := &parser{src: src, names: map[string]bool{}, paths: map[string][][2]int{}, reading: rd}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			n, err = nil, b.err
		}
	}()
	n = p.disjunction()
	if p.more() {
		p.fail(p.pos, "unmatched )") // disjunction stops only at ')' or the end
	}
	for _, br := range p.backrefs {
		switch {
		case br.name != "" && !p.names[br.name]:
			p.fail(br.pos, "invalid named reference")
		case br.name == "" && br.num > p.groups:
			p.fail(br.pos, "invalid escape (backreference to a missing group)")
		}
		p.unsupported(br.pos, "unsupported backreference")
	}
	if len(p.deferred) > 0 {
		first := slices.MinFunc(p.deferred, func(a, b *Error) int { return a.Offset - b.Offset })
		return nil, first
	}
	return n, nil
}

func (p *parser) more() bool { return p.pos < len(p.src) }

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) disjunction() *node {
	start := p.pos
	id := p.disjs
	p.disjs++
	p.path = append(p.path, [2]int{id, 0})
	alts := []*node{p.alternative()}
	for p.peek() == '|' {
		p.pos++
		p.path[len(p.path)-1][1]++
		alts = append(alts, p.alternative())
	}
	p.path = p.path[:len(p.path)-1]
	if len(alts) == 1 {
		return alts[0]
	}
	return &node{kind: kAlt, subs: alts, pos: start}
}

func (p *parser) alternative() *node {
	start := p.pos
	var terms []*node
	for p.more() && p.peek() != '|' && p.peek() != ')' {
		terms = append(terms, p.term())
	}
	switch len(terms) {
	case 0:
		return &node{kind: kEmpty, pos: start}
	case 1:
		return terms[0]
	}
	return &node{kind: kConcat, subs: terms, pos: start}
}

func (p *parser) term() *node {
	start := p.pos
	var atom *node
	switch c := p.src[p.pos]; c {
	case '^', '$':
		p.pos++
		a := aStart
		if c == '$' {
			a = aEnd
		}
		return p.assertion(&node{kind: kAssert, assert: a, pos: start})
	case '\\':
		if p.pos+1 < len(p.src) {
			switch p.src[p.pos+1] {
			case 'b', 'B':
				a := aWord
				if p.src[p.pos+1] == 'B' {
					a = aNotWord
				}
				p.pos += 2
				return p.assertion(&node{kind: kAssert, assert: a, pos: start})
			case 'k':
				p.pos += 2
				if p.peek() != '<' {
					p.fail(start, "invalid named reference")
				}
				name := p.groupName()
				p.backrefs = append(p.backrefs, backref{name: name, pos: start})
				atom = &node{kind: kEmpty, pos: start}
			case '1', '2', '3', '4', '5', '6', '7', '8', '9':
				p.pos++
				num := p.number()
				p.backrefs = append(p.backrefs, backref{num: num, pos: start})
				atom = &node{kind: kEmpty, pos: start}
			}
		}
		if atom == nil {
			p.pos++
			cp, set, isSet := p.escape(false, start)
			if !isSet {
				set = single(cp, cp)
			}
			atom = &node{kind: kSet, set: set, pos: start}
		}
	case '(':
		for _, la := range []struct {
			prefix string
			a      assertion
		}{{"(?=", aAhead}, {"(?!", aNotAhead}, {"(?<=", aBehind}, {"(?<!", aNotBehind}} {
			if strings.HasPrefix(p.src[p.pos:], la.prefix) {
				p.pos += len(la.prefix)
				neg := la.a == aNotAhead || la.a == aNotBehind
				if neg {
					p.negations++
				}
				body := p.disjunction()
				if neg {
					p.negations--
				}
				p.closeParen()
				return p.assertion(&node{kind: kAssert, assert: la.a, subs: []*node{body}, pos: start})
			}
		}
		p.pos++
		if p.peek() == '?' {
			p.pos++
			switch {
			case p.peek() == ':':
				p.pos++
			case p.peek() == '<':
				name := p.groupName()
				path := slices.Clone(p.path)
				if prev, ok := p.paths[name]; ok {
					if !exclusive(prev, path) {
						p.fail(start, "duplicate capture group name")
					}
					// ES2025 allows a name twice in different alternatives;
					// earlier editions reject it.
					p.unsupported(start, "unsupported duplicate capture group name %q (valid only since ES2025)", name)
				}
				p.paths[name] = path
				p.names[name] = true
				p.groups++
			default:
				p.modifiers(start)
			}
		} else {
			p.groups++
		}
		atom = p.disjunction()
		p.closeParen()
	case '.':
		p.pos++
		atom = &node{kind: kSet, set: dotSet, pos: start}
	case '[':
		atom = p.class()
	case '*', '+', '?':
		p.fail(start, "nothing to repeat")
	case '{':
		if _, _, ok := p.braces(); ok {
			p.fail(start, "nothing to repeat")
		}
		p.fail(start, "lone quantifier brackets")
	case '}':
		p.fail(start, "lone quantifier brackets")
	case ']':
		p.fail(start, "lone ]")
	default:
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		p.pos += size
		atom = &node{kind: kSet, set: single(r, r), pos: start}
	}
	return p.quantifier(atom)
}

// exclusive reports whether two groups lie in different alternatives of a
// common disjunction, so that they never both participate in a match.
func exclusive(a, b [][2]int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i][0] == b[i][0]
		}
	}
	return false
}

// assertion returns n after checking that no quantifier follows: in Unicode
// mode assertions (lookarounds included) cannot be quantified.
func (p *parser) assertion(n *node) *node {
	switch p.peek() {
	case '*', '+', '?':
		p.fail(p.pos, "nothing to repeat")
	case '{':
		if _, _, ok := p.braces(); ok {
			p.fail(p.pos, "nothing to repeat")
		}
		p.fail(p.pos, "lone quantifier brackets")
	}
	return n
}

func (p *parser) closeParen() {
	if p.peek() != ')' {
		p.fail(p.pos, "missing )")
	}
	p.pos++
}

// modifiers handles "(?" not followed by ":", "<", "=" or "!": the ES2025
// modifiers group (?ims-ims:…) is recognized (and unsupported); anything
// else is a syntax error. p.pos is after "(?".
func (p *parser) modifiers(start int) {
	seen := map[byte]bool{}
	var add, remove int
	minus := false
	for p.more() {
		c := p.peek()
		switch {
		case c == 'i' || c == 'm' || c == 's':
			if seen[c] {
				p.fail(start, "invalid group (repeated modifier)")
			}
			seen[c] = true
			if minus {
				remove++
			} else {
				add++
			}
		case c == '-' && !minus:
			minus = true
		case c == ':':
			if minus && add+remove == 0 {
				p.fail(start, "invalid group")
			}
			if add+remove == 0 {
				p.fail(start, "invalid group")
			}
			p.pos++
			p.unsupported(start, "unsupported modifiers group")
			return
		default:
			p.fail(start, "invalid group")
		}
		p.pos++
	}
	p.fail(start, "invalid group")
}

// quantifier parses an optional quantifier after atom.
func (p *parser) quantifier(atom *node) *node {
	start := p.pos
	min, max := 0, 0
	switch p.peek() {
	case '*':
		min, max = 0, -1
		p.pos++
	case '+':
		min, max = 1, -1
		p.pos++
	case '?':
		min, max = 0, 1
		p.pos++
	case '{':
		var ok bool
		min, max, ok = p.braces()
		if !ok {
			p.fail(start, "incomplete quantifier")
		}
		if max >= 0 && min > max {
			p.fail(start, "numbers out of order in {} quantifier")
		}
		if min > MaxRepeat || max > MaxRepeat {
			p.unsupported(start, "repetition count too large (more than %d)", MaxRepeat)
		}
	default:
		return atom
	}
	if p.peek() == '?' { // lazy: same language
		p.pos++
	}
	switch p.peek() {
	case '*', '+', '?', '{':
		p.fail(p.pos, "nothing to repeat")
	}
	return &node{kind: kRepeat, subs: []*node{atom}, min: min, max: max, pos: start}
}

// braces parses {n}, {n,} or {n,m} at p.pos, advancing past it on success.
// Counts saturate at a value above MaxRepeat.
func (p *parser) braces() (min, max int, ok bool) {
	save := p.pos
	p.pos++ // '{'
	if !isDigit(p.peek()) {
		p.pos = save
		return 0, 0, false
	}
	min = p.number()
	max = min
	if p.peek() == ',' {
		p.pos++
		max = -1
		if isDigit(p.peek()) {
			max = p.number()
		}
	}
	if p.peek() != '}' {
		p.pos = save
		return 0, 0, false
	}
	p.pos++
	return min, max, true
}

// number reads decimal digits, saturating at 1<<30.
func (p *parser) number() int {
	n := 0
	for isDigit(p.peek()) {
		n = min(n*10+int(p.peek()-'0'), 1<<30)
		p.pos++
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// hex reads exactly n hex digits at p.pos.
func (p *parser) hex(n int) (rune, bool) {
	if p.pos+n > len(p.src) {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		d := hexVal(p.src[p.pos+i])
		if d < 0 {
			return 0, false
		}
		v = v*16 + d
	}
	p.pos += n
	return rune(v), true
}

const syntaxChars = `^$\.*+?()[]{}|/`

// escape parses an escape after its backslash (at start); p.pos is after
// the backslash. It returns a code point, or a set for class escapes.
// Backreferences, \k, \b and \B outside classes are handled by term.
func (p *parser) escape(inClass bool, start int) (cp rune, set runeSet, isSet bool) {
	if !p.more() {
		p.fail(start, `\ at end of pattern`)
	}
	c := p.peek()
	p.pos++
	switch c {
	case 'd', 'D', 's', 'S', 'w', 'W':
		switch c | 0x20 {
		case 'd':
			set = digitSet
		case 's':
			set = spaceSet
			// adds: the escape adds strings to the language (\s outside
			// negations, \S inside an odd number of them). SearchPortable
			// takes RE2's smaller \s there, SearchEither where it removes.
			adds := (p.negations%2 == 0) == (c == 's')
			if p.reading == narrow && adds || p.reading == wide && !adds {
				set = goSpaceSet
			}
		case 'w':
			set = wordSet
		}
		if c < 'a' {
			set = set.complement()
		}
		return 0, set, true
	case 'p', 'P':
		set = p.propertyEscape(start)
		if c == 'P' {
			set = set.complement()
		}
		return 0, set, true
	case 'f':
		return '\f', nil, false
	case 'n':
		return '\n', nil, false
	case 'r':
		return '\r', nil, false
	case 't':
		return '\t', nil, false
	case 'v':
		return '\v', nil, false
	case 'c':
		if l := p.peek(); l >= 'a' && l <= 'z' || l >= 'A' && l <= 'Z' {
			p.pos++
			return rune(l) % 32, nil, false
		}
		p.fail(start, `invalid \c escape`)
	case 'x':
		if v, ok := p.hex(2); ok {
			return v, nil, false
		}
		p.fail(start, "invalid hex escape")
	case 'u':
		return p.unicodeEscape(start), nil, false
	case '0':
		if isDigit(p.peek()) {
			p.fail(start, "invalid decimal escape")
		}
		return 0, nil, false
	case 'b':
		if inClass {
			return '\b', nil, false
		}
	case '-':
		if inClass {
			return '-', nil, false
		}
	default:
		if strings.IndexByte(syntaxChars, c) >= 0 {
			return rune(c), nil, false
		}
	}
	if inClass {
		p.fail(start, "invalid class escape")
	}
	p.fail(start, "invalid escape")
	return
}

// unicodeEscape parses \uHHHH (joining an escaped surrogate pair into one
// code point) or \u{H…}; p.pos is after the 'u'. A lone surrogate is
// returned as is: it matches nothing in a UTF-8 string.
func (p *parser) unicodeEscape(start int) rune {
	if p.peek() == '{' {
		p.pos++
		v, digits := 0, 0
		for hexVal(p.peek()) >= 0 {
			v = v*16 + hexVal(p.peek())
			if v > utf8.MaxRune {
				p.fail(start, "invalid Unicode escape")
			}
			digits++
			p.pos++
		}
		if digits == 0 || p.peek() != '}' {
			p.fail(start, "invalid Unicode escape")
		}
		p.pos++
		return rune(v)
	}
	v, ok := p.hex(4)
	if !ok {
		p.fail(start, "invalid Unicode escape")
	}
	if v >= 0xD800 && v <= 0xDBFF && strings.HasPrefix(p.src[p.pos:], `\u`) {
		save := p.pos
		p.pos += 2
		if t, ok := p.hex(4); ok && t >= 0xDC00 && t <= 0xDFFF {
			return 0x10000 + (v-0xD800)<<10 + (t - 0xDC00)
		}
		p.pos = save
	}
	return v
}

// propertyEscape parses {…} after \p or \P.
func (p *parser) propertyEscape(start int) runeSet {
	if p.peek() != '{' {
		p.fail(start, "invalid property name")
	}
	end := strings.IndexByte(p.src[p.pos:], '}')
	if end < 0 {
		p.fail(start, "invalid property name")
	}
	body := p.src[p.pos+1 : p.pos+end]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '=') {
			p.fail(start, "invalid property name")
		}
	}
	p.pos += end + 1
	set, msg, unsupported := property(body)
	if msg != "" {
		if !unsupported {
			p.fail(start, "%s", msg)
		}
		p.unsupported(start, "%s", msg)
		return nil
	}
	return set
}

// class parses a CharacterClass (Unicode mode, not v mode) at p.pos.
func (p *parser) class() *node {
	start := p.pos
	p.pos++
	negate := false
	if p.peek() == '^' {
		negate = true
		p.pos++
		p.negations++
		defer func() { p.negations-- }()
	}
	var rs [][2]rune
	for {
		if !p.more() {
			p.fail(p.pos, "missing ]")
		}
		if p.peek() == ']' {
			p.pos++
			break
		}
		atomStart := p.pos
		lo, loSet, isSet := p.classAtom()
		if p.peek() == '-' && p.pos+1 < len(p.src) && p.src[p.pos+1] != ']' {
			p.pos++
			hi, _, hiIsSet := p.classAtom()
			if isSet || hiIsSet {
				p.fail(atomStart, "invalid character class range")
			}
			if lo > hi {
				p.fail(atomStart, "range out of order in character class")
			}
			rs = append(rs, [2]rune{lo, hi})
			continue
		}
		if isSet {
			rs = append(rs, loSet...)
		} else {
			rs = append(rs, [2]rune{lo, lo})
		}
	}
	set := normalize(rs)
	if negate {
		set = set.complement()
	}
	return &node{kind: kSet, set: set, pos: start}
}

func (p *parser) classAtom() (rune, runeSet, bool) {
	if p.peek() == '\\' {
		start := p.pos
		p.pos++
		return p.escape(true, start)
	}
	r, size := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += size
	return r, nil, false
}

// groupName parses <RegExpIdentifierName> at p.pos and returns the name
// with escapes decoded.
func (p *parser) groupName() string {
	start := p.pos
	p.pos++ // '<'
	var sb strings.Builder
	for {
		if !p.more() {
			p.fail(start, "invalid capture group name")
		}
		if p.peek() == '>' {
			p.pos++
			break
		}
		var r rune
		if p.peek() == '\\' {
			esc := p.pos
			p.pos++
			if p.peek() != 'u' {
				p.fail(esc, "invalid capture group name")
			}
			p.pos++
			r = p.unicodeEscape(esc)
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(p.src[p.pos:])
			p.pos += size
		}
		ok := r == '$' || r == '_'
		if sb.Len() == 0 {
			ok = ok || idStart().has(r)
		} else {
			ok = ok || r == 0x200C || r == 0x200D || idContinue().has(r)
		}
		if !ok {
			p.fail(start, "invalid capture group name")
		}
		sb.WriteRune(r)
	}
	if sb.Len() == 0 {
		p.fail(start, "invalid capture group name")
	}
	return sb.String()
}

func idStart() runeSet {
	return cached("bin=ID_Start", func() runeSet { s, _ := binaryProp("ID_Start"); return s })
}

func idContinue() runeSet {
	return cached("bin=ID_Continue", func() runeSet { s, _ := binaryProp("ID_Continue"); return s })
}
