package templates_test

import (
	"fmt"
	"strings"

	"github.com/schemac-dev/schemac/templates"
)

// Example renders a prompt for a tiny schema and a training example with its
// completion. The completion starts right after the cue's newline.
func Example() {
	x, err := templates.NewExtraction([]byte(`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`))
	if err != nil {
		panic(err)
	}
	ex := x.Example("Ada Lovelace wrote the first program.", "{\n  \"name\": \"Ada Lovelace\"\n}")
	fmt.Print(ex.Text)
	fmt.Println()
	fmt.Println(strings.HasSuffix(ex.Prompt, templates.Cue))
	// Output:
	// ### Instruction:
	// Extract the information described by the JSON Schema from the input text. Answer with one JSON object that conforms to the schema; use null for an optional field the text does not mention.
	//
	// ### Input text:
	// """
	// Ada Lovelace wrote the first program.
	// """
	//
	// ### JSON Schema:
	// ```json
	// {
	//   "type": "object",
	//   "properties": {
	//     "name": {
	//       "type": "string"
	//     }
	//   },
	//   "required": [
	//     "name"
	//   ]
	// }
	// ```
	//
	// ### Extracted JSON:
	// {
	//   "name": "Ada Lovelace"
	// }
	// true
}
