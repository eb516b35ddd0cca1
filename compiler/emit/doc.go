// Package emit is the compiler's last stage: it writes the Go package that
// `schemac gen` generates for a schema — typed Go for the schema's values,
// a strict Parse, a Validate, and the compiled tables embedded from a blob.
//
// # Types
//
// One function maps schema nodes to Go types (typer.typeOf):
//
//   - a $ref (or a lone allOf around one) is its target, named after the
//     definition; one definition is one Go type however often it is used;
//   - Optional[X] written as anyOf/oneOf [X, {"type": "null"}], and "type"
//     lists with "null", make the value nullable;
//   - an enum of strings is a named string type with one constant per value
//     and a Valid method;
//   - an object with "properties" is a struct with fields in schema order
//     and `json` tags; required members are values, others pointers with
//     omitempty (slices, maps and raw JSON use nil instead); an object with
//     only "additionalProperties" is a map;
//   - an anyOf/oneOf whose alternatives are all closed objects is a union:
//     a struct with one pointer per alternative, exactly one set; decoding
//     sets the first alternative the value fits (closed objects make that
//     lossless), and Validate's automaton decides oneOf exactly;
//   - an array with "items" is a slice;
//   - integer, number, string and boolean are int64, float64, string and
//     bool;
//   - everything else (unions of several JSON types, tuples, objects with
//     patternProperties or with constrained undeclared members, objects
//     with a member name a json tag cannot spell (a comma, a quote, a
//     backslash, a control character, ""), nullable items) is
//     json.RawMessage. Such values are still checked exactly by
//     Validate, through the automaton.
//
// Names come from titles, definition names and member paths, through one
// naming function (identifier) that writes Go initialisms in upper case.
//
// # Validate and Parse
//
// Validate runs the cheap checks of each node's own keywords (ranges,
// lengths, item counts, enum members) with readable messages, then the
// value's decoder text through the compiled automaton (package
// runtime/contract). Parse decodes strictly (required members present, no
// null where the schema forbids it, no undeclared members where the schema
// closes the object) and then validates. It decodes numbers with
// encoding/json, so an integer member must be written as digits ("1.0" or
// "1e2" fail, though JSON Schema counts them as integers); the decoder only
// writes digits.
package emit
