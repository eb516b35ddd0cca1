// Command datagen writes synthetic UserProfile extraction examples (prompt,
// completion, text) as JSONL for fine-tuning, every completion laid out as
// the constrained decoder writes it and verified against the compiled
// schema. See package cmd/datagen/cli for the flags.
//
//	go run ./cmd/datagen -n 500 -seed 1 -o data.jsonl
package main

import (
	"os"

	"github.com/schemac-dev/schemac/cmd/datagen/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
