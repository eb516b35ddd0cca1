// Package canon lays a JSON value out exactly the way the constrained
// decoder writes it, and says where in such a text a byte belongs.
//
// The compiler (compiler/lang) builds the language of a schema from the
// same pieces, so a text that Format writes is the one text the decoder
// could have written for that value: the layout's whitespace (Layout, with
// its gaps Open, Sep, Close and Colon), members in the schema's order
// (Order), strings spelled as Python's json.dumps with ensure_ascii=False
// spells them (AppendString) and numbers as exact decimals (FormatNumber).
//
// Generated packages and services use it at run time to check a value
// against a compiled table: Format the value, run the bytes through the
// decode-time byte DFA (runtime/mask's Table.Match), and name the place
// where the text left the schema's language with PointerAt.
//
// The package is pure Go, depends only on the standard library, and nothing
// in it depends on the compiler. Its functions are safe for concurrent use;
// an Order is immutable once built.
package canon
