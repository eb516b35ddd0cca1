package lang

import (
	"slices"
	"testing"

	"github.com/schemac-dev/schemac/compiler/rx"
)

// TestCountedString checks that countedString builds the automaton that
// spelled builds from the compiled value DFA of Repeat(AnyRune(), min,
// max): the same states, numbering, acceptance, byte classes and
// transitions.
func TestCountedString(t *testing.T) {
	var cases [][2]int
	for min := 0; min <= 6; min++ {
		for max := -1; max <= 7; max++ {
			cases = append(cases, [2]int{min, max})
		}
	}
	cases = append(cases, [2]int{0, 64}, [2]int{3, 100}, [2]int{40, 41}, [2]int{17, -1}, [2]int{1, 255})
	for _, c := range cases {
		min, max := c[0], c[1]
		if !(max > 0 || (max < 0 && min > 0)) || (max >= 0 && min > max) {
			continue
		}
		b := rx.NewBuilder()
		l := &Lowerer{b: b, value: map[string]rx.Expr{}}
		ds, err := l.spelledDFA(b.Repeat(b.AnyRune(), min, max), false)
		if err != nil {
			t.Fatal(err)
		}
		df := countedStringDFA(min, max)
		if ds.Start != df.Start || ds.NumClasses != df.NumClasses || ds.Class != df.Class ||
			!slices.Equal(ds.Accept, df.Accept) || !slices.Equal(ds.Next, df.Next) {
			t.Errorf("min %d max %d: countedString differs from spelled (%d vs %d states, %d vs %d classes)",
				min, max, df.NumStates(), ds.NumStates(), df.NumClasses, ds.NumClasses)
		}
		// the class boundaries that derivatives see must agree too
		x, y := b.FromDFA(ds, ds.Start), b.FromDFA(df, df.Start)
		for c := 0; c < 256; c++ {
			if b.Deriv(x, byte(c)) == rx.Nothing != (b.Deriv(y, byte(c)) == rx.Nothing) {
				t.Errorf("min %d max %d: derivatives differ on %#x", min, max, c)
			}
		}
	}
}
