package format

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/schemac-dev/schemac/compiler/rx"
)

// ---- the library oracle ----

var (
	libMu    sync.Mutex
	libCache = map[string]*jsonschema.Schema{}
)

// lib reports whether santhosh-tekuri/jsonschema/v6 accepts s for the schema
// {"format": name} with format assertions on.
func lib(t testing.TB, name, s string) bool {
	t.Helper()
	libMu.Lock()
	sch := libCache[name]
	if sch == nil {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		loc := "mem:///" + name + ".json"
		if err := c.AddResource(loc, map[string]any{"format": name}); err != nil {
			libMu.Unlock()
			t.Fatal(err)
		}
		var err error
		if sch, err = c.Compile(loc); err != nil {
			libMu.Unlock()
			t.Fatal(err)
		}
		libCache[name] = sch
	}
	libMu.Unlock()
	return sch.Validate(s) == nil
}

// dfa returns the compiled DFA of a format through the public API.
func dfa(t testing.TB, name string) *rx.DFA {
	t.Helper()
	b := rx.NewBuilder()
	e, ok := Lang(b, name)
	if !ok {
		t.Fatalf("format %q not implemented", name)
	}
	d, err := b.Compile(e, rx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestNames(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names not sorted: %v", names)
	}
	for _, n := range []string{"date", "time", "date-time", "duration", "email", "hostname", "ipv4", "ipv6",
		"uuid", "uri", "uri-reference", "json-pointer", "relative-json-pointer"} {
		if !slices.Contains(names, n) {
			t.Errorf("Names lacks %q", n)
		}
	}
	for _, n := range []string{"regex", "uri-template", "idn-hostname", "semver", "bogus"} {
		if e, ok := Lang(rx.NewBuilder(), n); ok || e != rx.Nothing {
			t.Errorf("Lang(%q) = %v, %v; want Nothing, false", n, e, ok)
		}
	}
}

// ---- hand-written examples ----

// example: ours is whether our language holds s, lib whether the library
// accepts it. ours && !lib would be a soundness bug and is never listed.
type example struct {
	s         string
	ours, lib bool
}

func yes(ss ...string) []example { return mk(true, true, ss) }
func no(ss ...string) []example  { return mk(false, false, ss) }

// libOnly lists strings the library accepts but our stricter language does
// not (documented subsets).
func libOnly(ss ...string) []example { return mk(false, true, ss) }

func mk(ours, lib bool, ss []string) []example {
	out := make([]example, len(ss))
	for i, s := range ss {
		out[i] = example{s, ours, lib}
	}
	return out
}

func join(xs ...[]example) []example { return slices.Concat(xs...) }

var (
	label63 = strings.Repeat("a", 63)
	label64 = strings.Repeat("a", 64)
	local64 = strings.Repeat("x", 64)
	local65 = strings.Repeat("x", 65)
)

var examples = map[string][]example{
	"date": join(
		yes("2024-02-29", "2000-02-29", "1600-02-29", "0000-02-29", "0004-02-29", "2023-12-31", "9999-12-31",
			"0001-01-01", "2023-04-30", "2023-01-31", "2023-02-28", "1996-02-29"),
		no("2023-02-29", "1900-02-29", "2100-02-29", "0100-02-29", "2023-04-31", "2023-06-31", "2023-02-30",
			"2023-13-01", "2023-00-10", "2023-01-00", "2023-01-32", "2023-1-01", "20231-01-01", "2023-01-01T",
			"", "2023/01/01", "2023-01-01 "),
	),
	"time": join(
		yes("12:30:00Z", "23:59:59z", "00:00:00+00:00", "12:30:00.123+05:30", "00:00:00.000000001-23:59",
			"23:59:60Z", "23:59:60.5z", "23:59:60+00:00", "23:59:60-00:00",
			"05:29:60+05:30", "18:29:60-05:30", "00:59:60+01:00", "22:59:60-01:00", "05:44:60+05:45",
			"15:59:60-08:00", "00:14:60+00:15", "23:14:60-00:45"),
		no("24:00:00Z", "12:60:00Z", "12:00:61Z", "12:00:60Z", "23:59:60+01:00", "23:59:60-01:00", "12:00:00",
			"12:00:00+5:30", "12:00:00+24:00", "12:00:00+05:60", "12:00Z", "1:00:00Z", "12:00:00.Z",
			"12:00:00 Z", "12:00:00+05:30Z"),
		// leap seconds with offsets whose minutes are not 00/15/30/45, and
		// the library's strconv.Atoi accepting signs
		libOnly("23:58:60+23:59", "00:00:60+00:01", "23:58:60-00:01", "+1:00:00Z", "12:00:00++1:00"),
	),
	"date-time": join(
		yes("2024-02-29T12:30:00Z", "2024-02-29T12:30:00.123+05:30", "1985-04-12t23:20:50.52z",
			"1990-12-31T23:59:60Z", "1990-12-31T15:59:60-08:00", "0000-01-01T00:00:00Z"),
		no("2023-02-29T12:30:00Z", "2024-02-29 12:30:00Z", "2024-02-29T24:00:00Z", "2024-02-29T12:30:00",
			"2024-02-29", "2024-02-29T12:30Z", "2024-02-29TT12:30:00Z"),
	),
	"duration": join(
		yes("P3Y6M4DT12H30M5S", "P1W", "PT1H", "PT1M", "PT1S", "P1D", "P1M", "P1Y", "PT36H", "P0D", "P1Y2M",
			"PT1H30M", "P1YT1S", "P1M2DT3H", "P12345678901234567890Y"),
		no("P", "PT", "P1", "PT0.5S", "P1.5Y", "P1WT1H", "1Y", "P1H", "PT1D", "P1Y1Y", "P2M1Y", "P1YT", "p1Y",
			"P1W2D", "PT1S2M", "P-1Y"),
		// the library lets units be skipped; RFC 3339's grammar does not
		libOnly("P1Y2D", "PT1H5S", "P1Y3DT1H5S"),
	),
	"email": join(
		yes("john.doe@example.com", "a@b.co", "user+tag@sub.example.org", "o'brien@example.ie", "a@localhost",
			"!#$%&'*+-/=?^_`{|}~@example.com", local64+"@example.com", "a@b.c.d.e.f.g.h.i",
			local64+"@"+strings.Repeat("c", 61)+".d", "a@b.c.d.e.f.g.h.i.j"),
		no("john.example.com", ".a@b.com", "a.@b.com", "a..b@c.com", "a@-b.com", "a@b-.com", "a@b..com",
			"a@", "a b@c.com", `"a\"b"@c.com`, `"a\b"@c.com`, "a@[1.2.3.256]", "a@[IPv6:1::2::3]",
			local65+"@example.com", "a@"+label64+".com", "a@b@c.com", "a@b_c.com", "a@[IPv6:1.2.3.4]"),
		// trailing dot, empty local part, empty quoted string, long domain; and
		// what we leave out on purpose (quoted local parts, address literals,
		// domains over 63 characters): see email
		libOnly("a@b.com.", "@example.com", `""@example.com`,
			"a@"+strings.Repeat("abcdefghi.", 20)+"com", `"john doe"@example.com`,
			"x@[192.168.0.1]", "x@[IPv6:2001:db8::1]", `"a@b"@example.com`,
			local64+"@"+label63+"."+strings.Repeat("c", 33)),
	),
	"hostname": join(
		libOnly("xn--bcher-kva.example", "a---b"), // reserved "--" in positions 3–4
		yes("example.com", "a", "A-B.c", "a-b--c", label63, label63+".com", "1.2.3.4",
			"www.example.co.uk", "a-b-----c", "0", strings.Repeat("a.", 14)+"a",
			strings.Repeat("b", 63)+"."+strings.Repeat("c", 63)+"."+strings.Repeat("d", 63)+"."+strings.Repeat("e", 47)),
		no("", ".", "-a.com", "a-.com", "a..b", ".a", label64, label64+".com", "a_b.com", "ex ample.com",
			"a.-b", "é.com", strings.Repeat("a", 250)+".com", strings.Repeat("a.", 126)+"ab"),
		// trailing dots; 63+63+63+58 = 250 characters (16 units);
		// 16 one-letter labels (16 units)
		libOnly("example.com.", strings.Repeat("a.", 127),
			label63+"."+label63+"."+label63+"."+strings.Repeat("f", 58), strings.Repeat("a.", 15)+"a"),
	),
	"ipv4": join(
		yes("0.0.0.0", "255.255.255.255", "192.168.0.1", "1.2.3.4", "10.0.99.249", "199.200.250.251"),
		no("256.1.1.1", "1.256.1.1", "01.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.04", "1..2.3", "a.b.c.d",
			" 1.2.3.4", "1.2.3.4 ", "", "1.2.3.", "300.1.1.1", "1.2.3.-1", "::1"),
		libOnly("+1.2.3.4", "1.2.3.+4"),
	),
	"ipv6": join(
		yes("::", "::1", "1::", "2001:db8::1", "::ffff:192.168.0.1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4",
			"1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "FE80::ABCD", "0000:0000:0000:0000:0000:0000:0000:0001",
			"1::1.2.3.4", "::1.2.3.4", "1:2:3:4:5::1.2.3.4", "abcd:EF01::", "1:2::7:8"),
		no("1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
			"12345::", ":1::", "1::2:", ":::", "::1.2.3.04", "::256.1.1.1", "1:2:3:4:5:6:7:1.2.3.4",
			"1:2:3:4:5:6::1.2.3.4", "fe80::1%eth0", "1.2.3.4", "g::1", "", ":", "1:", "::1.2.3", "[::1]",
			"1:2:3:4:5:6:7:8 ", "::ffff:1.2.3.4.5"),
	),
	"uuid": join(
		yes("123e4567-e89b-12d3-a456-426614174000", "123E4567-E89B-12D3-A456-426614174000",
			"00000000-0000-0000-0000-000000000000", "aBcDeF01-2345-6789-abCD-eF0123456789"),
		no("123e4567-e89b-12d3-a456-42661417400", "123e4567-e89b-12d3-a456-4266141740000",
			"123e4567e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-4266-14174000",
			"123g4567-e89b-12d3-a456-426614174000", "{123e4567-e89b-12d3-a456-426614174000}",
			"123e4567e89b12d3a456426614174000", ""),
	),
	"uri": join(
		yes("http://example.com/a?b=c#d", "https://user:pw@example.com:8080/p/a/t/h?query=1&x=%20#frag",
			"urn:isbn:0451450523", "mailto:john@example.com", "file:///etc/passwd", "http://[2001:db8::1]:80/",
			"http://[::ffff:1.2.3.4]/", "ftp://1.2.3.4/", "tel:+1-816-555-1212", "news:comp.lang.go", "a:",
			"http://example.com?", "http://example.com#", "http://example.com:/", "http://", "a+b.c-d:x",
			"http://a/b?c?d#e?f/g", "http://@host", "x:/a//b", "HTTP://EXAMPLE.COM/%7Euser"),
		no("example.com", "/a/b", "//host", "http://ex ample.com", "http://[1.2.3.4]/", "http://[::1/",
			"http://example.com/%zz", ":foo", "1http://x", "http://[fe80::1%25eth0]/", "http://h:port/",
			"http://exa%41mple.com/", "http://[::1]x/", "", "a b:c", "http://a\x01b"),
		// Go's net/url does not check opaque parts or queries, and accepts
		// non-ASCII
		libOnly("mailto:%zz", "http://example.com/é", "http://x/?q=a b", "x:a%", "http://x#a#b"),
	),
	"uri-reference": join(
		yes("", "/a/b", "a/b", "../x", "?q", "#f", "//host/p", "http://x", "./a:b", "a:b", "//[::1]:8/",
			"*", "%41", "a@b/c:d", "///a"),
		no("%zz", `\x`, "http://[::1", ":a", "1a:b", "//h:x/", "a\tb"),
		libOnly("é", "a#b#c", "a b", "a:b c"),
	),
	"json-pointer": join(
		yes("", "/", "/a", "/a~0b", "/a~1b", "//", "/ä/😀", "/~01", "/a b/\x00/\"", "/ /~0~1"),
		no("a", "/~", "/~2", "/a~", "#/a", "/a~b", "~0"),
	),
	"relative-json-pointer": join(
		yes("0", "1/a", "0#", "10/a~1", "2", "123/", "0/"),
		no("", "01", "-1", "+1/a", "0##", "a", "1#/a", "#", "/a", "1~0"),
	),
}

func TestExamples(t *testing.T) {
	for name, exs := range examples {
		d := dfa(t, name)
		for _, ex := range exs {
			if got := d.Matches([]byte(ex.s)); got != ex.ours {
				t.Errorf("%s %q: ours %v, want %v", name, ex.s, got, ex.ours)
			}
			if got := lib(t, name, ex.s); got != ex.lib {
				t.Errorf("%s %q: library %v, want %v", name, ex.s, got, ex.lib)
			}
		}
	}
	// aliases behave like their originals on the examples
	for alias, orig := range map[string]string{"iri": "uri", "iri-reference": "uri-reference", "idn-email": "email"} {
		d := dfa(t, alias)
		for _, ex := range examples[orig] {
			if got := d.Matches([]byte(ex.s)); got != ex.ours {
				t.Errorf("%s %q: ours %v, want %v", alias, ex.s, got, ex.ours)
			}
			if ex.ours && !lib(t, alias, ex.s) {
				t.Errorf("%s %q: accepted by us, rejected by library", alias, ex.s)
			}
		}
	}
}

// ---- soundness: random walks on the automata ----

// walker samples strings of a DFA's language by random walks.
type walker struct {
	d    *rx.DFA
	dist []int       // shortest distance to an accepting state
	outs [][]walkOut // live transitions per state, one per target/class
}

type walkOut struct {
	bytes []byte
	to    int32
}

func newWalker(d *rx.DFA) *walker {
	n := d.NumStates()
	w := &walker{d: d, dist: make([]int, n), outs: make([][]walkOut, n)}
	rev := make([][]int32, n)
	for s := 0; s < n; s++ {
		byTarget := map[int32]int{}
		for c := 0; c < 256; c++ {
			t := d.Step(int32(s), byte(c))
			if t < 0 {
				continue
			}
			// group by (class, target): bytes of a class share a target
			k, ok := byTarget[t<<8|int32(d.Class[c])]
			if !ok {
				k = len(w.outs[s])
				byTarget[t<<8|int32(d.Class[c])] = k
				w.outs[s] = append(w.outs[s], walkOut{to: t})
				rev[t] = append(rev[t], int32(s))
			}
			w.outs[s][k].bytes = append(w.outs[s][k].bytes, byte(c))
		}
	}
	var queue []int32
	for s := 0; s < n; s++ {
		w.dist[s] = -1
		if d.Accept[s] {
			w.dist[s] = 0
			queue = append(queue, int32(s))
		}
	}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		for _, s := range rev[t] {
			if w.dist[s] < 0 {
				w.dist[s] = w.dist[t] + 1
				queue = append(queue, s)
			}
		}
	}
	return w
}

// sample walks from the start state, stopping at an accepting state with
// probability stop, and heading straight for acceptance past maxLen bytes.
func (w *walker) sample(r *rand.Rand, stop float64, maxLen int) []byte {
	var out []byte
	s := w.d.Start
	for {
		if w.d.Accept[s] && (len(w.outs[s]) == 0 || r.Float64() < stop || len(out) >= maxLen) {
			return out
		}
		outs := w.outs[s]
		if len(out) >= maxLen {
			var closer []walkOut
			for _, o := range outs {
				if w.dist[o.to] < w.dist[s] {
					closer = append(closer, o)
				}
			}
			outs = closer
		}
		o := outs[r.IntN(len(outs))]
		out = append(out, o.bytes[r.IntN(len(o.bytes))])
		s = o.to
	}
}

// TestSoundnessByWalks is the main soundness check: strings sampled from
// every format's automaton must all be accepted by the library.
func TestSoundnessByWalks(t *testing.T) {
	const perFormat = 4000
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			d := dfa(t, name)
			w := newWalker(d)
			r := rand.New(rand.NewPCG(uint64(len(name)), 7))
			stops := []float64{0.5, 0.1, 0.02, 0.002}
			lens := []int{10, 40, 120, 400}
			maxSeen := 0
			for i := 0; i < perFormat; i++ {
				s := w.sample(r, stops[i%len(stops)], lens[(i/len(stops))%len(lens)])
				maxSeen = max(maxSeen, len(s))
				if !d.Matches(s) {
					t.Fatalf("walk produced %q, not in the language", s)
				}
				if !utf8.Valid(s) {
					t.Fatalf("walk produced invalid UTF-8 %q", s)
				}
				if !lib(t, name, string(s)) {
					t.Errorf("SOUNDNESS: %s accepts %q, library rejects", name, s)
				}
			}
			t.Logf("%d walks, longest %d bytes", perFormat, maxSeen)
		})
	}
}

// ---- soundness and exactness on mutated strings ----

// mutationAlphabet lists, per format, the bytes TestMutations inserts into
// and substitutes in valid examples. Every mutant our automaton accepts must
// be accepted by the library; for exactFormats (equal to the library's
// language over valid UTF-8) the verdicts must agree on every mutant.
var mutationAlphabet = map[string]string{
	"date":                  "0123456789-",
	"ipv4":                  "0123456789.",
	"ipv6":                  "0123456789abcdefABCDEFg:.%",
	"uuid":                  "0123456789abcdefABCDEFg-",
	"json-pointer":          "/~01a",
	"relative-json-pointer": "0123/~#a",
	"time":                  "0123456789:.+-Zz",
	"date-time":             "0123456789:.+-ZzTt",
	"duration":              "0123456789PYMWDTHS.",
	"hostname":              "ab09-.",
	"email":                 "ab.@\"[]:-_ ",
	"uri":                   "ab:/?#%[]@1.",
	"uri-reference":         "ab:/?#%[]@1.",
}

var exactFormats = map[string]bool{"date": true, "ipv4": true, "ipv6": true, "uuid": true,
	"json-pointer": true, "relative-json-pointer": true}

func mutate(r *rand.Rand, s, alphabet string) string {
	b := []byte(s)
	for n := 1 + r.IntN(3); n > 0; n-- {
		c := alphabet[r.IntN(len(alphabet))]
		switch i := r.IntN(len(b) + 1); r.IntN(4) {
		case 0: // insert
			b = slices.Insert(b, i, c)
		case 1: // delete
			if i < len(b) {
				b = slices.Delete(b, i, i+1)
			}
		case 2: // replace
			if i < len(b) {
				b[i] = c
			}
		default: // duplicate a piece
			j := i + r.IntN(len(b)-i+1)
			b = slices.Insert(b, j, b[i:j]...)
		}
	}
	return string(b)
}

func TestMutations(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for name, alphabet := range mutationAlphabet {
		d := dfa(t, name)
		var seeds []string
		for _, ex := range examples[name] {
			if ex.ours {
				seeds = append(seeds, ex.s)
			}
		}
		agree, total := 0, 0
		for i := 0; i < 6000; i++ {
			s := mutate(r, seeds[r.IntN(len(seeds))], alphabet)
			ours, theirs := d.Matches([]byte(s)), lib(t, name, s)
			total++
			if ours == theirs {
				agree++
			}
			if ours && !theirs {
				t.Errorf("SOUNDNESS: %s accepts %q, library rejects", name, s)
			}
			// the library reads invalid UTF-8 as U+FFFD; we only produce UTF-8
			if exactFormats[name] && ours != theirs && utf8.ValidString(s) {
				t.Errorf("%s %q: ours %v, library %v (should be exact)", name, s, ours, theirs)
			}
		}
		t.Logf("%-22s mutations: %d/%d verdicts agree", name, agree, total)
	}
}

// ---- exhaustive date and time checks ----

func TestDateExhaustive(t *testing.T) {
	d := dfa(t, "date")
	years := []int{}
	for _, rg := range [][2]int{{0, 10}, {96, 104}, {396, 404}, {1896, 1904}, {1996, 2004}, {2096, 2104},
		{2396, 2404}, {9990, 9999}} {
		for y := rg[0]; y <= rg[1]; y++ {
			years = append(years, y)
		}
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 100; i++ {
		years = append(years, r.IntN(10000))
	}
	for _, y := range years {
		for m := 0; m <= 13; m++ {
			for day := 0; day <= 32; day++ {
				s := fmt.Sprintf("%04d-%02d-%02d", y, m, day)
				if ours, theirs := d.Matches([]byte(s)), lib(t, "date", s); ours != theirs {
					t.Errorf("date %q: ours %v, library %v", s, ours, theirs)
				}
			}
		}
	}
}

// TestLeapSeconds checks every local time hh:mm:60 against every offset
// whose minutes are 00, 15, 30 or 45 (where we are exact), and a sample of
// other offsets (where we only must not accept what the library rejects).
func TestLeapSeconds(t *testing.T) {
	d := dfa(t, "time")
	var offsets []string
	for zh := 0; zh < 24; zh++ {
		for _, zm := range []int{0, 15, 30, 45} {
			offsets = append(offsets, fmt.Sprintf("+%02d:%02d", zh, zm), fmt.Sprintf("-%02d:%02d", zh, zm))
		}
	}
	offsets = append(offsets, "Z", "z")
	accepted := 0
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			for _, off := range offsets {
				s := fmt.Sprintf("%02d:%02d:60%s", h, m, off)
				ours, theirs := d.Matches([]byte(s)), lib(t, "time", s)
				if ours != theirs {
					t.Errorf("time %q: ours %v, library %v", s, ours, theirs)
				}
				if ours {
					accepted++
				}
			}
		}
	}
	// each offset (and Z) pairs with exactly one local time
	if accepted != len(offsets) {
		t.Errorf("%d leap-second times accepted, want %d", accepted, len(offsets))
	}
	r := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < 20000; i++ {
		s := fmt.Sprintf("%02d:%02d:60%s%02d:%02d", r.IntN(24), r.IntN(60), []string{"+", "-"}[r.IntN(2)], r.IntN(24), r.IntN(60))
		if d.Matches([]byte(s)) && !lib(t, "time", s) {
			t.Errorf("SOUNDNESS: time accepts %q, library rejects", s)
		}
	}
}

// TestTimeGrid compares hours, minutes and seconds around their bounds with
// a few offsets; outside leap seconds the language is exact.
func TestTimeGrid(t *testing.T) {
	d := dfa(t, "time")
	offs := []string{"Z", "z", "+00:00", "-00:00", "+05:30", "-08:00", "+23:59", "-23:45", "+24:00", "-00:60", ""}
	for h := 0; h <= 25; h++ {
		for m := 0; m <= 61; m++ {
			for _, sec := range []string{"00", "59", "60", "61", "99", "00.5", "59.999"} {
				for _, off := range offs {
					s := fmt.Sprintf("%02d:%02d:%s%s", h, m, sec, off)
					ours, theirs := d.Matches([]byte(s)), lib(t, "time", s)
					if ours && !theirs || ours != theirs && !strings.HasPrefix(sec, "60") {
						t.Errorf("time %q: ours %v, library %v", s, ours, theirs)
					}
				}
			}
		}
	}
}

// ---- completeness: generated valid values ----

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func genDate(r *rand.Rand) string {
	y, m := r.IntN(10000), 1+r.IntN(12)
	return fmt.Sprintf("%04d-%02d-%02d", y, m, 1+r.IntN(daysIn(y, m)))
}

func genTime(r *rand.Rand) string {
	s := fmt.Sprintf("%02d:%02d:%02d", r.IntN(24), r.IntN(60), r.IntN(60))
	if r.IntN(2) == 0 {
		s += "." + fmt.Sprint(r.IntN(1000000000))
	}
	switch r.IntN(4) {
	case 0:
		return s + "Z"
	case 1:
		return s + "z"
	}
	return s + fmt.Sprintf("%c%02d:%02d", "+-"[r.IntN(2)], r.IntN(24), r.IntN(60))
}

// genLeap makes a leap second at 23:59:60 UTC in a zone with quarter-hour
// minutes, formatted by local time.
func genLeap(r *rand.Rand) string {
	off := (r.IntN(24*4) * 15) * []int{1, -1}[r.IntN(2)]
	l := ((23*60+59+off)%1440 + 1440) % 1440
	sign, o := '+', off
	if off < 0 {
		sign, o = '-', -off
	}
	return fmt.Sprintf("%02d:%02d:60.%d%c%02d:%02d", l/60, l%60, r.IntN(100), sign, o/60, o%60)
}

func genDateTime(r *rand.Rand) string {
	loc := time.FixedZone("", (r.IntN(2*1440-1)-1439)*60)
	t := time.Date(1+r.IntN(9998), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60),
		r.IntN(1000000000), loc)
	if r.IntN(3) == 0 {
		t = t.UTC()
	}
	s := t.Format("2006-01-02T15:04:05.999999999Z07:00")
	if r.IntN(4) == 0 {
		s = strings.ToLower(s)
	}
	return s
}

func genDuration(r *rand.Rand) string {
	n := func() string { return fmt.Sprint(r.IntN(1000)) }
	if r.IntN(8) == 0 {
		return "P" + n() + "W"
	}
	// pick a contiguous run of units in YMD and in HMS, at least one overall
	run := func(units string) string {
		if r.IntN(3) == 0 {
			return ""
		}
		i := r.IntN(len(units))
		j := i + 1 + r.IntN(len(units)-i)
		var sb strings.Builder
		for _, u := range units[i:j] {
			sb.WriteString(n())
			sb.WriteRune(u)
		}
		return sb.String()
	}
	date, tm := run("YMD"), run("HMS")
	if date == "" && tm == "" {
		tm = n() + "S"
	}
	if tm != "" {
		tm = "T" + tm
	}
	return "P" + date + tm
}

const ldh = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"

func genLabel(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = ldh[r.IntN(len(ldh))]
		if (i == 0 || i == n-1) && b[i] == '-' {
			b[i] = 'x'
		}
	}
	return string(b)
}

// genHostname makes hostnames inside the documented guarantee: at most 15
// labels of at most 15 characters, or at most 5 labels and 164 characters.
func genHostname(r *rand.Rand) string {
	var labels []string
	if r.IntN(2) == 0 {
		for k := 1 + r.IntN(15); k > 0; k-- {
			labels = append(labels, genLabel(r, 1+r.IntN(15)))
		}
	} else {
		total := -1
		for k := 1 + r.IntN(5); k > 0; k-- {
			l := genLabel(r, 1+r.IntN(63))
			if total+1+len(l) > 164 {
				break
			}
			total += 1 + len(l)
			labels = append(labels, l)
		}
		if len(labels) == 0 {
			labels = append(labels, genLabel(r, 1+r.IntN(63)))
		}
	}
	for i, l := range labels {
		if len(l) >= 4 && l[2:4] == "--" { // reserved for A-labels; see hostname
			labels[i] = l[:2] + "x" + l[3:]
		}
	}
	return strings.Join(labels, ".")
}

func genIPv4(r *rand.Rand) string {
	return netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))}).String()
}

// genIPv6 spells random addresses in every way RFC 4291 allows: any case,
// optional leading zeros, any run of zero groups compressed, and an optional
// dotted quad for the last 32 bits.
func genIPv6(r *rand.Rand) string {
	var a [16]byte
	for i := range a {
		if r.IntN(3) > 0 { // many zero bytes, so that runs of zero groups occur
			a[i] = byte(r.IntN(256))
		}
	}
	switch r.IntN(6) {
	case 0:
		return netip.AddrFrom16(a).String()
	case 1:
		return netip.AddrFrom16(a).StringExpanded()
	case 2: // IPv4-mapped, as netip prints it
		copy(a[:12], []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
		return netip.AddrFrom16(a).String()
	}
	quad := r.IntN(2) == 0
	n := 8
	if quad {
		n = 6
	}
	groups := make([]string, n)
	for i := range groups {
		v := uint16(a[2*i])<<8 | uint16(a[2*i+1])
		if r.IntN(4) == 0 {
			v = 0
		}
		g := fmt.Sprintf("%x", v)
		if r.IntN(3) == 0 {
			g = fmt.Sprintf("%04x", v)
		}
		if r.IntN(2) == 0 {
			g = strings.ToUpper(g)
		}
		groups[i] = g
	}
	tail := ""
	if quad {
		tail = netip.AddrFrom4([4]byte(a[12:])).String()
	}
	// compress a random run of zero groups (if any)
	var runs [][2]int
	for i := 0; i < n; i++ {
		for j := i; j < n && strings.Trim(groups[j], "0") == ""; j++ {
			runs = append(runs, [2]int{i, j + 1})
		}
	}
	if len(runs) > 0 && r.IntN(4) > 0 {
		rn := runs[r.IntN(len(runs))]
		pre, post := strings.Join(groups[:rn[0]], ":"), strings.Join(groups[rn[1]:], ":")
		if tail != "" {
			if post != "" {
				post += ":"
			}
			post += tail
		}
		return pre + "::" + post
	}
	s := strings.Join(groups, ":")
	if tail != "" {
		s += ":" + tail
	}
	return s
}

func genUUID(r *rand.Rand) string {
	const hex = "0123456789abcdefABCDEF"
	var sb strings.Builder
	for i, n := range []int{8, 4, 4, 4, 12} {
		if i > 0 {
			sb.WriteByte('-')
		}
		for ; n > 0; n-- {
			sb.WriteByte(hex[r.IntN(len(hex))])
		}
	}
	return sb.String()
}

func genEmail(r *rand.Rand) string {
	const atext = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
	var parts []string
	for k := 1 + r.IntN(4); k > 0; k-- {
		b := make([]byte, 1+r.IntN(12))
		for i := range b {
			b[i] = atext[r.IntN(len(atext))]
		}
		parts = append(parts, string(b))
	}
	local := strings.Join(parts, ".")
	var labels []string // within the 63-character domain of email
	for k := 1 + r.IntN(4); k > 0; k-- {
		labels = append(labels, genLabel(r, 1+r.IntN(14)))
	}
	for i, l := range labels {
		if len(l) >= 4 && l[2:4] == "--" { // reserved for A-labels; see hostname
			labels[i] = l[:2] + "x" + l[3:]
		}
	}
	return local + "@" + strings.Join(labels, ".")
}

const urlSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@ /?é%"

func genText(r *rand.Rand, n int) string {
	rs := []rune(urlSafe)
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteRune(rs[r.IntN(len(rs))])
	}
	return sb.String()
}

// genURL builds URLs with net/url, which escapes what needs escaping.
func genURL(r *rand.Rand) string {
	schemes := []string{"http", "https", "ftp", "urn", "mailto", "x-a+b.c", "file"}
	u := &url.URL{Scheme: schemes[r.IntN(len(schemes))]}
	switch r.IntN(4) {
	case 0: // opaque
		u.Opaque = strings.ReplaceAll(url.PathEscape(genText(r, 1+r.IntN(20))), "%", "%25")
		if u.Opaque == "" || u.Opaque[0] == '/' {
			u.Opaque = "x" + u.Opaque
		}
		u.Opaque = strings.ReplaceAll(u.Opaque, "%25", "%")
	default:
		switch r.IntN(4) {
		case 0:
			u.Host = "[" + genIPv6(r) + "]"
		case 1:
			u.Host = genIPv4(r)
		default:
			u.Host = genHostname(r)
		}
		if r.IntN(3) == 0 {
			u.Host += fmt.Sprintf(":%d", r.IntN(65536))
		}
		if r.IntN(4) == 0 {
			u.User = url.UserPassword(genText(r, r.IntN(6)), genText(r, r.IntN(6)))
		}
		u.Path = "/" + genText(r, r.IntN(20))
	}
	if r.IntN(2) == 0 {
		u.RawQuery = url.Values{genText(r, 1+r.IntN(5)): {genText(r, r.IntN(8))}}.Encode()
	}
	if r.IntN(2) == 0 {
		u.Fragment = genText(r, r.IntN(10))
	}
	return u.String()
}

func genURIReference(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return genURL(r)
	}
	u := genURL(r)
	switch r.IntN(4) {
	case 0: // network-path reference
		if i := strings.Index(u, "://"); i >= 0 {
			return u[i+1:]
		}
		return u
	case 1:
		return "/" + url.PathEscape(genText(r, r.IntN(10)))
	case 2:
		return "../" + url.PathEscape(genText(r, r.IntN(10)))
	}
	return "?" + url.QueryEscape(genText(r, r.IntN(10))) + "#" + url.PathEscape(genText(r, r.IntN(10)))
}

func genJSONPointer(r *rand.Rand) string {
	pool := []rune{'a', 'b', '/', '~', ' ', 'é', '😀', 0, '"', '\\', '0', '1'}
	var sb strings.Builder
	for k := r.IntN(5); k > 0; k-- {
		var tok strings.Builder
		for n := r.IntN(6); n > 0; n-- {
			tok.WriteRune(pool[r.IntN(len(pool))])
		}
		sb.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(tok.String()))
	}
	return sb.String()
}

func genRelJSONPointer(r *rand.Rand) string {
	n := fmt.Sprint(r.IntN(1000))
	if r.IntN(3) == 0 {
		return n + "#"
	}
	return n + genJSONPointer(r)
}

var generators = map[string]func(*rand.Rand) string{
	"date":                  genDate,
	"time":                  genTime,
	"date-time":             genDateTime,
	"duration":              genDuration,
	"hostname":              genHostname,
	"ipv4":                  genIPv4,
	"ipv6":                  genIPv6,
	"uuid":                  genUUID,
	"email":                 genEmail,
	"idn-email":             genEmail,
	"uri":                   genURL,
	"iri":                   genURL,
	"uri-reference":         genURIReference,
	"iri-reference":         genURIReference,
	"json-pointer":          genJSONPointer,
	"relative-json-pointer": genRelJSONPointer,
}

func TestCompleteness(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	gens := map[string]func(*rand.Rand) string{"time/leap": genLeap}
	for name, gen := range generators {
		gens[name] = gen
	}
	for name, gen := range gens {
		format, _, _ := strings.Cut(name, "/")
		d := dfa(t, format)
		for i := 0; i < 3000; i++ {
			s := gen(r)
			if !lib(t, format, s) {
				t.Fatalf("generator for %s made %q, which the library rejects", name, s)
			}
			if !d.Matches([]byte(s)) {
				t.Errorf("%s: valid %q not accepted", name, s)
			}
		}
	}
}

// ---- hostname automaton against its grammar ----

// hostnameGrammar is the grammar hostnameUnitsDFA implements:
// h(u) = | over k of label_k ["." h(u-k)], with label_k the labels of
// ceil((len+1)/16) = k units.
func hostnameGrammar(b *rx.Builder, budget int) rx.Expr {
	g := gen{b, newCache()}
	alnum, ldh := g.alnum(), g.set("a-zA-Z0-9-")
	shape := g.cat(alnum, g.opt(g.cat(g.star(ldh), alnum)))
	h := []rx.Expr{rx.Nothing}
	for u := 1; u <= budget; u++ {
		var alts []rx.Expr
		for k := 1; k <= 4 && k <= u; k++ {
			lo, hi := max(1, (k-1)*hostUnit), min(63, k*hostUnit-1)
			lab := b.And(shape, g.rep(ldh, lo, hi))
			alts = append(alts, g.cat(lab, g.opt(g.cat(g.lit("."), h[u-k]))))
		}
		h = append(h, g.or(alts...))
	}
	return h[budget]
}

func TestHostnameAutomaton(t *testing.T) {
	for _, budget := range []int{1, 2, 5, 8, hostnameBudget} {
		b := rx.NewBuilder()
		want, err := b.Compile(hostnameGrammar(b, budget), rx.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := hostnameUnitsDFA(budget)
		if got.String() != want.String() {
			t.Errorf("budget %d: automaton (%d states) differs from grammar (%d states)", budget, got.NumStates(), want.NumStates())
		}
	}
	// the units imply the library's 253 bound: the longest accepted name
	w := newWalker(dfa(t, "hostname"))
	if l := longest(w); l != 16*hostnameBudget-1 {
		t.Errorf("longest hostname %d, want %d", l, 16*hostnameBudget-1)
	}
	if l := longest(newWalker(dfa(t, "email"))); l > 254 {
		t.Errorf("longest email %d > 254", l)
	}
}

// longest is the length of the longest string of an acyclic DFA.
func longest(w *walker) int {
	memo := map[int32]int{}
	var f func(s int32) int
	f = func(s int32) int {
		if v, ok := memo[s]; ok {
			return v
		}
		memo[s] = -1 << 30 // a cycle would make this wrong; formats here are finite
		best := 0
		for _, o := range w.outs[s] {
			best = max(best, 1+f(o.to))
		}
		memo[s] = best
		return best
	}
	return f(w.d.Start)
}

// ---- sizes and timing ----

func TestSizes(t *testing.T) {
	for _, name := range Names() {
		t0 := time.Now()
		d, _ := newCache().format(name)
		fresh := time.Since(t0)
		t0 = time.Now()
		d2 := dfa(t, name)
		embedded := time.Since(t0)
		if d.NumStates() >= 5000 {
			t.Errorf("%s: %d states", name, d.NumStates())
		}
		if d2.String() != d.String() {
			t.Errorf("%s: Lang+Compile differs from the cached DFA", name)
		}
		t.Logf("%-22s %5d states %3d classes; from scratch %8.2fms, Lang+Compile %8.2fms",
			name, d.NumStates(), d.NumClasses, ms(fresh), ms(embedded))
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkCompileFormats measures, per format, building the minimal DFA
// from nothing (fresh: no cached sub-languages) and a caller's Lang+Compile
// with the process-wide cache warm (embed).
func BenchmarkCompileFormats(b *testing.B) {
	for _, name := range Names() {
		b.Run("fresh/"+name, func(b *testing.B) {
			var states int
			for i := 0; i < b.N; i++ {
				d, _ := newCache().format(name)
				states = d.NumStates()
			}
			b.ReportMetric(float64(states), "states")
		})
	}
	for _, name := range Names() {
		b.Run("embed/"+name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dfa(b, name)
			}
		})
	}
}
