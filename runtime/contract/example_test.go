package contract_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/schemac-dev/schemac/gen/userprofile"
)

// A service constrains a CPU decode loop with the tables of gen/userprofile
// and parses what comes out. The "model" here is a random number
// generator: whatever the logits say, the masked argmax can only spell a
// UserProfile.
func Example_decodeLoop() {
	table, err := userprofile.TableFor(userprofile.VocabFingerprint) // the decoder's tokenizer fingerprint
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, table.VocabSize)
	state := table.Start()
	var out []byte
	for steps := 0; ; steps++ {
		for i := range logits {
			logits[i] = float32(r.NormFloat64()) // a model's logits for the next token
		}
		table.MaskLogits(state, logits) // -Inf for every token the schema forbids here
		tok := argmax(logits)
		if tok == int(table.EOS) {
			break
		}
		if state, err = table.Next(state, tok); err != nil {
			panic(err)
		}
		out = append(out, table.TokenBytes(tok)...)
	}
	p, err := userprofile.Parse(out)
	if err != nil {
		panic(err)
	}
	fmt.Println("parsed:", p.PrimaryRole.Valid(), p.YearsOfExperience >= 0, p.Skills != nil)
	// Output:
	// parsed: true true true
}

func argmax(xs []float32) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}
