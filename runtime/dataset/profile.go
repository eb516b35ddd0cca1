package dataset

import (
	"bytes"
	"encoding/json"
)

// Roles is the primary_role enum of the UserProfile schema, in schema order.
var Roles = []string{"Backend Engineer", "Frontend Engineer", "Data Scientist", "DevOps Engineer", "Product Manager"}

// Profile is one UserProfile instance, fields in schema order.
type Profile struct {
	FullName string `json:"full_name"`
	// Email is nil when the text gives none; it is then written as
	// "email": null, as Pydantic's model_dump does for the optional field.
	Email             *string  `json:"email"`
	YearsOfExperience int      `json:"years_of_experience"`
	Skills            []string `json:"skills"`
	PrimaryRole       string   `json:"primary_role"`
}

// JSON returns the profile as a compact JSON object, members in schema
// order. It is not the completion: cmd/datagen lays it out as the decoder
// writes it.
func (p Profile) JSON() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		panic("dataset: " + err.Error()) // strings, ints and a slice: cannot fail
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}
