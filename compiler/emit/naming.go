package emit

import (
	"fmt"
	"strings"
	"unicode"
)

// initialisms are written in upper case inside Go names, as golint and the
// Go standard library do (UserID, not UserId).
var initialisms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "CPU": true, "CSS": true, "CSV": true, "DNS": true,
	"EOF": true, "GUID": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true, "IP": true,
	"JSON": true, "LHS": true, "QPS": true, "RAM": true, "RHS": true, "RPC": true, "SKU": true,
	"SLA": true, "SMTP": true, "SQL": true, "SSH": true, "TCP": true, "TLS": true, "TTL": true,
	"UDP": true, "UI": true, "UID": true, "URI": true, "URL": true, "UTF8": true, "UUID": true,
	"VM": true, "XML": true, "XMPP": true, "XSRF": true, "XSS": true,
}

// identifier turns any text (a member name, a title, an enum value) into an
// exported Go identifier: words split at anything that is not a letter or
// digit and at lower→upper case changes, each word capitalized (initialisms
// upper-cased), "X" in front when the result would not start with an upper
// case letter. It returns "" when the text has no letters or digits.
func identifier(s string) string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1])):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	var b strings.Builder
	for _, w := range words {
		up := strings.ToUpper(w)
		if initialisms[up] {
			b.WriteString(up)
			continue
		}
		r := []rune(w)
		b.WriteRune(unicode.ToUpper(r[0]))
		b.WriteString(string(r[1:]))
	}
	out := b.String()
	if out == "" {
		return ""
	}
	if first := []rune(out)[0]; !unicode.IsUpper(first) {
		out = "X" + out
	}
	return out
}

// singular makes a plural member name singular for the name of its item
// type ("line_items" → "line_item", "categories" → "category"); names that
// do not look plural get "Item" appended.
func singular(s string) string {
	l := strings.ToLower(s)
	switch {
	case strings.HasSuffix(l, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(l, "sses"), strings.HasSuffix(l, "xes"), strings.HasSuffix(l, "ches"), strings.HasSuffix(l, "shes"):
		return s[:len(s)-2]
	case strings.HasSuffix(l, "s") && !strings.HasSuffix(l, "ss") && !strings.HasSuffix(l, "us") && !strings.HasSuffix(l, "is") && len(s) > 1:
		return s[:len(s)-1]
	}
	return s + " item"
}

// namer hands out package-level Go names, unique within the generated
// package.
type namer struct{ used map[string]bool }

// packageNames are the identifiers every generated package declares.
var packageNames = []string{
	"Parse", "Table", "TableFor", "VocabFingerprint", "SchemaHash", "SchemaJSON",
	"Layout", "FormatVersion", "spec", "tablesBlob", "schemaText",
}

func newNamer() *namer {
	n := &namer{used: map[string]bool{}}
	for _, p := range packageNames {
		n.used[p] = true
	}
	return n
}

func (n *namer) reserve(name string) { n.used[name] = true }

// typeName returns a fresh exported name built from hint.
func (n *namer) typeName(hint string) string {
	base := identifier(hint)
	if base == "" {
		base = "Value"
	}
	name := base
	for i := 2; n.used[name]; i++ {
		name = fmt.Sprintf("%s%d", base, i)
	}
	n.used[name] = true
	return name
}
