package canon_test

import (
	"fmt"

	"github.com/schemac-dev/schemac/runtime/canon"
)

// A value laid out as the decoder writes it: members in the schema's order,
// escapes and numbers re-spelled, the indent2 layout.
func ExampleFormat() {
	order := canon.NewOrder([]string{"name", "age", "tags"})
	src := []byte(`{"tags": ["a\u00e9", "\ud83d\ude00"], "age": 4.20e1, "name": "Ada"}`)
	text, err := canon.Format(nil, src, canon.Layout{Kind: canon.Indent2}, order)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(text))

	_, err = canon.Format(nil, []byte(`{"name": "\q"}`), canon.Layout{Kind: canon.Compact}, order)
	fmt.Println(err)
	// Output:
	// {
	//   "name": "Ada",
	//   "age": 42,
	//   "tags": [
	//     "aé",
	//     "😀"
	//   ]
	// }
	// canon: offset 10: invalid escape "\q"
}

// Where a text left the schema's language: the byte DFA stops at an offset
// (see runtime/mask's Table.Match), and PointerAt names the value there.
func ExamplePointerAt() {
	text := []byte(`{"name":"Ada","tags":["x","yy"]}`)
	fmt.Printf("%q\n", canon.PointerAt(text, 28)) // in "yy"
	fmt.Printf("%q\n", canon.PointerAt(text, 9))  // in "Ada"
	fmt.Printf("%q\n", canon.PointerAt(text, 3))  // in a name
	fmt.Printf("%q\n", canon.PointerAt(text[:24], 24))
	// Output:
	// "/tags/1"
	// "/name"
	// ""
	// "/tags/0"
}
