// Package pattern translates the regular expressions of JSON Schema's
// "pattern" and "patternProperties" keywords into exact regular languages
// over bytes ([rx.Expr]).
//
// # Semantics
//
// A pattern is an ECMA-262 regular expression. JSON Schema implementations
// treat it as compiled with the "u" (Unicode) flag and no other flag, so this
// package implements exactly that mode:
//
//   - The grammar is the Unicode-mode grammar of ECMA-262 §22.2.1, without the
//     Annex B extensions (which do not apply with "u"): a lone "]", "{" or "}",
//     an escape such as "\a" or "\-" outside a class, "\c" not followed by a
//     letter, a quantified assertion such as "^*" or "(?=a)+", a class range
//     with a class escape such as "[\d-z]", and a reference to a missing group
//     are syntax errors (a backreference to a group that exists is valid but
//     unsupported, see below). Not the v flag: "[[]" is a class holding "[".
//   - Characters are code points; "." matches any code point but the line
//     terminators LF, CR, U+2028 and U+2029 (no s flag).
//   - "^" and "$" match only at the start and the end of the whole string
//     (no m flag). The pattern is not anchored otherwise: [Search] gives the
//     strings in which the expression finds a match anywhere.
//   - Matching is case-sensitive (no i flag). \d is [0-9], \w is
//     [0-9A-Za-z_], \b and \B use that \w, and \s is WhiteSpace plus
//     LineTerminator: TAB, LF, VT, FF, CR, U+FEFF and every Space_Separator
//     (U+0020, U+00A0, U+1680, U+2000–U+200A, U+202F, U+205F, U+3000), U+2028,
//     U+2029.
//   - \p{…} and \P{…} accept General_Category values (L, Lu, Letter,
//     Uppercase_Letter, digit, punct, …, also as gc=… and General_Category=…),
//     Script values (Script=… or sc=…, long names and four-letter aliases such
//     as Grek) and the binary properties of ECMA-262 that Go's unicode package
//     can compute: Any, ASCII, Assigned, the properties of unicode.Properties
//     that ECMA-262 lists (White_Space, Hex_Digit, Dash, Ideographic, …), and
//     Alphabetic, Lowercase, Uppercase, Cased, Math, Grapheme_Base,
//     Grapheme_Extend, ID_Start and ID_Continue derived from them as in
//     DerivedCoreProperties.txt. Names are matched exactly (no loose
//     matching), as ECMA-262 requires.
//   - Lazy quantifiers, capturing and named groups do not change the
//     language. Escaped lone surrogates ("\uD800") match nothing, since no
//     UTF-8 string holds a surrogate; an escaped pair ("\uD83D\uDE00") is one
//     code point.
//
// Inputs are UTF-8 strings, and the language holds only valid UTF-8.
//
// # Unicode version
//
// Property escapes use Go's unicode tables (Unicode 15.0.0 for Go 1.26),
// while a JavaScript engine uses its own (often newer) Unicode data, so sets
// such as \p{L} or \p{Cn} may differ on code points assigned since. Scripts
// added after Go's version are reported as unsupported.
//
// # Assertions
//
// Patterns whose only assertions are ^ and $ are translated structurally:
// every sub-pattern gets four languages, according to whether its match
// starts at the start of the input and whether it ends at its end.
//
// Word boundaries (\b, \B) and lookarounds ((?=…), (?!…), (?<=…), (?<!…),
// nested in any way) are translated exactly with marker bytes that never
// occur in UTF-8. Every assertion becomes a marker byte in the language of
// the main match, and for each marker a "bad" language holds the marked
// strings in which an occurrence of the marker sits where its assertion
// fails, judged on the characters around it. The main language minus the
// bad ones, with the markers erased (a subset construction), is the answer.
// Positive lookaround bodies are checked on the same marked string, so
// their own assertions get markers too. A negative lookaround's body is
// solved as a problem of its own (the strings with one marker at which the
// body matches), unless its only assertions are ^ and $, which the
// four-language construction handles. The automata of this path are capped
// at 131072 states.
//
// # Unsupported
//
// [Search] returns an [*Error] with Unsupported set, rather than an inexact
// language, for: backreferences (\1, \k<name>) to existing groups;
// Script_Extensions (scx=…); binary properties absent from Go's tables
// (Emoji and the other emoji properties, Bidi_Mirrored, Case_Ignorable, the
// Changes_When_* properties, Default_Ignorable_Code_Point, XID_Start,
// XID_Continue); scripts newer than Go's tables; the ES2025 modifiers groups
// ((?i:…)) and duplicate group names in different alternatives, which
// earlier editions reject; repetition counts above [MaxRepeat]; more
// assertion markers than there are spare bytes (13 per level: one for all ^,
// one for all $, one each for \b and \B, one per lookaround); and patterns
// whose automata exceed the size limit (the message then says "too large"). Syntax errors have
// Unsupported unset, and take precedence: a pattern is reported unsupported
// only when it is otherwise valid.
package pattern
