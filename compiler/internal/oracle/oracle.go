// Package oracle holds what tests use to check the compiler against an
// independent implementation: schema validation with
// github.com/santhosh-tekuri/jsonschema/v6 (format assertions on), and
// random walks through a token automaton.
package oracle

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/compiler/tokens"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

// Validator validates instances against one schema.
type Validator struct{ s *jsonschema.Schema }

// NewValidator compiles doc's root schema with the reference library.
func NewValidator(doc *schema.Document) (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(refuse{})
	c.DefaultDraft(libDraft(doc.Draft))
	const url = "mem://schema.json"
	if err := c.AddResource(url, doc.Root.Interface()); err != nil {
		return nil, err
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, err
	}
	return &Validator{s}, nil
}

func libDraft(d schema.Draft) *jsonschema.Draft {
	switch d {
	case schema.Draft4:
		return jsonschema.Draft4
	case schema.Draft6:
		return jsonschema.Draft6
	case schema.Draft7:
		return jsonschema.Draft7
	case schema.Draft2019:
		return jsonschema.Draft2019
	}
	return jsonschema.Draft2020
}

type refuse struct{}

func (refuse) Load(u string) (any, error) { return nil, fmt.Errorf("no loading of %s in tests", u) }

// Validate parses text as JSON and validates it.
func (v *Validator) Validate(text []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return v.s.Validate(inst)
}

// Walker draws random outputs from a token automaton.
type Walker struct {
	A   *tokens.Automaton
	Tok *tokenizer.Tokenizer
	// byteTok is, for each byte, a token spelling exactly that byte.
	byteTok [256]int
	dist    []int // token steps to acceptance when moving byte by byte
}

// NewWalker prepares random walks on a.
func NewWalker(a *tokens.Automaton, tok *tokenizer.Tokenizer) *Walker {
	w := &Walker{A: a, Tok: tok}
	for c := range w.byteTok {
		w.byteTok[c] = -1
	}
	for id := 0; id < tok.VocabSize(); id++ {
		if bs := tok.TokenBytes(id); len(bs) == 1 && w.byteTok[bs[0]] < 0 {
			w.byteTok[bs[0]] = id
		}
	}
	// distance to acceptance through single-byte tokens (reverse BFS)
	n := a.NumStates()
	rev := make([][]int32, n)
	for s := 0; s < n; s++ {
		for c := 0; c < 256; c++ {
			if id := w.byteTok[c]; id >= 0 {
				if t := a.Next(int32(s), id); t >= 0 {
					rev[t] = append(rev[t], int32(s))
				}
			}
		}
	}
	w.dist = make([]int, n)
	var queue []int32
	for s := range w.dist {
		w.dist[s] = -1
		if a.Accepting(int32(s)) {
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

// Walk draws one output: at each step it takes, with probability 1/2, a
// uniformly random allowed token, and otherwise a single-byte token that
// moves closer to acceptance; in accepting states it stops with
// probability stop. It returns the bytes and the token ids, or ok=false if
// maxSteps ran out or a state had no way forward.
func (w *Walker) Walk(r *rand.Rand, stop float64, maxSteps int) (out []byte, ids []int, ok bool) {
	a := w.A
	s := a.Start
	for step := 0; step < maxSteps; step++ {
		if a.Accepting(s) && (r.Float64() < stop || a.NumAllowed(s) == 0) {
			return out, ids, true
		}
		id := -1
		if r.IntN(2) == 0 {
			id = randomAllowed(a, s, r)
		} else {
			for c := 0; c < 256; c++ {
				t := w.byteTok[c]
				if t < 0 {
					continue
				}
				if nx := a.Next(s, t); nx >= 0 && w.dist[nx] >= 0 && w.dist[nx] < w.dist[s] {
					id = t
					break
				}
			}
		}
		if id < 0 {
			id = randomAllowed(a, s, r)
		}
		if id < 0 {
			return out, ids, false
		}
		ids = append(ids, id)
		out = append(out, w.Tok.TokenBytes(id)...)
		s = a.Next(s, id)
	}
	return out, ids, false
}

func randomAllowed(a *tokens.Automaton, s int32, r *rand.Rand) int {
	n := a.NumAllowed(s)
	if n == 0 {
		return -1
	}
	k := r.IntN(n)
	row := a.Rows[a.Row[s]]
	for i, word := range row {
		for word != 0 {
			bit := word & -word
			if k == 0 {
				return i*64 + trailing(bit)
			}
			k--
			word &^= bit
		}
	}
	return -1
}

func trailing(x uint64) int {
	n := 0
	for x&1 == 0 {
		x >>= 1
		n++
	}
	return n
}

// Quote shortens text for test messages.
func Quote(b []byte) string {
	s := string(b)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return fmt.Sprintf("%q", strings.ToValidUTF8(s, "\uFFFD"))
}
