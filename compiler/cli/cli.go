// Package cli implements the schemac command line. cmd/schemac's main is
// os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)).
//
// Exit codes: 0 success; 1 bad usage or an I/O error; 2 the schema is not a
// valid JSON Schema (or the tokenizer cannot spell valid output); 3 the
// schema uses something schemac cannot compile exactly; 4 a size limit was
// hit.
package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/lang"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitUsage       = 1
	ExitInvalid     = 2
	ExitUnsupported = 3
	ExitTooLarge    = 4
)

// Defaults, relative to the repository root, so that `go run ./cmd/schemac
// stats` works in a fresh clone.
const (
	DefaultSchema    = "schemas/user_profile.schema.json"
	DefaultTokenizer = "testdata/tokenizers/mistral-7b-v0.2/tokenizer.json"
)

const usage = `usage: schemac <command> [flags]

commands:
  stats   compile a schema and print statistics as one JSON line
  accept  read JSON instances (one per line) on stdin; print "accept" or
          "reject: <reason>" for each: could the decoder emit this value?
  gen     write a Go package: typed Go for the schema, Parse/Validate, and
          the compiled tables embedded from tables.bin (needs -o)
  check   regenerate in memory; exit 1 with a diff when -o DIR is stale

flags (all commands):
  -schema FILE      JSON Schema (default ` + DefaultSchema + `)
  -tokenizer FILE   Hugging Face tokenizer.json (default ` + DefaultTokenizer + `)
  -ws POLICY        layout: indent2 (default), compact, flexible:N
  -depth N          maximum JSON nesting depth (default 12)
  -bignum           allow integers beyond int64 and numbers beyond 15 digits
                    (generated Go types cannot hold them)
flags (gen, check):
  -o DIR            the package directory
  -package NAME     Go package name (default: from DIR's base name)
`

// Run runs schemac with args (without the program name) and returns the
// exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "stats", "accept", "gen", "check":
	default:
		fmt.Fprintf(stderr, "schemac: unknown command %q\n%s", cmd, usage)
		return ExitUsage
	}
	fs := flag.NewFlagSet("schemac "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	schemaPath := fs.String("schema", DefaultSchema, "JSON Schema file")
	tokPath := fs.String("tokenizer", DefaultTokenizer, "tokenizer.json file")
	ws := fs.String("ws", "indent2", "layout: indent2, compact, flexible:N")
	depth := fs.Int("depth", lang.DefaultMaxDepth, "maximum JSON nesting depth")
	bignum := fs.Bool("bignum", false, "allow integers beyond int64 and numbers beyond 15 digits")
	var outDir, pkg *string
	if cmd == "gen" || cmd == "check" {
		outDir = fs.String("o", "", "package directory")
		pkg = fs.String("package", "", "Go package name (default: from -o)")
	}
	if err := fs.Parse(rest); err != nil {
		return ExitUsage
	}
	if outDir != nil && *outDir == "" {
		fmt.Fprintf(stderr, "schemac %s: -o DIR is required\n", cmd)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "schemac %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return ExitUsage
	}
	layout, err := lang.ParseLayout(*ws)
	if err != nil {
		fmt.Fprintf(stderr, "schemac: -ws: %v\n", err)
		return ExitUsage
	}
	tok, err := tokenizer.Load(*tokPath)
	if err != nil {
		fmt.Fprintf(stderr, "schemac: %v\n", err)
		return ExitUsage
	}
	doc, err := schema.Load(*schemaPath)
	if err != nil {
		return report(stderr, err)
	}
	res, err := compiler.Compile(doc, tok, compiler.Options{Layout: layout, MaxDepth: *depth, BigNumbers: *bignum})
	if err != nil {
		return report(stderr, err)
	}
	switch cmd {
	case "stats":
		out, _ := json.Marshal(res.Stats)
		fmt.Fprintf(stdout, "%s\n", out)
	case "accept":
		return accept(res, tok, stdin, stdout, stderr)
	case "gen", "check":
		j := genJob{schemaPath: *schemaPath, tokPath: *tokPath, outDir: *outDir, pkg: *pkg,
			args: append([]string{"gen"}, rest...)} // check records what gen would
		if j.pkg == "" {
			j.pkg = defaultPackage(j.outDir, j.schemaPath)
		}
		return genCommand(cmd, j, res, tok, stdout, stderr)
	}
	return ExitOK
}

func accept(res *compiler.Result, tok *tokenizer.Tokenizer, stdin io.Reader, stdout, stderr io.Writer) int {
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			fmt.Fprintln(w, "reject: empty line")
			continue
		}
		v, err := schema.ParseJSON([]byte(text), fmt.Sprintf("stdin line %d", line))
		if err != nil {
			fmt.Fprintf(w, "reject: not JSON: %v\n", err)
			continue
		}
		if err := res.Accept(v, tok); err != nil {
			fmt.Fprintf(w, "reject: %v\n", err)
			continue
		}
		fmt.Fprintln(w, "accept")
	}
	if err := sc.Err(); err != nil {
		w.Flush()
		fmt.Fprintf(stderr, "schemac accept: reading stdin: %v\n", err)
		return ExitUsage
	}
	return ExitOK
}

// report prints err and maps it to an exit code.
func report(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "schemac: %v\n", err)
	var se *schema.Error
	if errors.As(err, &se) {
		switch se.Code {
		case schema.Invalid:
			return ExitInvalid
		case schema.Unsupported:
			return ExitUnsupported
		case schema.TooLarge:
			return ExitTooLarge
		}
	}
	return ExitUsage
}
