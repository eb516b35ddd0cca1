package canon

import "testing"

func TestParseLayout(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Layout
		str  string
	}{
		{"", Layout{Kind: Indent2}, "indent2"},
		{"indent2", Layout{Kind: Indent2}, "indent2"},
		{"compact", Layout{Kind: Compact}, "compact"},
		{"flexible:0", Layout{Kind: Flexible}, "flexible:0"},
		{"flexible:64", Layout{Kind: Flexible, MaxWS: 64}, "flexible:64"},
	} {
		got, err := ParseLayout(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLayout(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.str {
			t.Errorf("ParseLayout(%q).String() = %q, want %q", tc.in, got.String(), tc.str)
		}
	}
	for _, s := range []string{"indent4", "flexible:", "flexible:-1", "flexible:65", "flexible:x", "Compact"} {
		if _, err := ParseLayout(s); err == nil {
			t.Errorf("ParseLayout(%q): no error", s)
		}
	}
}

// TestGaps checks the gap strings against Python's json.dumps(indent=2)
// separators (",", ": " and a newline plus two spaces a level) and the
// compact ones ("," and ":").
func TestGaps(t *testing.T) {
	indent, compact := Layout{Kind: Indent2}, Layout{Kind: Compact}
	flex := Layout{Kind: Flexible, MaxWS: 3}
	for _, tc := range []struct {
		l                     Layout
		d                     int
		open, sep, close, col string
	}{
		{indent, 0, "\n  ", ",\n  ", "\n", ": "},
		{indent, 2, "\n      ", ",\n      ", "\n    ", ": "},
		{compact, 0, "", ",", "", ":"},
		{compact, 5, "", ",", "", ":"},
		{flex, 1, "", ",", "", ":"},
	} {
		if got := tc.l.Open(tc.d); got != tc.open {
			t.Errorf("%v.Open(%d) = %q, want %q", tc.l, tc.d, got, tc.open)
		}
		if got := tc.l.Sep(tc.d); got != tc.sep {
			t.Errorf("%v.Sep(%d) = %q, want %q", tc.l, tc.d, got, tc.sep)
		}
		if got := tc.l.Close(tc.d); got != tc.close {
			t.Errorf("%v.Close(%d) = %q, want %q", tc.l, tc.d, got, tc.close)
		}
		if got := tc.l.Colon(); got != tc.col {
			t.Errorf("%v.Colon() = %q, want %q", tc.l, got, tc.col)
		}
	}
}
