package compiler_test

import (
	"fmt"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

// Example compiles a small schema for the Mistral vocabulary and asks
// whether the decoder could emit two values.
func Example() {
	tok, err := tokenizer.Load("../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json")
	if err != nil {
		panic(err)
	}
	doc, err := schema.Parse([]byte(`{
	  "type": "object",
	  "properties": {
	    "name": {"type": "string", "maxLength": 20},
	    "age": {"type": "integer", "minimum": 0, "maximum": 150}
	  },
	  "required": ["name"]
	}`), "person.json")
	if err != nil {
		panic(err)
	}
	res, err := compiler.Compile(doc, tok, compiler.Options{})
	if err != nil {
		panic(err)
	}
	for _, text := range []string{`{"age": 30, "name": "Ada"}`, `{"name": "Ada", "age": 200}`} {
		v, _ := schema.ParseJSON([]byte(text), "instance")
		fmt.Printf("%s\n%q\n", text, res.Text(v))
		if err := res.Accept(v, tok); err != nil {
			fmt.Println("reject:", err)
		} else {
			fmt.Println("accept")
		}
	}
	fmt.Printf("forced at the start: %q\n", res.Tokens.Forced[res.Tokens.Start])
	// Output:
	// {"age": 30, "name": "Ada"}
	// "{\n  \"name\": \"Ada\",\n  \"age\": 30\n}"
	// accept
	// {"name": "Ada", "age": 200}
	// "{\n  \"name\": \"Ada\",\n  \"age\": 200\n}"
	// reject: token 28734 "0" not allowed after "{\n  \"name\": \"Ada\",\n  \"age\": 20"
	// forced at the start: "{\n  \"name\": \""
}
