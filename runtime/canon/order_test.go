package canon

import (
	"slices"
	"testing"
)

func TestOrder(t *testing.T) {
	o := NewOrder([]string{"b", "a", "b", "c/d", "a", ""})
	if got, want := o.Names(), []string{"b", "a", "c/d", ""}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	for name, want := range map[string]int{"b": 0, "a": 1, "c/d": 2, "": 3, "z": -1, "B": -1} {
		if got := o.Rank(name); got != want {
			t.Errorf("Rank(%q) = %d, want %d", name, got, want)
		}
	}
	names := o.Names()
	names[0] = "changed"
	if o.Names()[0] != "b" {
		t.Error("Names returns the order's own slice")
	}
	var none *Order
	if none.Rank("a") != -1 || none.Names() != nil {
		t.Error("nil Order ranks names")
	}
}

// TestCompare sorts names the way the decoder writes members: ranked ones
// by rank, then the rest byte-wise (upper case before lower case, ASCII
// before UTF-8), stably.
func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		order []string
		in    []string
		want  []string
	}{
		{nil, []string{"b", "a", "B", "é", "aa", ""}, []string{"", "B", "a", "aa", "b", "é"}},
		{[]string{"z", "y"}, []string{"a", "y", "b", "z"}, []string{"z", "y", "a", "b"}},
		{[]string{"b"}, []string{"c", "a", "b"}, []string{"b", "a", "c"}},
		{[]string{}, []string{"b", "a"}, []string{"a", "b"}},
	} {
		var o *Order
		if tc.order != nil {
			o = NewOrder(tc.order)
		}
		got := slices.Clone(tc.in)
		slices.SortStableFunc(got, o.Compare)
		if !slices.Equal(got, tc.want) {
			t.Errorf("order %q: sorted %q = %q, want %q", tc.order, tc.in, got, tc.want)
		}
	}
	o := NewOrder([]string{"a"})
	if o.Compare("a", "a") != 0 || o.Compare("x", "x") != 0 || o.Compare("a", "x") >= 0 || o.Compare("x", "a") <= 0 {
		t.Error("Compare is not 0 exactly for equal names")
	}
}
