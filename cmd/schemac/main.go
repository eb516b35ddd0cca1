// Command schemac compiles a JSON Schema and a tokenizer vocabulary into a
// token automaton that constrains an LLM's output to valid JSON. See the
// repository README and package compiler/cli for the commands.
package main

import (
	"os"

	"github.com/schemac-dev/schemac/compiler/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
