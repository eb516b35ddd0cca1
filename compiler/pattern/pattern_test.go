package pattern

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/schemac-dev/schemac/compiler/rx"
)

// compile runs Search and compiles the result.
func compile(t testing.TB, p string) *rx.DFA {
	t.Helper()
	b := rx.NewBuilder()
	e, err := Search(b, p)
	if err != nil {
		t.Fatalf("Search(%q): %v", p, err)
	}
	d, err := b.Compile(e, rx.Options{})
	if err != nil {
		t.Fatalf("Compile(%q): %v", p, err)
	}
	return d
}

// reDot is ECMAScript's "." in RE2 syntax.
const reDot = `[^\n\r\x{2028}\x{2029}]`

// TestAgainstRE2 compares Search with Go's regexp on patterns where the two
// dialects agree (with "." spelled out for RE2: RE2's excludes only \n).
// Go's regexp.MatchString also searches unanchored, and without (?m) its ^
// and $ match only at the ends of the text, as in ECMAScript without m.
func TestAgainstRE2(t *testing.T) {
	cases := []struct{ ecma, re2 string }{
		{`(^a|b)c`, ``}, {`a$|^b`, ``}, {`^$`, ``}, {`x*`, ``}, {`^(ab){2,3}$`, ``}, {`[^a-c]+`, ``},
		{`a|`, ``}, {`()`, ``}, {`^[^a-c]+$`, ``}, {`abc`, ``}, {`^abc`, ``}, {`abc$`, ``}, {`a.c`, `a` + reDot + `c`},
		{`^.$`, `^` + reDot + `$`}, {`^.*$`, `^` + reDot + `*$`}, {`^.{2,3}$`, `^` + reDot + `{2,3}$`},
		{`\d+`, ``}, {`^\d{2}$`, ``}, {`\w\d`, ``}, {`^\w*$`, ``}, {`^\W+$`, ``}, {`^\D$`, ``},
		{`(a|b)*abb`, ``}, {`^(a|b)*abb$`, ``}, {`a{2,4}`, ``}, {`^a{2,4}$`, ``}, {`^(ab|a)(bc|c)$`, ``},
		{`^[a-c]{3}$`, ``}, {`^[^a]*$`, ``}, {`a+?b`, ``}, {`^(?:ab)+$`, ``}, {`^(a|)+b$`, ``},
		{`^(a|b$)c?$`, ``}, {`^a*$|^b+$`, ``}, {`(^|x)a`, ``}, {`a($|x)`, ``}, {`^(^a|b)+$`, ``},
		{`(a$|b)+`, ``}, {`[é中]+`, ``}, {`😀+`, ``}, {`^[😀-😂é]$`, ``}, {`^(?:a|^b)*$`, ``}, {`(?:$|a)b`, ``},
		{`^$|a`, ``}, {`\n$`, ``}, {`^\r?\n`, ``}, {`[\n\r]{2}`, ``}, {`^(?:a?b?){2}$`, ``}, {`^[\d\w]+$`, ``},
		{`^(?:[^\d]|1)+$`, ``}, {"^\u2028", ``}, {`^.(?:a|é).$`, `^` + reDot + `(?:a|é)` + reDot + `$`},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range cases {
		re2 := tc.re2
		if re2 == "" {
			re2 = tc.ecma
		}
		re := regexp.MustCompile(re2)
		d := compile(t, tc.ecma)
		// the alphabet: the pattern's letters, digits and the awkward ones
		pool := []rune{'0', '7', '\n', '\r', 'é', '中', '😀', '😂', 0x2028, ' '}
		for _, c := range tc.ecma {
			if unicode.IsLetter(c) || c > 0x7F {
				pool = append(pool, c, c)
			}
		}
		for k := 0; k < 4000; k++ {
			var sb strings.Builder
			for n := r.IntN(8); n > 0; n-- {
				sb.WriteRune(pool[r.IntN(len(pool))])
			}
			s := sb.String()
			if got, want := d.Matches([]byte(s)), re.MatchString(s); got != want {
				t.Fatalf("%q on %q: Search %v, regexp %q %v", tc.ecma, s, got, re2, want)
			}
		}
	}
}

// TestECMAOnly covers what RE2 does differently or lacks.
func TestECMAOnly(t *testing.T) {
	cases := []struct {
		p   string
		yes []string
		no  []string
	}{
		{`^\u{1F600}$`, []string{"😀"}, []string{"", "😀😀", "\\u{1F600}"}},
		{`^\u{0001F600}$`, []string{"😀"}, []string{"a"}},
		{`^\uD83D\uDE00$`, []string{"😀"}, []string{"\\uD83D", ""}},
		{`^[\uD83D\uDE00-\uD83D\uDE4F]+$`, []string{"😀🙏", "🙏"}, []string{"😐a", "🚀"}},
		{`\uD83D`, nil, []string{"", "😀", "\uFFFD", "a"}}, // a lone surrogate matches nothing
		{`^\uD83D|a`, []string{"a", "ba"}, []string{"😀", ""}},
		{`^\p{Lu}+$`, []string{"ABC", "ÉΩ", "Ж"}, []string{"Abc", "a", "", "1"}},
		{`^\p{Uppercase_Letter}$`, []string{"Q"}, []string{"q"}},
		{`^\p{gc=Ll}$`, []string{"q", "ß"}, []string{"Q"}},
		{`^\p{Script=Greek}+$`, []string{"αβγ", "Ω"}, []string{"a", "αa", "中"}},
		{`^\p{sc=Grek}$`, []string{"λ"}, []string{"l"}},
		{`^\p{Script=Han}$`, []string{"中"}, []string{"a"}},
		{`^\P{L}+$`, []string{"123", " !", "😀"}, []string{"a1", "é", "中"}},
		{`^[^\P{L}]$`, []string{"a", "中"}, []string{"1"}},
		{`^\p{Nd}+$`, []string{"42", "৪২", "٣"}, []string{"4a", "½"}},
		{`^\p{digit}$`, []string{"٣"}, []string{"x"}},
		{`^\p{White_Space}$`, []string{" ", "\u3000", "\u0085"}, []string{"\ufeff", "x"}},
		{`^\p{Any}$`, []string{"a", "😀", "\u0378"}, []string{"", "ab"}},
		{`^\p{ASCII}+$`, []string{"az~\x00"}, []string{"é"}},
		{`^\p{Alphabetic}$`, []string{"a", "中", "Ⅳ"}, []string{"1", "_"}},
		{`^\s$`, []string{" ", "\t", "\n", "\v", "\f", "\r", "\u00a0", "\ufeff", "\u2028", "\u2029", "\u2003", "\u3000", "\u1680", "\u202f", "\u205f"},
			[]string{"\u0085", "\u200b", "x", "\u180e", ""}},
		{`^\S$`, []string{"x", "\u0085", "\u200b"}, []string{" ", "\u00a0", "\ufeff"}},
		{`^\cJ$`, []string{"\n"}, []string{"J", "\\cJ"}},
		{`^\ca\cZ$`, []string{"\x01\x1a"}, nil},
		{`^[\cJ]$`, []string{"\n"}, []string{"c"}},
		{`^\0$`, []string{"\x00"}, []string{"0"}},
		{`^\x41\u0042$`, []string{"AB"}, nil},
		{`^[\b]$`, []string{"\b"}, []string{"b"}},
		{`^[\d-]+$`, []string{"1-2"}, []string{"a"}},
		{`^[a-]$`, []string{"a", "-"}, []string{"b"}},
		{`^[[]$`, []string{"["}, nil},
		{`^[\-]$`, []string{"-"}, nil},
		{`^\/$`, []string{"/"}, nil},
		{`^[^]$`, []string{"a", "\n"}, []string{""}},
		{`[]`, nil, []string{"", "a"}},
		{`^.$`, []string{"a", "😀", "\u0085"}, []string{"\n", "\r", "\u2028", "\u2029"}},
		{`^\w+$`, []string{"a_Z9"}, []string{"é", "ſ"}},
		{`$^`, []string{""}, []string{"a"}},
		{`^^a$$`, []string{"a"}, []string{"aa"}},
		{`a^b`, nil, []string{"ab", "a^b"}},
		{`(^)*a`, []string{"a", "ba"}, []string{"b"}},
		{`^(?:a|^b)+$`, []string{"a", "ba", "baa"}, []string{"ab", "bb"}},
		// word boundaries and lookarounds
		{`\bfoo\b`, []string{"foo", "a foo.", "(foo)"}, []string{"food", "_foo", "foo1"}},
		{`\Boo\B`, []string{"fooo", "xoox"}, []string{"oo", "f oo"}},
		{`a\b`, []string{"a", "a b", "aé"}, []string{"ab", "a_"}},
		{`^(?=.*\d)(?=.*[a-z]).{4,}$`, []string{"abc1", "1abc"}, []string{"abcd", "1234", "a1"}},
		{`^(?!.*\.\.)[a-z.]+$`, []string{"a.b", "a"}, []string{"a..b", ""}},
		{`^(?!\s*$).+`, []string{"a", " a"}, []string{"", "  ", "\t"}},
		{`(?<=\$)\d+`, []string{"$10"}, []string{"10", "$x"}},
		{`(?<!\$)\b\d+`, []string{"10", "x 10"}, []string{"$10"}},
		{`^(?:(?!ab).)*$`, []string{"", "aa", "ba", "b a"}, []string{"ab", "xaby"}},
	}
	for _, tc := range cases {
		d := compile(t, tc.p)
		for _, s := range tc.yes {
			if !d.Matches([]byte(s)) {
				t.Errorf("%q should match %q", tc.p, s)
			}
		}
		for _, s := range tc.no {
			if d.Matches([]byte(s)) {
				t.Errorf("%q should not match %q", tc.p, s)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		p           string
		offset      int
		unsupported bool
		msg         string
	}{
		{`(a)\1`, 3, true, "backreference"},
		{`\1`, 0, false, "invalid escape"}, // no group 1: a SyntaxError in Unicode mode
		{`(?<n>a)\k<n>`, 7, true, "backreference"},
		{`\k<n>`, 0, false, "named reference"},
		{`a(`, 2, false, "missing )"},
		{`a)`, 1, false, "unmatched )"},
		{`[b-a]`, 1, false, "out of order"},
		{`a{2,1}`, 1, false, "out of order"},
		{`x{100000}`, 1, true, "too large"},
		{`x{1001,}`, 1, true, "too large"},
		{`x{0,1001}`, 1, true, "too large"},
		{`\p{NoSuchProperty}`, 0, false, "invalid property name"},
		{`\p{letter}`, 0, false, "invalid property name"},
		{`\p{Script=Klingon}`, 0, false, "invalid Script value"},
		{`\p{scx=Latn}`, 0, true, "Script_Extensions"},
		{`\p{Emoji}`, 0, true, "unsupported property Emoji"},
		{`\p{sc=Garay}`, 0, true, "newer"},
		{`\p{L`, 0, false, "property"},
		{`]`, 0, false, "lone ]"},
		{`a}`, 1, false, "lone quantifier"},
		{`{1}`, 0, false, "nothing to repeat"},
		{`a{1`, 1, false, "incomplete quantifier"},
		{`a**`, 2, false, "nothing to repeat"},
		{`^*`, 1, false, "nothing to repeat"},
		{`(?=a)*`, 5, false, "nothing to repeat"},
		{`[\d-z]`, 1, false, "class range"},
		{`[z-\d]`, 1, false, "class range"},
		{`\-`, 0, false, "invalid escape"},
		{`\a`, 0, false, "invalid escape"},
		{`[\B]`, 1, false, "class escape"},
		{`\c1`, 0, false, `\c`},
		{`\x4g`, 0, false, "hex"},
		{`\u{110000}`, 0, false, "Unicode escape"},
		{`\01`, 0, false, "decimal escape"},
		{`[a`, 2, false, "missing ]"},
		{`\`, 0, false, "end of pattern"},
		{`(?<1a>x)`, 2, false, "group name"},
		{`(?<a>x)(?<a>y)`, 7, false, "duplicate"},
		{`(?<a>x)|(?<a>y)`, 8, true, "duplicate"},
		{`(?i:a)`, 0, true, "modifiers"},
		{`(?x)`, 0, false, "invalid group"},
		{`(a)\1(`, 6, false, "missing )"},             // syntax errors take precedence
		{`x(?=[ab]*a[ab]{20})`, 0, true, "too large"}, // 2^20 states
		{"a\xffb", 1, false, "UTF-8"},
	}
	for _, tc := range cases {
		_, err := Search(rx.NewBuilder(), tc.p)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: want *Error, got %v", tc.p, err)
			continue
		}
		if e.Offset != tc.offset || e.Unsupported != tc.unsupported || !strings.Contains(e.Msg, tc.msg) || e.Pattern != tc.p {
			t.Errorf("%q: got %v (offset %d, unsupported %v), want offset %d, unsupported %v, message with %q",
				tc.p, err, e.Offset, e.Unsupported, tc.offset, tc.unsupported, tc.msg)
		}
	}
	_, err := Search(rx.NewBuilder(), "a(")
	if got, want := err.Error(), `pattern "a(": missing ) at offset 2`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestAnchorsBothWays checks the structural translation of ^ and $ against
// the marker translation, which is exact by a different argument: both must
// give the same minimal DFA.
func TestAnchorsBothWays(t *testing.T) {
	ps := []string{`^a$`, `$^`, `^^a$$`, `(^a|b)c`, `a$|^b`, `(^)*a`, `(a$)*`, `(^|a)+b`, `^(a|^b)*$`, `(a|^)*b$`,
		`(?:a|^){2}b`, `(?:^$){3}`, `(^){2,}a`, `(?:a?^){2}`, `(?:^|,)b(?:,|$)`, `^(?:$|a)`, `((^a)?b$|c){2,3}`,
		`(?:a|$)+?b?$`, `a^b`, `^`, `$`, `^$`}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200 {
		p := genPattern(r, 4)
		if !strings.Contains(p, `\b`) && !strings.Contains(p, `\B`) && !strings.Contains(p, "(?=") &&
			!strings.Contains(p, "(?!") && !strings.Contains(p, "(?<=") && !strings.Contains(p, "(?<!") {
			ps = append(ps, p)
		}
	}
	for _, p := range ps {
		var dumps [2]string
		for i, force := range []bool{false, true} {
			b := rx.NewBuilder()
			e, err := search(b, p, force, ecma)
			if err != nil {
				dumps[i] = err.Error()
				continue
			}
			d, err := b.Compile(e, rx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			dumps[i] = d.String()
		}
		if dumps[0] != dumps[1] {
			t.Errorf("%q: structural and marker translations differ:\n%s\n%s", p, dumps[0], dumps[1])
		}
	}
}

// FuzzSearch: no pattern makes Search panic, and what it accepts matches
// only valid UTF-8.
func FuzzSearch(f *testing.F) {
	for _, p := range handPatterns {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if len(p) > 200 {
			return
		}
		b := rx.NewBuilder()
		b.Limit = 200000
		e, err := Search(b, p)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) || perr.Pattern != p || perr.Offset < 0 || perr.Offset > len(p) {
				t.Fatalf("%q: bad error %#v", p, err)
			}
			return
		}
		d, err := b.Compile(e, rx.Options{MaxStates: 20000})
		if err != nil {
			return // too large to check here
		}
		r := rand.New(rand.NewPCG(uint64(len(p)), 3))
		pool := []string{"a", "b", "0", " ", "\n", "é", "中", "😀", "\xff", "\xe4", "\xb8", "\xed\xa0\x80", "\xc0\x80", p}
		for range 50 {
			var sb strings.Builder
			for n := r.IntN(6); n > 0; n-- {
				sb.WriteString(pool[r.IntN(len(pool))])
			}
			if s := sb.String(); d.Matches([]byte(s)) && !utf8.ValidString(s) {
				t.Fatalf("%q matches invalid UTF-8 %q", p, s)
			}
		}
	})
}

func TestRuneSets(t *testing.T) {
	// \s as listed in ECMA-262 equals TAB..CR, FEFF, LS, PS and Go's Zs.
	want := union(single('\t', '\r'), single(0xFEFF, 0xFEFF), single(0x2028, 0x2029), fromTable(unicode.Zs))
	if !equal(spaceSet, want) {
		t.Errorf("spaceSet = %v, want %v", spaceSet, want)
	}
	s := runeSet{{'a', 'c'}, {'x', 'x'}}
	if c := s.complement(); !equal(c.complement(), s) || c.has('b') || !c.has('d') || !c.has(0x10FFFF) {
		t.Errorf("complement of %v: %v", s, c)
	}
	if got := intersect(s, runeSet{{'b', 'y'}}); !equal(got, runeSet{{'b', 'c'}, {'x', 'x'}}) {
		t.Errorf("intersect: %v", got)
	}
	for alias, long := range scriptAliases {
		if _, ok := unicode.Scripts[long]; !ok && long != "Unknown" {
			t.Errorf("alias %s names %s, not a Go script", alias, long)
		}
	}
}

func equal(a, b runeSet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// realistic are patterns of the kind JSON Schemas use.
var realistic = []string{
	`^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`,
	`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`,
	`^\d{4}-\d{2}-\d{2}$`,
	`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`,
	`^\+?[1-9]\d{1,14}$`,
	`^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[^\w\s]).{8,64}$`,
	`^[a-z0-9]+(?:-[a-z0-9]+)*$`,
	`^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$`,
	`^\p{Lu}\p{Ll}+(?: \p{Lu}\p{Ll}+)*$`,
	`^(?!\s*$).+`,
	`^https?://[^\s/$.?#].[^\s]*$`,
	`^([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?$`,
	`^\S(.*\S)?$`,
	`\bforbidden\b`,
	`^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$`,
	`^.{1,255}$`,
}

// BenchmarkSearch translates and compiles realistic patterns.
func BenchmarkSearch(b *testing.B) {
	for _, p := range realistic {
		b.Run(p, func(b *testing.B) {
			for b.Loop() {
				bd := rx.NewBuilder()
				e, err := Search(bd, p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := bd.Compile(e, rx.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSearchPortable checks that SearchPortable admits only strings that
// both ECMA-262 (Search) and RE2 (Go's regexp, with ECMA's "." spelled
// out) match, and that it still admits the ASCII-space strings.
func TestSearchPortable(t *testing.T) {
	probes := []string{"", " ", "\t", "\n", "\v", "\u00a0", "\ufeff", "\u2028", "a", "a b", "a\u00a0b", "\u3000x", "x\r"}
	for _, tc := range []struct{ ecma, re2 string }{
		{`^\s$`, `^\s$`},
		{`\S`, `\S`},
		{`^[^\s]+$`, `^[^\s]+$`},
		{`^[\s\d]*$`, `^[\s\d]*$`},
		{`^a\sb$`, `^a\sb$`},
		{`^\S*$`, `^\S*$`},
	} {
		b := rx.NewBuilder()
		ep, err := SearchPortable(b, tc.ecma)
		if err != nil {
			t.Fatal(err)
		}
		ee, err := Search(b, tc.ecma)
		if err != nil {
			t.Fatal(err)
		}
		ew, err := SearchEither(b, tc.ecma)
		if err != nil {
			t.Fatal(err)
		}
		pd, _ := b.Compile(ep, rx.Options{})
		ed, _ := b.Compile(ee, rx.Options{})
		wd, _ := b.Compile(ew, rx.Options{})
		re := regexp.MustCompile(tc.re2)
		for _, s := range probes {
			got := pd.Matches([]byte(s))
			both := ed.Matches([]byte(s)) && re.MatchString(s)
			if got && !both {
				t.Errorf("%s on %q: portable admits it, but ECMA says %v and RE2 %v", tc.ecma, s, ed.Matches([]byte(s)), re.MatchString(s))
			}
			either := ed.Matches([]byte(s)) || re.MatchString(s)
			if either && !wd.Matches([]byte(s)) {
				t.Errorf("%s on %q: ECMA or RE2 match, but SearchEither does not", tc.ecma, s)
			}
			ascii := !strings.ContainsAny(s, "\v\u00a0\ufeff\u2028\u3000")
			if ascii && both && !got {
				t.Errorf("%s on %q: both readings match but portable does not", tc.ecma, s)
			}
		}
	}
}
