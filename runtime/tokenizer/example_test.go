package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

func ExampleTokenizer_Encode() {
	tok, err := tokenizer.Load("../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Encode("Hello world!", tokenizer.Default)
	fmt.Println(ids)
	fmt.Printf("%q\n", tok.Decode(ids))
	fmt.Println(tok.Encode(" world", tokenizer.Continuation))
	// Output:
	// [1 22557 1526 28808]
	// "Hello world!"
	// [1526]
}

func ExampleStream() {
	tok, err := tokenizer.Load("../../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json")
	if err != nil {
		log.Fatal(err)
	}
	s := tok.NewStream(true)
	for _, id := range []int{1, 22557, 1526, 28808, 2} {
		fmt.Printf("%q ", s.Next(id))
	}
	fmt.Println()
	// Output:
	// "" "Hello" " world" "!" ""
}
