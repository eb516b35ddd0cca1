package schema_test

import (
	"fmt"

	"github.com/schemac-dev/schemac/compiler/schema"
)

func Example() {
	doc, err := schema.Parse([]byte(`{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$defs": {"age": {"type": "integer", "minimum": 0}},
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "age": {"$ref": "#/$defs/age"},
    "a/b": {"const": 1.0}
  }
}`), "person.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(doc.Draft)
	for _, m := range doc.Root.Get("properties").Members {
		fmt.Println(m.Key, m.Value.Ptr)
	}
	age := doc.Root.Get("properties").Get("age")
	target, err := doc.Resolve(age.Get("$ref").Str, age)
	fmt.Println(target.Ptr, err)

	_, err = doc.Resolve("http://example.com/address.json", age)
	fmt.Println(err)

	_, err = schema.Parse([]byte(`{"properties": {"age": {"minimum": "zero"}}}`), "bad.json")
	fmt.Println(err)
	// Output:
	// draft2020-12
	// name /properties/name
	// age /properties/age
	// a/b /properties/a~1b
	// /$defs/age <nil>
	// person.json: unsupported: $ref "http://example.com/address.json" at /properties/age
	// bad.json: invalid at /properties/age/minimum: got string, want number
}
