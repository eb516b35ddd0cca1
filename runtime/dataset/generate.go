package dataset

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/brianvoe/gofakeit/v7"
)

// Split names the part of the data set an example belongs to.
type Split string

// The three splits, in the order of Config.Split.
const (
	Train      Split = "train"
	Validation Split = "validation"
	Test       Split = "test"
)

// Splits lists the splits in Config.Split order.
var Splits = [3]Split{Train, Validation, Test}

// Config says what to generate.
type Config struct {
	Seed uint64
	// N is the number of examples.
	N int
	// Split gives the train, validation and test fractions (each ≥ 0,
	// summing to 1); SplitCounts turns them into exact counts.
	Split [3]float64
	// HeldOut names templates that train examples never use; nil means
	// DefaultHeldOut, an empty non-nil slice means none.
	HeldOut []string
	// EmailRate is the probability that a profile has an e-mail address.
	EmailRate float64
}

// DefaultConfig is the article's setup: 70% e-mail, an 80/10/10 split.
func DefaultConfig(seed uint64, n int) Config {
	return Config{Seed: seed, N: n, Split: [3]float64{0.8, 0.1, 0.1}, EmailRate: 0.7}
}

// Sample is one generated example.
type Sample struct {
	Index    int
	Split    Split
	Template string // the biography template's name
	HeldOut  bool   // the template is held out of training
	Input    string // the text to extract from
	Profile  Profile
	// YearsInWords says the text writes the years of experience in words.
	YearsInWords bool
}

// Generator draws the examples of one Config.
type Generator struct {
	cfg        Config
	splits     []Split
	seen, held []int // template indices
}

// New checks cfg and prepares the split assignment.
func New(cfg Config) (*Generator, error) {
	if cfg.N < 0 {
		return nil, fmt.Errorf("dataset: negative number of examples %d", cfg.N)
	}
	if err := checkFractions(cfg.Split); err != nil {
		return nil, err
	}
	if math.IsNaN(cfg.EmailRate) || cfg.EmailRate < 0 || cfg.EmailRate > 1 {
		return nil, fmt.Errorf("dataset: e-mail rate %v is not in [0, 1]", cfg.EmailRate)
	}
	heldOut := cfg.HeldOut
	if heldOut == nil {
		heldOut = DefaultHeldOut
	}
	names := Templates()
	g := &Generator{cfg: cfg}
	for _, h := range heldOut {
		if !slices.Contains(names, h) {
			return nil, fmt.Errorf("dataset: unknown template %q (templates: %s)", h, strings.Join(names, ", "))
		}
	}
	for i, name := range names {
		if slices.Contains(heldOut, name) {
			g.held = append(g.held, i)
		} else {
			g.seen = append(g.seen, i)
		}
	}
	if len(g.seen) == 0 {
		return nil, fmt.Errorf("dataset: every template is held out; training would have none")
	}
	// Splits: exact counts, assigned by a permutation of the indices.
	counts := SplitCounts(cfg.N, cfg.Split)
	g.splits = make([]Split, cfg.N)
	perm := rand.New(stream(cfg.Seed, streamSplit, 0)).Perm(cfg.N)
	k := 0
	for s, c := range counts {
		for range c {
			g.splits[perm[k]] = Splits[s]
			k++
		}
	}
	return g, nil
}

// Len is the number of examples.
func (g *Generator) Len() int { return g.cfg.N }

// Sample draws example i (0 ≤ i < Len). It depends only on the seed, i and
// i's split.
func (g *Generator) Sample(i int) Sample {
	src := stream(g.cfg.Seed, streamExample, uint64(i))
	r := rand.New(src)
	f := gofakeit.NewFaker(src, false)
	split := g.splits[i]
	ti := pick(r, g.seen)
	if split != Train && len(g.held) > 0 && chance(r, 0.5) {
		ti = pick(r, g.held)
	}
	t := bioTemplates[ti]
	p := newPerson(r, f, g.cfg.EmailRate)
	text := t.write(&bio{r: r, f: f, p: p})
	return Sample{
		Index: i, Split: split, Template: t.name, HeldOut: slices.Contains(g.held, ti),
		Input: text, Profile: p.profile(), YearsInWords: p.yearsStyle == yearsWords,
	}
}

// Streams of random numbers, one per purpose.
const (
	streamSplit = iota + 1
	streamExample
)

// stream is the ChaCha8 generator keyed by (seed, purpose, i): streams for
// different keys are independent.
func stream(seed uint64, purpose, i uint64) *rand.ChaCha8 {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[0:], seed)
	binary.LittleEndian.PutUint64(key[8:], purpose)
	binary.LittleEndian.PutUint64(key[16:], i)
	copy(key[24:], "datagen1")
	return rand.NewChaCha8(key)
}

// SplitCounts turns fractions into counts that sum to n: each split gets
// the floor of its share, and the examples left over go to the largest
// remainders (the earlier split on ties). 500 at 0.8/0.1/0.1 gives
// 400/50/50.
func SplitCounts(n int, fr [3]float64) [3]int {
	var c [3]int
	var rem [3]float64
	left := n
	for i, f := range fr {
		x := f * float64(n)
		// Round away float noise (0.1*50 = 5.000000000000001) before flooring.
		x = math.Round(x*1e9) / 1e9
		c[i] = int(math.Floor(x))
		rem[i] = x - float64(c[i])
		left -= c[i]
	}
	for ; left > 0; left-- {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		c[best]++
		rem[best] = -1
	}
	return c
}

func checkFractions(fr [3]float64) error {
	sum := 0.0
	for i, f := range fr {
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return fmt.Errorf("dataset: %s fraction %v is not a number ≥ 0", Splits[i], f)
		}
		sum += f
	}
	if math.Abs(sum-1) > 1e-6 {
		return fmt.Errorf("dataset: split fractions sum to %v, not 1", sum)
	}
	return nil
}

// ParseSplit reads "train,validation,test" fractions such as "0.8,0.1,0.1".
func ParseSplit(s string) ([3]float64, error) {
	var fr [3]float64
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return fr, fmt.Errorf("split %q: want three fractions train,validation,test such as 0.8,0.1,0.1", s)
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return fr, fmt.Errorf("split %q: %q is not a number", s, p)
		}
		fr[i] = f
	}
	if err := checkFractions(fr); err != nil {
		return fr, fmt.Errorf("split %q: %s", s, strings.TrimPrefix(err.Error(), "dataset: "))
	}
	return fr, nil
}
