// Package gen holds one generated package per schema in schemas/, written
// by `schemac gen` with the Mistral-7B v0.2 vocabulary and the default
// layout (indent2). Everything below gen/ except this file is generated:
// change the schema, then run `go generate ./gen/...`. CI fails when the
// committed packages are stale.
package gen

//go:generate go run ../cmd/schemac gen -schema ../schemas/user_profile.schema.json -tokenizer ../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json -o userprofile
//go:generate go run ../cmd/schemac gen -schema ../schemas/invoice.schema.json -tokenizer ../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json -o invoice
//go:generate go run ../cmd/schemac gen -schema ../schemas/support_ticket.schema.json -tokenizer ../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json -o supportticket
//go:generate go run ../cmd/schemac gen -schema ../schemas/function_call.schema.json -tokenizer ../testdata/tokenizers/mistral-7b-v0.2/tokenizer.json -o functioncall
