// Command train fine-tunes a Mistral-family model on extraction examples
// with QLoRA (NF4 base, LoRA factors, AdamW) and saves a PEFT adapter, or
// trains a small model's every weight (-full). See package cmd/train/cli
// for the flags.
//
//	go run ./cmd/datagen -n 500 -seed 1 -o data.jsonl
//	go run ./cmd/train -model random:tiny -data data.jsonl -steps 30 -o adapter/
package main

import (
	"os"

	_ "github.com/gomlx/gomlx/backends/default" // simplego, and XLA where it builds

	"github.com/schemac-dev/schemac/cmd/train/cli"
)

func main() { os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr)) }
