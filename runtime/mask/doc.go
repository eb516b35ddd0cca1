// Package mask holds the decode-time tables of a compiled schema and
// applies them while a model generates: which tokens may come next in a
// state (as a bitset row, or applied to logits in place), the state after a
// token, whether the output may end, and the bytes forced from a state.
//
// A Table is self-contained and pure Go: it carries the byte DFA (byte
// classes, transitions, accepting states), one allowed-token row per
// distinct mask, and the bytes of every token, so a step is a handful of
// array lookups with no allocation. Tables travel as a versioned,
// checksummed, little-endian blob (MarshalBinary, Load). Load verifies the
// CRC-32C checksum, which catches accidental corruption, and checks every
// count, offset and index, so even a deliberately altered blob with a
// recomputed checksum gives an error or a table that cannot panic.
//
// Nothing in this package depends on the compiler: services link only the
// runtime.
package mask
