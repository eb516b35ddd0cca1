package pattern_test

import (
	"fmt"

	"github.com/schemac-dev/schemac/compiler/pattern"
	"github.com/schemac-dev/schemac/compiler/rx"
)

func ExampleSearch() {
	b := rx.NewBuilder()
	// At the start an upper-case letter (any script), and a digit somewhere
	// after it (a lookahead).
	e, err := pattern.Search(b, `^\p{Lu}\w*(?=.*\d)`)
	if err != nil {
		panic(err)
	}
	d, err := b.Compile(e, rx.Options{})
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"Hello 42", "hello 42", "Élan1", "Hello"} {
		fmt.Printf("%q %v\n", s, d.Matches([]byte(s)))
	}
	_, err = pattern.Search(b, `(a)\1`)
	fmt.Println(err)
	_, err = pattern.Search(b, `a{2,1}`)
	fmt.Println(err)
	// Output:
	// "Hello 42" true
	// "hello 42" false
	// "Élan1" true
	// "Hello" false
	// pattern "(a)\\1": unsupported backreference at offset 3
	// pattern "a{2,1}": numbers out of order in {} quantifier at offset 1
}
