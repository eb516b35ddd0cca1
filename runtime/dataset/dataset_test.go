package dataset_test

import (
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/schemac-dev/schemac/runtime/dataset"
)

func TestWords(t *testing.T) {
	for n, want := range map[int]string{0: "zero", 1: "one", 7: "seven", 11: "eleven", 12: "twelve", 13: "thirteen",
		15: "fifteen", 19: "nineteen", 20: "twenty", 21: "twenty-one", 40: "forty", 99: "ninety-nine", 100: "", -1: ""} {
		if got := dataset.Words(n); got != want {
			t.Errorf("Words(%d) = %q, want %q", n, got, want)
		}
		if want == "" {
			continue
		}
		if got, ok := dataset.ParseWords(strings.ToUpper(want[:1]) + want[1:]); !ok || got != n {
			t.Errorf("ParseWords(%q) = %d, %v", want, got, ok)
		}
	}
	if _, ok := dataset.ParseWords("eleventy"); ok {
		t.Error("ParseWords accepted eleventy")
	}
}

func TestSplitCounts(t *testing.T) {
	for _, c := range []struct {
		n    int
		fr   [3]float64
		want [3]int
	}{
		{500, [3]float64{0.8, 0.1, 0.1}, [3]int{400, 50, 50}},
		{1000, [3]float64{0.8, 0.1, 0.1}, [3]int{800, 100, 100}},
		{7, [3]float64{0.8, 0.1, 0.1}, [3]int{5, 1, 1}}, // 5.6, 0.7, 0.7: the two largest remainders get one each
		{10, [3]float64{1, 0, 0}, [3]int{10, 0, 0}},
		{3, [3]float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, [3]int{1, 1, 1}},
		{0, [3]float64{0.8, 0.1, 0.1}, [3]int{0, 0, 0}},
	} {
		if got := dataset.SplitCounts(c.n, c.fr); got != c.want {
			t.Errorf("SplitCounts(%d, %v) = %v, want %v", c.n, c.fr, got, c.want)
		}
	}
}

func TestParseSplit(t *testing.T) {
	if fr, err := dataset.ParseSplit(" 0.7, 0.2 ,0.1"); err != nil || fr != [3]float64{0.7, 0.2, 0.1} {
		t.Errorf("ParseSplit = %v, %v", fr, err)
	}
	for _, bad := range []string{"", "0.8,0.2", "0.8,0.1,0.1,0", "a,b,c", "0.5,0.5,0.5", "-0.1,0.6,0.5", "NaN,0,1", "Inf,0,0"} {
		if _, err := dataset.ParseSplit(bad); err == nil {
			t.Errorf("ParseSplit(%q) accepted", bad)
		}
	}
}

func samples(t *testing.T, cfg dataset.Config) []dataset.Sample {
	t.Helper()
	g, err := dataset.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]dataset.Sample, g.Len())
	for i := range out {
		out[i] = g.Sample(i)
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a := samples(t, dataset.DefaultConfig(7, 200))
	b := samples(t, dataset.DefaultConfig(7, 200))
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different samples")
	}
	c := samples(t, dataset.DefaultConfig(8, 200))
	same := 0
	for i := range a {
		if a[i].Input == c[i].Input {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 7 and 8 share %d of 200 inputs", same)
	}
}

func TestHeldOut(t *testing.T) {
	if n := len(dataset.Templates()); n < 12+len(dataset.DefaultHeldOut) {
		t.Errorf("%d templates, want at least 12 besides the %d held out", n, len(dataset.DefaultHeldOut))
	}
	used := map[string]bool{}
	heldInEval := 0
	for _, s := range samples(t, dataset.DefaultConfig(1, 2000)) {
		used[s.Template] = true
		held := slices.Contains(dataset.DefaultHeldOut, s.Template)
		if held != s.HeldOut {
			t.Fatalf("sample %d: HeldOut %v for template %s", s.Index, s.HeldOut, s.Template)
		}
		if held && s.Split == dataset.Train {
			t.Fatalf("sample %d: held-out template %s in train", s.Index, s.Template)
		}
		if held {
			heldInEval++
		}
	}
	for _, name := range dataset.Templates() {
		if !used[name] {
			t.Errorf("template %s never used in 2000 samples", name)
		}
	}
	// Validation and test are 400 examples; about half use a held-out template.
	if heldInEval < 150 || heldInEval > 250 {
		t.Errorf("%d of 400 evaluation examples use held-out templates, want about 200", heldInEval)
	}
	// Another held-out set, and none.
	for _, s := range samples(t, dataset.Config{Seed: 1, N: 300, Split: [3]float64{0.5, 0.25, 0.25}, HeldOut: []string{"article", "resume"}, EmailRate: 0.7}) {
		if s.Split == dataset.Train && (s.Template == "article" || s.Template == "resume") {
			t.Fatalf("sample %d: held-out %s in train", s.Index, s.Template)
		}
	}
	if _, err := dataset.New(dataset.Config{N: 1, Split: [3]float64{1, 0, 0}, HeldOut: []string{"nosuch"}}); err == nil {
		t.Error("unknown held-out template accepted")
	}
	if _, err := dataset.New(dataset.Config{N: 1, Split: [3]float64{1, 0, 0}, HeldOut: dataset.Templates()}); err == nil {
		t.Error("all templates held out accepted")
	}
}

// TestFacts checks that each text states what its profile says: the name
// (without title), every skill in order, the e-mail exactly when there is
// one, and the years in digits or words.
func TestFacts(t *testing.T) {
	yearsWord := regexp.MustCompile(`(?i)\b([a-z]+(?:-[a-z]+)?)[ -](?:years?|yrs?)\b`)
	words, emails := 0, 0
	for _, s := range samples(t, dataset.DefaultConfig(3, 1000)) {
		p, in := s.Profile, s.Input
		name := p.FullName
		if s.Template == "roster" {
			f := strings.Fields(name)
			name = f[len(f)-1] + ", " + strings.Join(f[:len(f)-1], " ")
		}
		if !strings.Contains(in, name) {
			t.Errorf("sample %d: name %q not in %q", s.Index, name, in)
		}
		if strings.HasPrefix(p.FullName, "Dr.") {
			t.Errorf("sample %d: title in full_name %q", s.Index, p.FullName)
		}
		at := 0
		for _, sk := range p.Skills {
			i := strings.Index(in[at:], sk)
			if i < 0 {
				t.Errorf("sample %d: skill %q missing or out of order in %q", s.Index, sk, in)
				break
			}
			at += i + len(sk)
		}
		if n := len(p.Skills); n < 3 || n > 6 {
			t.Errorf("sample %d: %d skills", s.Index, n)
		}
		if p.YearsOfExperience < 1 || p.YearsOfExperience > 20 {
			t.Errorf("sample %d: %d years", s.Index, p.YearsOfExperience)
		}
		if !slices.Contains(dataset.Roles, p.PrimaryRole) {
			t.Errorf("sample %d: role %q", s.Index, p.PrimaryRole)
		}
		if p.Email != nil {
			emails++
			if !strings.Contains(in, *p.Email) {
				t.Errorf("sample %d: email %q not in text", s.Index, *p.Email)
			}
		}
		y := p.YearsOfExperience
		if s.YearsInWords {
			words++
			found := false
			for _, m := range yearsWord.FindAllStringSubmatch(in, -1) {
				if n, ok := dataset.ParseWords(m[1]); ok {
					found = true
					if n != y {
						t.Errorf("sample %d: %q in the text but years_of_experience %d", s.Index, m[0], y)
					}
				}
			}
			if !found {
				t.Errorf("sample %d: years in words, but no number word before year in %q", s.Index, in)
			}
		} else if !regexp.MustCompile(`\b` + strconv.Itoa(y) + `(\+|[ -]years?|[ -]yrs?|\n|$)`).MatchString(in) {
			t.Errorf("sample %d: %d years not in %q", s.Index, y, in)
		}
	}
	if words < 250 || words > 450 {
		t.Errorf("%d of 1000 texts write the years in words, want about 350", words)
	}
	if emails < 650 || emails > 750 {
		t.Errorf("%d of 1000 profiles have an email, want about 700", emails)
	}
}

func TestRead(t *testing.T) {
	good := dataset.Record{ID: 0, Split: dataset.Train, Template: "article", Input: "x", Prompt: "p\n", Completion: "{}", Text: "p\n{}"}
	line := string(good.MarshalLine())
	recs, err := dataset.Read(strings.NewReader(line + "\n" + line))
	if err != nil || len(recs) != 2 || recs[1] != good {
		t.Fatalf("Read = %v, %v", recs, err)
	}
	for _, c := range []struct {
		in   string
		line int
	}{
		{line + "{not json\n", 2},
		{line + line + `{"id":1,"bogus":2}` + "\n", 3},
		{strings.Replace(line, `"text":"p\n{}"`, `"text":"p{}"`, 1), 1},
		{strings.Replace(line, `"split":"train"`, `"split":"dev"`, 1), 1},
		{line + `{"id":1} {"id":2}` + "\n", 2},
	} {
		_, err := dataset.Read(strings.NewReader(c.in))
		var le *dataset.LineError
		if !errors.As(err, &le) || le.Line != c.line {
			t.Errorf("Read(%q): %v, want an error on line %d", c.in, err, c.line)
		}
	}
}
