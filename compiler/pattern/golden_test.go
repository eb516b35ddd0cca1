package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/schemac-dev/schemac/compiler/rx"
)

// The golden file testdata/ecma.json records, for a few hundred patterns
// (hand-picked and generated) and a fixed list of probe strings, what
// ECMAScript's RegExp with the "u" flag answers: a syntax error, or
// RegExp.prototype.test on every probe. It was produced by Node.js (V8);
// regenerate with
//
//	go test ./compiler/pattern/ -run TestECMAGolden -update-golden
//
// which needs node on the PATH.
var updateGolden = flag.Bool("update-golden", false, "regenerate testdata/ecma.json with node")

// With -node-random N, TestNodeRandom compares N fresh random patterns
// (half of them with nested lookarounds) against node:
//
//	go test ./compiler/pattern/ -run TestNodeRandom -node-random 4000
var (
	nodeRandom = flag.Int("node-random", 0, "compare this many random patterns against node")
	nodeSeed   = flag.Uint64("node-seed", 0, "seed for -node-random (0: from the clock)")
)

const goldenPath = "testdata/ecma.json"

type golden struct {
	Node     string         `json:"node"`
	Probes   []string       `json:"probes"`
	Patterns []goldenResult `json:"patterns"`
}

type goldenResult struct {
	Pattern string `json:"p"`
	// Syntax is true when RegExp(p, "u") throws a SyntaxError.
	Syntax bool `json:"syntax,omitempty"`
	// Match holds '1' or '0' per probe.
	Match string `json:"m,omitempty"`
}

// handPatterns exercise the features one by one; random patterns follow.
var handPatterns = []string{
	// literals, classes, escapes
	`a`, `abc`, `é`, `中`, `😀`, `a|b`, `a|`, `()`, `(?:)`, `[]`, `[^]`, `.`, `^.$`, `^..$`, `^...$`,
	`\n`, `\r`, `\t`, `\v`, `\f`, `\0`, `\x41`, `\u00e9`, `\u{1F600}`, `\u{0000001F600}`, `\uD83D\uDE00`,
	`^\uD83D$`, `[\uD83D\uDE00-\uD83D\uDE4F]`, `[\uD800-\uDFFF]`, `\u{D83D}`, `\cJ`, `\cj`, `[\cJ]`, `\/`,
	`\d`, `\D`, `\w`, `\W`, `\s`, `\S`, `^\s+$`, `^\S+$`, `[\s\d]`, `[^\s\d]`, `[\w-]`, `[-\w]`, `[\w-a]`,
	`[\d-z]`, `[a-\d]`, `[a-]`, `[-a]`, `[a-b-c]`, `[--a]`, `[\b]`, `[\-]`, `[\]]`, `[[]`, `[^-]`, `[a-c]`,
	`[b-a]`, `[é-中]`, `^[^a-c]+$`, `[\u{1F600}-\u{1F64F}]`, `[😀-😂]`,
	// properties
	`\p{L}`, `\p{Lu}`, `\p{Ll}`, `\P{L}`, `^\p{Letter}+$`, `\p{gc=Lu}`, `\p{General_Category=Nd}`,
	`\p{digit}`, `\p{Script=Greek}`, `\p{sc=Grek}`, `\p{sc=Han}`, `\p{Script=Latin}`, `[\p{L}\d]`,
	`[^\p{L}]`, `\p{White_Space}`, `\p{space}`, `\p{ASCII}`, `\p{Any}`, `\p{Alphabetic}`, `\p{Uppercase}`,
	`\p{Lowercase}`, `\p{ID_Start}`, `\p{ID_Continue}`, `\p{Hex_Digit}`, `\p{ASCII_Hex_Digit}`,
	`\p{NoSuchProperty}`, `\p{letter}`, `\p{gc=Any}`, `\p{Script=Foo}`, `\p{Lu`, `\p`, `\pL`,
	// anchors
	`^`, `$`, `^$`, `$^`, `^^`, `$$`, `^a`, `a$`, `^a$`, `a^`, `$a`, `a^b`, `(^a|b)c`, `a$|^b`, `(^)*`, `(^|a)+b`,
	`(a|$)+`, `x*`, `^x*$`, `^(ab){2,3}$`, `(a$)*`, `(^a)*`, `(^a)+`, `(?:^|,)b(?:,|$)`, `(^|a)(b|$)`,
	`^(a|^b)*$`, `(a|^)*b$`, `^(?:$|a)`, `(?:a|^){2}b`, `(?:^$){3}`, `(^){2,}a`, `(?:a?^){2}`,
	// quantifiers
	`a*`, `a+`, `a?`, `a{2}`, `a{2,}`, `a{2,3}`, `a*?`, `a+?`, `a??`, `a{2,3}?`, `^a{0}$`, `^(a{0})+$`,
	`^(?:a|)+$`, `^(?:a*)*$`, `^(?:a?b?){3}$`, `^.{2,4}$`, `a{2,1}`, `a**`, `a{`, `a{1`, `a{,5}`, `{`, `}`,
	`]`, `a]`, `a}`, `*a`, `+`, `?`, `a{1}{2}`, `a+*`,
	// groups
	`(a)`, `(?<x>a)`, `(?<x>a)|(?<x>b)`, `(?<x>a)(?<x>b)`, `((?<x>a)|b)(?<x>c)`, `(?:(?<x>a)|b)|(?<x>c)`, `(?<$x_1>a)`, `(?<1x>a)`, `(?<\u0061>a)`, `(?:a`,
	`a)`, `(?`, `(?i:a)`, `(?x)`, `((a|b)c)+`,
	// backreferences
	`\1`, `(a)\1`, `\1(a)`, `(a)\2`, `\k<x>`, `(?<x>a)\k<x>`, `\k`, `\k<y>(?<x>a)`,
	// bad escapes
	`\-`, `\a`, `\e`, `\q`, `\c`, `\c1`, `\x4`, `\u12`, `\u{}`, `\u{110000}`, `\00`, `\01`, `\8`, `[\1]`,
	`[\B]`, `[\k]`, `\`, `[a`, `[\d`, `(`, `a(`, `(?=a)*`, `^*`, `$+`, `\b+`, `(?<=a)?`,
	// word boundaries
	`\b`, `\B`, `\ba`, `a\b`, `\bab\b`, `\Ba`, `a\B`, `\b\B`, `^\b`, `\b$`, `\w\b\w`, `\W\b\W`, `(\b|a)+`,
	`[\b]`, `\b中`, `é\b`,
	// lookarounds
	`(?=a)`, `(?!a)`, `(?=a)a`, `(?=a)b`, `a(?=b)`, `a(?!b)`, `(?<=a)b`, `(?<!a)b`, `^(?!.*\.\.)[a-z.]+$`,
	`^(?=.*\d)(?=.*[a-z]).{4,}$`, `^(?!\s*$).+`, `(?<=^a)b`, `(?<!^)a`, `a(?=$)`, `a(?!$)`, `(?=(a+))`,
	`(?=a(?=b))`, `(?<=(?<=a)b)c`, `(?=^)a`, `x(?=\b)`, `(?!a|b$)`, `(?<!a$)`, `((?=a)|b)+c`, `(?!^)`,
	`(?<=\b)a`, `(?!(?=a))b`, `a(?<=a)`, `(?<=$)`, `(?!)`, `(?=)`, `^(?!.*\bab\b)`, `(?<!\b)a`, `(?<!\Ba)b`,
	`^(?:(?!ab).)*$`, `(?!a(?!b))a`, `(?<!(?<=a)b)c`, `(?!(?<=a)b)`, `((?!a)\w)+$`, `(?=a(?!b)|c\b)`,
	// realistic
	`^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`, `^\d{4}-\d{2}-\d{2}$`, `^[a-z0-9]+(?:-[a-z0-9]+)*$`,
	`^(?=.*[a-z])(?=.*[A-Z])(?=.*\d)(?=.*[^\w\s]).{4,8}$`, `^(?!-)[A-Za-z0-9-]{1,5}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,5}(?<!-))*$`,
	`^\p{Lu}\p{Ll}+(?: \p{Lu}\p{Ll}+)*$`, `^\S(.*\S)?$`, `^[^\s@]+@[^\s@]+$`, `\bab\b`, `^.{1,3}$`,
	// misc
	`/`, `a/b`, `-`, `,`, `a,b`, `[*+?{}()|^$.]`, `\.\*\+\?\(\)\[\]\{\}\|\^\$\\`,
}

// probePool is the alphabet of the probe strings.
var probePool = []string{"a", "b", "c", "x", "z", "A", "B", "0", "1", "9", "_", "-", ".", ",", " ", "\n", "\r",
	"\t", "\v", "\f", "\u00a0", "\ufeff", "\u2028", "\u2003", "é", "Ω", "α", "中", "😀", "😂", "\x00", "\b"}

func genProbes() []string {
	r := rand.New(rand.NewPCG(7, 8))
	probes := []string{"", "a", "ab", "ba", "abc", "aa", "aaa", "a b", "a\nb", "a..b", "a.b", "ab1", "x1a",
		"😀", "中文", "é", "Ωα", "ÉCOLE", "école", "\u2028", "\ufeff", "\u00a0", " ", "0", "42", "a_b"}
	for len(probes) < 400 {
		var sb strings.Builder
		for n := r.IntN(7); n > 0; n-- {
			if r.IntN(3) == 0 {
				sb.WriteString(probePool[r.IntN(5)]) // favour a, b, c, x, z
			} else {
				sb.WriteString(probePool[r.IntN(len(probePool))])
			}
		}
		probes = append(probes, sb.String())
	}
	return probes
}

// genPattern returns a random pattern, mostly valid, using the features
// Search supports and a few it rejects.
func genPattern(r *rand.Rand, depth int) string {
	atoms := []string{"a", "b", "c", "x", "é", "中", "😀", ".", "[a-c]", "[^ab]", "[\\d\\s]", "[^\\w]", "\\d", "\\w",
		"\\s", "\\D", "\\W", "\\S", "\\u00e9", "\\u{1F600}", "\\n", "[\\p{L}]", "\\p{Lu}", "\\P{L}", "\\x61",
		"^", "$", "\\b", "\\B", "[😀-😂]", "[-a]", "[\\b]", "", "\\.", "[.]"}
	if depth <= 0 || r.IntN(3) == 0 {
		return atoms[r.IntN(len(atoms))]
	}
	sub := func() string { return genPattern(r, depth-1) }
	switch r.IntN(12) {
	case 0, 1, 2:
		return sub() + sub()
	case 3:
		return sub() + "|" + sub()
	case 4:
		return "(" + sub() + ")" + []string{"*", "+", "?", "{2}", "{0,2}", "{1,}", "*?", "", "{2,3}"}[r.IntN(9)]
	case 5:
		return "(?:" + sub() + ")" + []string{"*", "+", "?", "{3}", ""}[r.IntN(5)]
	case 6:
		return []string{"a", "b", ".", "[ab]", "\\w", "é"}[r.IntN(6)] + []string{"*", "+", "?", "{2}", "{1,3}"}[r.IntN(5)]
	case 7:
		return []string{"(?=", "(?!", "(?<=", "(?<!"}[r.IntN(4)] + sub() + ")"
	case 8:
		return "^" + sub()
	case 9:
		return sub() + "$"
	case 10:
		if r.IntN(8) == 0 { // occasionally break the syntax
			return sub() + []string{"{", "}", "]", ")", "(", "*", "\\", "[", "?"}[r.IntN(9)]
		}
		return sub() + sub() + sub()
	}
	return "(?<g" + fmt.Sprint(r.IntN(3)) + ">" + sub() + ")"
}

func genPatterns() []string {
	ps := append([]string(nil), handPatterns...)
	r := rand.New(rand.NewPCG(11, 12))
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p] = true
	}
	for len(ps) < len(handPatterns)+500 {
		p := genPattern(r, 4)
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	return ps
}

const nodeScript = `
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
// search tries a sticky match at every code point boundary, as the loop of
// RegExpBuiltinExec does; V8's own loop also tries positions inside a
// surrogate pair for empty matches (e.g. /\B/u on "x\u{1F602}c").
function search(re, s) {
  for (let i = 0; ; ) {
    re.lastIndex = i;
    if (re.test(s)) return true;
    if (i >= s.length) return false;
    i += s.codePointAt(i) > 0xFFFF ? 2 : 1;
  }
}
const out = {node: process.version, probes: input.probes, patterns: []};
for (const p of input.patterns) {
  let re;
  try { re = new RegExp(p, 'uy'); } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    out.patterns.push({p, syntax: true}); continue;
  }
  out.patterns.push({p, m: input.probes.map(s => search(re, s) ? '1' : '0').join('')});
}
process.stdout.write(JSON.stringify(out, null, 0).replace(/\},\{/g, '},\n{'));
`

// runNode asks node for the answers on patterns and probes.
func runNode(t *testing.T, patterns, probes []string) []byte {
	in, _ := json.Marshal(map[string]any{"patterns": patterns, "probes": probes})
	cmd := exec.Command("node", "-e", nodeScript)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running node: %v", err)
	}
	return out
}

func regenerate(t *testing.T) {
	out := runNode(t, genPatterns(), genProbes())
	if err := os.WriteFile(goldenPath, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestECMAGolden checks Search against the recorded ECMAScript answers:
// every pattern ECMAScript rejects must be rejected (as invalid, or at worst
// as unsupported), and every pattern it accepts must either be reported
// unsupported or give exactly ECMAScript's answer on every probe.
func TestECMAGolden(t *testing.T) {
	if *updateGolden {
		regenerate(t)
	}
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, data)
}

// TestNodeRandom is TestECMAGolden on fresh random patterns; see -node-random.
func TestNodeRandom(t *testing.T) {
	if *nodeRandom <= 0 {
		t.Skip("needs -node-random N (and node)")
	}
	seed := *nodeSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	la := []string{"(?!", "(?<!", "(?=", "(?<="}
	var ps []string
	for len(ps) < *nodeRandom {
		if len(ps)%2 == 0 {
			ps = append(ps, genPattern(r, 5))
			continue
		}
		ps = append(ps, genPattern(r, 2)+la[r.IntN(4)]+genPattern(r, 2)+la[r.IntN(4)]+genPattern(r, 2)+")"+
			genPattern(r, 2)+")"+genPattern(r, 2))
	}
	checkGolden(t, runNode(t, ps, genProbes()))
}

func checkGolden(t *testing.T, data []byte) {
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	var exact, unsupported, rejected, rejectedUnsupported int
	for _, gr := range g.Patterns {
		b := rx.NewBuilder()
		e, err := Search(b, gr.Pattern)
		var perr *Error
		if err != nil && !errors.As(err, &perr) {
			t.Errorf("%q: error of type %T: %v", gr.Pattern, err, err)
			continue
		}
		if gr.Syntax {
			switch {
			case err == nil:
				t.Errorf("%q: ECMAScript rejects it, Search accepted it", gr.Pattern)
			case perr.Unsupported:
				rejectedUnsupported++
				t.Logf("%q: ECMAScript (%s) rejects it, Search says: %v", gr.Pattern, g.Node, err)
			default:
				rejected++
			}
			continue
		}
		if err != nil {
			if !perr.Unsupported {
				t.Errorf("%q: ECMAScript accepts it, Search says invalid: %v", gr.Pattern, err)
			} else {
				unsupported++
			}
			continue
		}
		d, err := b.Compile(e, rx.Options{})
		if err != nil {
			t.Errorf("%q: compile: %v", gr.Pattern, err)
			continue
		}
		bad := 0
		for i, s := range g.Probes {
			want := gr.Match[i] == '1'
			if got := d.Matches([]byte(s)); got != want {
				if bad < 3 {
					t.Errorf("%q on %q: Search %v, ECMAScript %v", gr.Pattern, s, got, want)
				}
				bad++
			}
		}
		if bad == 0 {
			exact++
		}
	}
	t.Logf("%d patterns (%s): %d exact on %d probes each, %d unsupported, %d rejected as invalid, %d rejected as unsupported",
		len(g.Patterns), g.Node, exact, len(g.Probes), unsupported, rejected, rejectedUnsupported)
}
