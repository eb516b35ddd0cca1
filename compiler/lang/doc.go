// Package lang holds the compiler's language stage: it lowers a JSON Schema
// to a regular language over bytes (an rx.Expr) that holds exactly the JSON
// texts, in the chosen layout, that the schema accepts — with the documented
// exceptions below, each of which only removes texts, never adds one.
//
// # Soundness and polarity
//
// Every keyword is lowered exactly or rejected with an *schema.Error of code
// Unsupported naming the keyword and its JSON pointer. Lowering runs in one
// of two polarities. In positive polarity (the normal case) the result must
// be a subset of the valid texts; the rules below that drop texts apply
// there. Under "not", the subtracted branches of "oneOf" and the negated
// "if", polarity flips: the result must be a superset, so those rules are
// lifted (objects are open as JSON Schema says, the depth limit admits
// anything) and keywords that cannot be lowered exactly may be dropped,
// which only enlarges the subtracted set. Subtracting a superset from a
// subset keeps the whole sound.
//
// # Rules that restrict output (completeness exceptions)
//
//   - Member order: object members appear in one global order: names in the
//     order they first appear in a "properties" anywhere in the document
//     (for a single object schema, its "properties" order), then names only
//     in "required" and the dependency keywords; undeclared members follow,
//     sorted by name.
//   - Closed objects: an object admits undeclared members only where some
//     schema at that instance location has "additionalProperties" (not
//     false) or "patternProperties".
//   - Depth: JSON nesting is limited to Options.MaxDepth (recursive schemas
//     are unrolled up to it); deeper values are not produced.
//   - Layout: whitespace is fixed by the Layout (indent2, compact) or bounded
//     (flexible:N).
//   - Numbers (default): only what Go's int64 and float64 hold exactly, so
//     that every output decodes into the types `schemac gen` generates:
//     integers in the int64 range; other numbers as plain decimals (no
//     exponent, no negative zero) of at most 15 digits besides a leading
//     "0". Options.BigNumbers lifts this; then, without numeric keywords,
//     the full JSON number grammar, and with minimum/maximum/exclusive*/
//     multipleOf, numbers without an exponent and without negative zero.
//   - Integers are written as digits only ("1", not "1.0").
//   - Strings: unconstrained strings admit the full JSON string grammar
//     (all escapes, \uXXXX with surrogate pairs). Strings constrained by
//     minLength/maxLength, pattern or format write characters raw and use
//     only the escapes JSON needs: \" \\ \/ \b \f \n \r \t, and \u00XX for
//     the other control characters (U+0000–U+001F) — except strings
//     constrained by length alone, which never hold those other control
//     characters: counted strings are the largest automata, and the \u00XX
//     paths would multiply their states by about 1.5.
//   - Formats: the formats of the specification are asserted (package
//     format); one it does not implement is unsupported. Other format names
//     (OpenAPI's "int64", "password", …) assert nothing, as in validators.
//   - Patterns must match under both readings of \s (ECMA-262's Unicode
//     spaces and RE2's ASCII ones; see pattern.SearchPortable), since
//     validators use either.
//   - uniqueItems is exact for items from a small finite set (enum, const,
//     boolean, null). Uniqueness of unbounded values is not regular; there
//     the array is empty, or holds one item of any kind, or holds strings
//     whose first characters are written raw, are printable ASCII and
//     strictly increase from item to item (["api", "backend"], not
//     ["backend", "api"] nor ["api", "auth"]); an empty string may come
//     first. uniqueItems with prefixItems or contains is unsupported.
//   - contains/minContains/maxContains count items that surely match;
//     items whose match the automaton cannot decide exactly are not written.
//   - Undeclared members may repeat a name (a finite automaton cannot rule
//     that out for unbounded names); validators keep one of the values,
//     and each value is valid for that name.
package lang
