package compiler_test

import (
	"testing"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/internal/oracle"
	"github.com/schemac-dev/schemac/compiler/schema"
)

// FuzzAccept feeds arbitrary JSON instances to the UserProfile automaton:
// no panic, and whatever is accepted must validate with the reference
// library.
func FuzzAccept(f *testing.F) {
	doc, err := schema.Load("../schemas/user_profile.schema.json")
	if err != nil {
		f.Fatal(err)
	}
	res, err := compiler.Compile(doc, mistral(f), compiler.Options{})
	if err != nil {
		f.Fatal(err)
	}
	v, err := oracle.NewValidator(doc)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(`{"full_name": "A", "years_of_experience": 1, "skills": ["x"], "primary_role": "Data Scientist"}`)
	f.Add(`{"full_name": "A", "email": "a@b.co", "years_of_experience": 1, "skills": [], "primary_role": "Data Scientist"}`)
	f.Add(`[1, 2]`)
	f.Fuzz(func(t *testing.T, src string) {
		inst, err := schema.ParseJSON([]byte(src), "instance")
		if err != nil {
			return
		}
		if res.Accept(inst, mistral(t)) == nil {
			if err := v.Validate(res.Text(inst)); err != nil {
				t.Fatalf("accepted but invalid: %s: %v", res.Text(inst), err)
			}
		}
	})
}
