// Package rx holds the compiler's regular-language stage: regular
// expressions over bytes with exact intersection (And) and complement (Not),
// and their compilation into minimal byte DFAs.
//
// Expressions are hash-consed inside a Builder: structurally equal
// expressions get the same Expr handle, which makes equality a comparison of
// integers. Or and And are kept flattened, sorted and de-duplicated
// (associativity, commutativity and idempotence), which bounds the number of
// distinct Brzozowski derivatives of any expression, so the DFA construction
// in dfa.go terminates.
//
// The DFA is built from derivatives: the start state is the expression, and
// the state reached on byte c from state e is the derivative of e by c. Bytes
// are grouped into classes on which every derivative agrees, so a state costs
// a handful of derivatives, not 256. The result is minimized (minimize.go).
//
// A compiled DFA can be embedded back into an expression (Builder.FromDFA),
// which lets later stages compile a sub-language once, minimize it, and reuse
// it, or transform it at the automaton level (for example, mapping the
// characters of a string value to their JSON spelling).
package rx
