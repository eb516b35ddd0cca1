// Command extract is schemac's inference command: it extracts a JSON value
// matching a compiled schema from a text with a Mistral/Llama model on
// GoMLX (see package cli for the flags).
package main

import (
	"os"

	_ "github.com/gomlx/gomlx/backends/default" // simplego, and XLA where it builds

	"github.com/schemac-dev/schemac/cmd/extract/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
