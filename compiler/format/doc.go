// Package format turns JSON Schema "format" values into exact regular
// languages over the UTF-8 bytes of a string value (without the JSON quotes
// or escaping, which the caller adds).
//
// The contract is soundness: every string in a format's language is accepted
// by the format checker of github.com/santhosh-tekuri/jsonschema/v6 (v6.0.3,
// with format assertions on), which is the validator schemac's output is held
// to. Where that library is more permissive than the format's specification,
// the language follows the specification, so it is a subset; where a format
// would need a very large automaton, the language is a documented subset that
// keeps every ordinary value. The tests check soundness by sampling random
// strings from each automaton and validating them with the library, and
// completeness by generating valid values independently (net/netip,
// net/url, time) and checking the automaton accepts them.
//
// Lang returns an expression that embeds a minimal DFA compiled once per
// process. Sizes (minimal DFA states) are in parentheses.
//
// # date (29)
//
// RFC 3339 full-date "YYYY-MM-DD", years 0000–9999, months 01–12, days
// bounded by the month, February 29 only in leap years (divisible by 4, and
// centuries only when divisible by 400; 0000 is a leap year, as in Go's time
// package). Exactly the strings the library (time.Parse "2006-01-02")
// accepts; the test compares every month 00–13 and day 00–32 for several
// hundred years.
//
// # time (884)
//
// RFC 3339 full-time "hh:mm:ss[.frac](Z|z|+hh:mm|-hh:mm)": hours 00–23,
// minutes 00–59, seconds 00–59, any number (≥1) of fraction digits, offsets
// ±00:00–±23:59. Stricter than the library, which parses each two-character
// field with strconv.Atoi and so also accepts signs ("+1:00:00Z").
//
// Leap seconds: the library accepts ss = 60 exactly when the local time minus
// the offset is 23:59 (UTC). Encoding that for every offset makes the
// automaton carry the local hour and minute through the seconds, fraction and
// offset: about 11 000 states. We accept a leap second exactly when the
// library does and the offset's minutes are 00, 15, 30 or 45 (every real
// offset: "23:59:60Z", "15:59:60-08:00", "05:29:60+05:30", "05:44:60+05:45");
// "23:58:60+23:59" and the like are rejected though the library accepts them.
//
// # date-time (913)
//
// date ("T"|"t") time, as above.
//
// # duration (15)
//
// The RFC 3339 Appendix A grammar that JSON Schema cites: "P" followed by
// either a number of weeks "nW", or date units in the order Y, M, D with none
// skipped between the first and last one used, then optionally "T" and time
// units H, M, S likewise ("P3Y6M4DT12H30M5S", "P1M2D", "PT36H", "P1W").
// Numbers are unbounded digit strings; no fractions (the library rejects
// "PT0.5S" too). Stricter than the library, which lets units be skipped
// ("P1Y2D", "PT1H5S").
//
// # email, idn-email
//
// RFC 5321 Mailbox, a deliberately small part of what the library accepts
// (every schema with an email field pays for its automaton at compile time):
//   - local part: a dot-atom (runs of RFC 5322 atext — letters, digits and
//     !#$%&'*+-/=?^_`{|}~ — separated by single dots) of 1–64 characters;
//   - "@";
//   - domain: a hostname (as below) of 1–63 characters in all.
//
// Every address has at most 64+1+63 = 128 characters, within the library's
// 254. Stricter than the library, which also accepts quoted local parts,
// address literals ("[1.2.3.4]", "[IPv6:…]"), an empty local part, a
// trailing dot on the domain, and domains up to 253 characters.
//
// idn-email has no checker in the library (any string passes); we give it the
// email language, the ASCII subset of internationalized addresses.
//
// # hostname (1503)
//
// RFC 1123 host names: dot-separated labels of 1–63 ASCII letters, digits and
// hyphens, not starting or ending with a hyphen; all-numeric labels are
// allowed, as in the library. No trailing dot (the library trims one).
//
// The library also limits the whole name to 253 characters. Intersecting
// that with the 63-character label bound needs a state per (length so far,
// label length so far) pair: the exact minimal DFA has 23 809 states and
// takes 0.9 s to compile. Instead a coarser measure that implies the bound
// is limited: a label of n characters with its dot
// costs ceil((n+1)/16) units and a name may spend 15 units, so accepted names
// have at most 239 characters. Every name of at most 15 labels of at most 15
// characters, and every name of at most 5 labels and at most 164 characters,
// is accepted; a few very long names the library accepts are not (for
// example four labels of 63+63+63+58 characters, or 16 one-letter labels).
//
// # ipv4 (24)
//
// Dotted quad of decimal 0–255 without leading zeros. Stricter than the
// library only in that its strconv.Atoi also accepts a sign ("+1.2.3.4").
//
// # ipv6 (151)
//
// RFC 4291 text form as RFC 3986's IPv6address spells it: eight groups of
// 1–4 hex digits of either case, at most one "::" standing for one or more
// zero groups, optionally the last 32 bits as a dotted quad
// ("::ffff:192.168.0.1", "1:2:3:4:5:6:1.2.3.4"). No zone. Exactly what the
// library (net/netip, zones rejected) accepts.
//
// # uuid (37)
//
// 8-4-4-4-12 hex digits of either case, no braces; version and variant are
// not checked (nor does the library check them). Exact.
//
// # uri, iri (171)
//
// RFC 3986 URI: scheme ":" hier-part ["?" query] ["#" fragment], with
// hier-part "//" authority path-abempty, path-absolute, path-rootless or
// empty, and percent-encoding "%" HEXDIG HEXDIG wherever RFC 3986 has
// pct-encoded. It covers http(s), ftp, file, urn, mailto, tel and the like.
// Two restrictions keep it inside Go's net/url, which the library calls: the
// host is a reg-name without percent-encoding (Go rejects %-encoded ASCII in
// hosts) or "[" ipv6 "]" (no IPvFuture, no zone). IPv4 hosts are reg-names.
// Stricter than the library, which accepts much that RFC 3986 does not
// (non-ASCII, spaces, unchecked opaque parts and queries such as "mailto:%zz").
//
// iri uses the same checker in the library; we give it the uri language, the
// ASCII subset of IRIs.
//
// # uri-reference, iri-reference (174)
//
// RFC 3986 URI-reference: a uri as above, or a relative reference: "//"
// authority path-abempty, path-absolute, path-noscheme (no ':' in the first
// segment) or empty, then ["?" query] ["#" fragment]; same restrictions.
//
// # json-pointer (10)
//
// RFC 6901: ("/" token)*, a token being any Unicode characters but '/' and
// '~', and the escapes "~0" and "~1". Exact over valid UTF-8 (the library
// would also let invalid bytes through, which JSON strings cannot carry).
//
// # relative-json-pointer (13)
//
// A non-negative integer without leading zeros followed by "#" or a JSON
// pointer, as the library checks it (draft-handrews-relative-json-pointer-01;
// the later "+n"/"-n" index adjustment is rejected by the library). Exact.
//
// Not implemented (Lang reports ok=false): regex, uri-template, idn-hostname,
// semver, period and any unknown name.
package format
