package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/emit"
	"github.com/schemac-dev/schemac/runtime/tokenizer"
)

// Version is schemac's version, recorded in generated headers.
const Version = "v0.1.0-dev"

// genJob is what gen and check share: the flags after parsing.
type genJob struct {
	schemaPath, tokPath, outDir, pkg string
	args                             []string // the command line after "schemac", for the header
}

// generate compiles the schema and renders the package in memory.
func generate(j genJob, res *compiler.Result, tok *tokenizer.Tokenizer) ([]emit.Output, error) {
	text, err := os.ReadFile(j.schemaPath)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(text)
	return emit.Package(res, emit.Config{
		Package:          j.pkg,
		Version:          Version,
		SchemaName:       filepath.ToSlash(j.schemaPath),
		SchemaHash:       "sha256:" + hex.EncodeToString(sum[:]),
		TokenizerName:    filepath.ToSlash(j.tokPath),
		VocabFingerprint: tok.Fingerprint(),
		SchemaText:       text,
		Args:             j.args,
	})
}

// defaultPackage derives a package name from the output directory's base
// name (gen/userprofile → userprofile), else from the schema file's name.
func defaultPackage(outDir, schemaPath string) string {
	for _, base := range []string{filepath.Base(filepath.Clean(outDir)), strings.SplitN(filepath.Base(schemaPath), ".", 2)[0]} {
		var b strings.Builder
		for _, r := range strings.ToLower(base) {
			if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				b.WriteRune(r)
			}
		}
		if s := b.String(); s != "" && !unicode.IsDigit(rune(s[0])) {
			return s
		}
	}
	return "schema"
}

// writeFiles writes the package into dir, each file through a temporary
// file and a rename, so an interrupted run never leaves a half-written file.
// Files whose contents are already right are left alone. It returns the
// number of files written.
func writeFiles(dir string, files []emit.Output) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	written := 0
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, f.Data) {
			continue // unchanged: keep the file's time stamp
		}
		tmp, err := os.CreateTemp(dir, "."+f.Name+".tmp*")
		if err != nil {
			return written, err
		}
		_, werr := tmp.Write(f.Data)
		cerr := tmp.Close()
		if werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Chmod(tmp.Name(), 0o644)
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), path)
		}
		if werr != nil {
			os.Remove(tmp.Name())
			return written, fmt.Errorf("writing %s: %w", path, werr)
		}
		written++
	}
	return written, nil
}

// diffFiles compares the generated files with those in dir and writes a
// unified diff (or a one-line note for binary files) of every stale file
// to w. It returns the number of stale files.
func diffFiles(w io.Writer, dir string, files []emit.Output) int {
	stale := 0
	for _, f := range files {
		path := filepath.Join(dir, f.Name)
		old, err := os.ReadFile(path)
		switch {
		case err != nil:
			fmt.Fprintf(w, "%s: missing (%v)\n", path, errRoot(err))
			stale++
			continue
		case bytes.Equal(old, f.Data):
			continue
		}
		stale++
		if strings.HasSuffix(f.Name, ".bin") {
			fmt.Fprintf(w, "%s: differs (on disk %d bytes sha256:%.16x…, generated %d bytes sha256:%.16x…)\n",
				path, len(old), sha256.Sum256(old), len(f.Data), sha256.Sum256(f.Data))
			continue
		}
		d, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(old)), B: difflib.SplitLines(string(f.Data)),
			FromFile: path + " (on disk)", ToFile: path + " (generated)", Context: 3,
		})
		fmt.Fprint(w, d)
	}
	return stale
}

func errRoot(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// genCommand runs gen or check once the schema is compiled.
func genCommand(cmd string, j genJob, res *compiler.Result, tok *tokenizer.Tokenizer, stdout, stderr io.Writer) int {
	files, err := generate(j, res, tok)
	if err != nil {
		return report(stderr, err)
	}
	if cmd == "check" {
		if n := diffFiles(stdout, j.outDir, files); n > 0 {
			fmt.Fprintf(stderr, "schemac check: %s is stale (%d of %d files differ); run: schemac gen %s\n",
				j.outDir, n, len(files), strings.Join(j.args[1:], " "))
			return ExitUsage
		}
		return ExitOK
	}
	written, err := writeFiles(j.outDir, files)
	if err != nil {
		fmt.Fprintf(stderr, "schemac gen: %v\n", err)
		return ExitUsage
	}
	var blob int
	for _, f := range files {
		if f.Name == emit.TablesFile {
			blob = len(f.Data)
		}
	}
	fmt.Fprintf(stderr, "schemac gen: package %s in %s: %d of %d files written (%d states, %d mask rows, %d-byte tables, %.0f ms)\n",
		j.pkg, j.outDir, written, len(files), res.Stats.States, res.Stats.MaskRows, blob, res.Stats.CompileMS)
	return ExitOK
}
