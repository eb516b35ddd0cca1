// Package compiler turns a JSON Schema and a tokenizer vocabulary into a
// token automaton, running the stages in order:
//
//	schema  (compiler/schema)  read, check against the metaschema, resolve $ref
//	lang    (compiler/lang)    lower to a regular language over bytes
//	rx      (compiler/rx)      build the minimal byte DFA
//	tokens  (compiler/tokens)  lift the DFA to tokens: masks, next states
//
// Errors are *schema.Error values whose Code says what went wrong: Invalid
// (not a valid JSON Schema), Unsupported (a keyword that cannot be lowered
// exactly, with its JSON pointer) or TooLarge (a named limit was hit).
package compiler

import (
	"errors"
	"fmt"
	"time"

	"github.com/schemac-dev/schemac/compiler/lang"
	"github.com/schemac-dev/schemac/compiler/rx"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/compiler/tokens"
)

// Options configure a compile. The zero value is the default: indent2
// layout, DefaultMaxDepth, default limits.
type Options struct {
	Layout lang.Layout
	// MaxDepth bounds JSON nesting (see lang.Options.MaxDepth).
	MaxDepth int
	// MaxStates bounds byte-DFA states (see rx.Options).
	MaxStates int
	// MaxTableBytes bounds the token tables (see tokens.Options).
	MaxTableBytes int
	// MaxExprs bounds the regular-expression nodes built while lowering.
	MaxExprs int
	// BigNumbers lifts the default limit of numbers to what Go's int64 and
	// float64 hold exactly (see lang.Options.BigNumbers).
	BigNumbers bool
}

// DefaultMaxExprs is the default cap on expression nodes: each costs about
// 100 bytes with its memo entries, so this keeps a compile under ~2 GB.
const DefaultMaxExprs = 20_000_000

// Result is a compiled schema.
type Result struct {
	Doc    *schema.Document
	Order  *lang.Order
	Layout lang.Layout
	DFA    *rx.DFA
	Tokens *tokens.Automaton
	Stats  Stats
}

// Stats describe a compile; the CLI prints them as JSON.
type Stats struct {
	States     int     `json:"states"`      // automaton states (byte DFA states)
	MaskRows   int     `json:"mask_rows"`   // distinct allowed-token sets
	TableBytes int     `json:"table_bytes"` // estimated size of the token tables
	CompileMS  float64 `json:"compile_ms"`  // wall time of lowering, DFA and token stages
	DFAStates  int     `json:"dfa_states"`  // states of the minimal byte DFA
	Exprs      int     `json:"exprs"`       // expression nodes built
	Walks      int     `json:"walks"`       // vocabulary trie walks (one per group of states with equal masks)
	LowerMS    float64 `json:"lower_ms"`
	DFAMS      float64 `json:"dfa_ms"`
	TokensMS   float64 `json:"tokens_ms"`
}

// Compile compiles doc for vocabulary v.
func Compile(doc *schema.Document, v tokens.Vocab, opt Options) (*Result, error) {
	t0 := time.Now()
	b := rx.NewBuilder()
	b.Limit = opt.MaxExprs
	if b.Limit <= 0 {
		b.Limit = DefaultMaxExprs
	}
	e, order, err := lang.Lower(doc, b, lang.Options{Layout: opt.Layout, MaxDepth: opt.MaxDepth, BigNumbers: opt.BigNumbers})
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	dfa, err := b.Compile(e, rx.Options{MaxStates: opt.MaxStates})
	if err != nil {
		return nil, limitError(doc, err)
	}
	if dfa.NumStates() == 1 && !dfa.Accept[dfa.Start] && dfa.Next[0] < 0 && allDead(dfa) {
		return nil, &schema.Error{Code: schema.Unsupported, File: doc.Name, Msg: "a schema that no value satisfies (within the layout and depth limits)"}
	}
	t2 := time.Now()
	ta, err := tokens.Build(dfa, v, tokens.Options{MaxTableBytes: opt.MaxTableBytes})
	if err != nil {
		var mb *tokens.MissingBytesError
		if errors.As(err, &mb) {
			return nil, &schema.Error{Code: schema.Invalid, File: doc.Name, Msg: "tokenizer: " + err.Error()}
		}
		return nil, limitError(doc, err)
	}
	t3 := time.Now()
	ms := func(a, b time.Time) float64 { return float64(b.Sub(a).Microseconds()) / 1000 }
	r := &Result{Doc: doc, Order: order, Layout: opt.Layout, DFA: dfa, Tokens: ta}
	r.Stats = Stats{
		States: ta.NumStates(), MaskRows: len(ta.Rows), TableBytes: ta.TableBytes(),
		CompileMS: ms(t0, t3), DFAStates: dfa.NumStates(), Exprs: b.Len(), Walks: ta.Walks,
		LowerMS: ms(t0, t1), DFAMS: ms(t1, t2), TokensMS: ms(t2, t3),
	}
	return r, nil
}

func allDead(d *rx.DFA) bool {
	for _, t := range d.Next {
		if t >= 0 {
			return false
		}
	}
	return true
}

func limitError(doc *schema.Document, err error) error {
	var le *rx.LimitError
	if errors.As(err, &le) {
		return &schema.Error{Code: schema.TooLarge, File: doc.Name, Msg: fmt.Sprintf("more than %d %s", le.Limit, le.What), Err: err}
	}
	return err
}
