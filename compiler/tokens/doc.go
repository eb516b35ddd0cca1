// Package tokens holds the compiler's token-automaton stage: it lifts a byte
// DFA to the token level for a given vocabulary.
//
// For every DFA state reachable by whole tokens from the start, it walks a
// byte trie of the vocabulary from that state, pruning a subtree as soon as
// the DFA dies, so a state inside a JSON string visits the trie once and a
// state in fixed punctuation visits a handful of nodes. The result keeps, for
// each state, the set of allowed tokens (stored once per distinct set, as a
// mask row), the next state of each allowed token (a default plus the
// exceptions), whether EOS is allowed (the DFA accepts there), and the forced
// byte continuation (bytes the DFA admits one at a time, with no choice,
// before the next real decision).
package tokens
