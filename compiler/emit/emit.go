package emit

import (
	"bytes"
	"fmt"
	"go/token"

	"github.com/schemac-dev/schemac/compiler"
	"github.com/schemac-dev/schemac/compiler/schema"
	"github.com/schemac-dev/schemac/runtime/canon"
	"github.com/schemac-dev/schemac/runtime/mask"
)

// File names of a generated package, besides <package>.go.
const (
	TablesGo   = "tables.go"
	TablesFile = "tables.bin"
	SchemaFile = "schema.json"
)

// Config says what to generate and what the header records.
type Config struct {
	// Package is the Go package name.
	Package string
	// Version is schemac's version.
	Version string
	// SchemaName and TokenizerName are the input paths as the user gave
	// them; SchemaHash ("sha256:…") and VocabFingerprint identify their
	// contents.
	SchemaName, SchemaHash string
	TokenizerName          string
	VocabFingerprint       string
	SchemaText             []byte // the schema file, embedded as is
	Layout                 canon.Layout
	Order                  []string // member order (canon.Order's names)
	FormatVersion          int      // the blob's format version
	Args                   []string // the command line after "schemac"
	Blob                   []byte   // the table blob
	TypesFile              string   // name of the types file; default <Package>.go
}

// Output is one generated file.
type Output struct {
	Name string
	Data []byte
}

// Generate writes the files of the package for doc: <package>.go (types,
// Parse, Validate, Text), tables.go (embedding, Table, constants, the
// format guard), tables.bin and schema.json. Equal inputs give identical
// bytes.
func Generate(doc *schema.Document, opt Config) ([]Output, error) {
	if !token.IsIdentifier(opt.Package) {
		return nil, fmt.Errorf("-package %q is not a Go identifier", opt.Package)
	}
	ty := newTyper(doc)
	rootHint := opt.Package
	if title := doc.Root.Get("title"); title != nil && title.Kind == schema.String && title.Str != "" {
		rootHint = title.Str
	}
	rt, rootNull, err := ty.typeOf(doc.Root, rootHint)
	if err != nil {
		return nil, err
	}
	if rt.kind != kStruct && rt.kind != kEnum && rt.kind != kUnion {
		rt = &goType{kind: kNamed, name: ty.names.typeName(rootHint), doc: docOf(doc.Root), node: doc.Root, wraps: rt}
	}
	s := &source{opt: opt, root: rt, named: ty.named, rootNullable: rootNull}
	name := opt.TypesFile
	if name == "" {
		name = opt.Package + ".go"
	}
	var files []Output
	for _, x := range []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{name, func(b *bytes.Buffer) error { return s.typesFile().Render(b) }},
		{TablesGo, func(b *bytes.Buffer) error { return s.tablesFile().Render(b) }},
	} {
		var b bytes.Buffer
		if err := x.render(&b); err != nil {
			return nil, fmt.Errorf("emit %s: %w", x.name, err)
		}
		files = append(files, Output{Name: x.name, Data: b.Bytes()})
	}
	files = append(files, Output{Name: TablesFile, Data: opt.Blob}, Output{Name: SchemaFile, Data: opt.SchemaText})
	return files, nil
}

// Package generates the package for a compile result: cfg's layout, member
// order, format version and blob are filled in from res, with the tables
// recorded for the tokenizer whose fingerprint is cfg.VocabFingerprint.
func Package(res *compiler.Result, cfg Config) ([]Output, error) {
	blob, err := res.Table(cfg.VocabFingerprint).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%s: tables: %w", cfg.SchemaName, err)
	}
	cfg.Blob = blob
	cfg.Layout = res.Layout
	cfg.Order = res.Order.Names()
	cfg.FormatVersion = mask.FormatVersion
	return Generate(res.Doc, cfg)
}
