package schema

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Document is a parsed, validated and indexed JSON Schema document.
// A Document is not modified after it is returned and may be shared by
// goroutines.
type Document struct {
	// Name is the file name used in error messages.
	Name string
	// Root is the schema, an object or a boolean.
	Root *Value
	// Draft is the draft of the root schema: from its "$schema", else
	// ParseOptions.DefaultDraft, else Draft2020. Resources embedded with
	// "$id" may declare another draft; see [Document.DraftAt].
	Draft Draft

	uri      string               // retrieval URI used when no $id applies
	byPtr    map[string]*Value    // every value by JSON pointer
	resByPtr map[string]*resource // schema resources by the pointer of their root
	byID     map[string]*resource // schema resources by absolute URI (no fragment)
	refs     []*Value             // schema objects with a string $ref, in document order
}

// ParseOptions adjusts how a document is parsed.
type ParseOptions struct {
	// DefaultDraft is the draft of a schema without "$schema"; zero means
	// Draft2020.
	DefaultDraft Draft
}

// Parse parses data as a JSON Schema document named name (used in errors)
// with the default options. See [ParseWith].
func Parse(data []byte, name string) (*Document, error) {
	return ParseWith(data, name, ParseOptions{})
}

// ParseWith parses data with ParseJSON and makes a Document of it as
// FromValue does.
func ParseWith(data []byte, name string, opt ParseOptions) (*Document, error) {
	v, err := ParseJSON(data, name)
	if err != nil {
		return nil, err
	}
	return newDocument(v, name, opt)
}

// Load reads the file at path and parses it with Parse, using path as the
// name. An error reading the file is returned as is (an *fs.PathError).
func Load(path string) (*Document, error) {
	return LoadWith(path, ParseOptions{})
}

// LoadWith is Load with options.
func LoadWith(path string, opt ParseOptions) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseWith(data, path, opt)
}

// FromValue makes a Document of the schema v, which may be part of a larger
// JSON text (such as a test file holding many schemas). v is deep-copied and
// the copy's pointers are re-derived so that they are relative to v; v itself
// is not modified. name is used in errors.
//
// The document's draft is detected from "$schema" (a "$schema" that is not
// one of the drafts' metaschema URIs gives an Unsupported error), the
// document is validated against that draft's metaschema (Invalid errors name
// the deepest offending value), "$id"s and anchors are indexed, and every
// "$ref" that points inside the document is checked (a $ref to a document
// that is not embedded is not an error here; Resolve reports it as
// Unsupported).
func FromValue(v *Value, name string, opt ParseOptions) (*Document, error) {
	if v == nil {
		return nil, &Error{Code: Internal, File: name, Msg: "FromValue: nil value"}
	}
	return newDocument(v.clone(""), name, opt)
}

// Lookup returns the value at the JSON pointer ptr ("" for the root, tokens
// escaped as in Value.Ptr), or nil if there is none.
func (d *Document) Lookup(ptr string) *Value {
	return d.byPtr[ptr]
}

// DraftAt returns the draft that governs schema node v: the draft of the
// innermost schema resource ("$id") containing it.
func (d *Document) DraftAt(v *Value) Draft {
	if v == nil {
		return d.Draft
	}
	return d.resourceAt(v.Ptr).draft
}

func newDocument(root *Value, name string, opt ParseOptions) (*Document, error) {
	def := opt.DefaultDraft
	if def == 0 {
		def = Draft2020
	}
	if def.lib() == nil {
		return nil, &Error{Code: Internal, File: name, Msg: fmt.Sprintf("ParseOptions.DefaultDraft: unknown draft %d", int(def))}
	}
	if root.Kind != Object && root.Kind != Bool {
		// The metaschema would say so too, but in less plain words.
		return nil, &Error{Code: Invalid, File: name, Msg: fmt.Sprintf("a schema must be an object or a boolean, not %s", root.Kind)}
	}
	d := &Document{
		Name:     name,
		Root:     root,
		uri:      documentURI(name),
		byPtr:    map[string]*Value{},
		resByPtr: map[string]*resource{},
		byID:     map[string]*resource{},
	}
	d.indexValues(root)

	ix := &indexer{d: d}
	if err := ix.walk(root, nil, def); err != nil {
		return nil, err // Unsupported $schema
	}
	d.Draft = d.resByPtr[""].draft

	// Metaschema validation comes first: the later checks assume
	// well-typed keywords.
	libErr, err := d.validate(def)
	if err != nil {
		return nil, err
	}
	if ix.err != nil {
		return nil, ix.err
	}
	for _, at := range d.refs {
		ref := at.Get("$ref").Str
		if _, err := d.Resolve(ref, at); err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code == Unsupported {
				continue
			}
			return nil, err
		}
	}
	if libErr != nil {
		return nil, libErr
	}
	return d, nil
}

func (d *Document) indexValues(v *Value) {
	d.byPtr[v.Ptr] = v
	for _, it := range v.Items {
		d.indexValues(it)
	}
	for _, m := range v.Members {
		d.indexValues(m.Value)
	}
}

// documentURI makes the retrieval URI of a document: the base against which
// a root "$id" (or, without one, a relative $ref) is resolved. It is never
// loaded.
func documentURI(name string) string {
	p := "/schema.json"
	if name != "" {
		p = path.Clean("/" + filepath.ToSlash(name))
	}
	return (&url.URL{Scheme: "schemac", Host: "document", Path: p}).String()
}

// noLoader is the validator's URLLoader: it refuses everything, so the
// validator never touches the network or the file system. The metaschemas
// of the drafts are built into the library and do not go through it.
type noLoader struct{}

func (noLoader) Load(u string) (any, error) {
	return nil, fmt.Errorf("schemac loads no documents (%s)", u)
}

// anyRegexp accepts every pattern: whether a "pattern" can be compiled is a
// matter for the stage that compiles it (ECMA-262 regular expressions are
// not Go's), not for metaschema validation.
func anyRegexp(s string) (jsonschema.Regexp, error) { return rawRegexp(s), nil }

type rawRegexp string

func (r rawRegexp) String() string          { return string(r) }
func (r rawRegexp) MatchString(string) bool { return true }

var printer = message.NewPrinter(language.English)

// validate checks the document against its metaschema with the validator
// library. err is a metaschema violation (or a failure to use the library);
// libErr is any other complaint of the library, to be reported only if our
// own checks find nothing more precise.
func (d *Document) validate(def Draft) (libErr, err error) {
	defer func() {
		if r := recover(); r != nil {
			libErr, err = nil, &Error{Code: Internal, File: d.Name, Msg: fmt.Sprintf("validator panicked: %v", r)}
		}
	}()
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	c.UseRegexpEngine(anyRegexp)
	c.DefaultDraft(def.lib())
	if err := c.AddResource(d.uri, d.Root.Interface()); err != nil {
		return nil, &Error{Code: Internal, File: d.Name, Msg: "validator: " + err.Error(), Err: err}
	}
	sch, cerr := c.Compile(d.uri)
	if cerr == nil {
		if sch.DraftVersion != d.Draft.version() {
			return nil, &Error{Code: Internal, File: d.Name, Msg: fmt.Sprintf("validator took the schema for draft %d, not %s", sch.DraftVersion, d.Draft)}
		}
		return nil, nil
	}
	var sve *jsonschema.SchemaValidationError
	if errors.As(cerr, &sve) {
		return nil, d.metaschemaError(sve)
	}
	var lue *jsonschema.LoadURLError
	if errors.As(cerr, &lue) {
		// A reference to a document that is not embedded. The whole
		// document was validated before references were followed.
		return nil, nil
	}
	return d.libraryError(cerr), nil
}

// ptrOf extracts the JSON pointer from a validator URL of this document
// ("URI#/a/b", pointer percent-encoded).
func (d *Document) ptrOf(u string) (string, bool) {
	frag, ok := strings.CutPrefix(u, d.uri+"#")
	if !ok {
		return "", false
	}
	p, err := url.PathUnescape(frag)
	if err != nil {
		return "", false
	}
	return p, true
}

// metaschemaError converts a metaschema violation into an *Error at the
// deepest offending value; the message joins the validator's messages for
// that value.
func (d *Document) metaschemaError(sve *jsonschema.SchemaValidationError) *Error {
	base, _ := d.ptrOf(sve.URL)
	ve, ok := sve.Err.(*jsonschema.ValidationError)
	if !ok {
		return &Error{Code: Invalid, File: d.Name, Ptr: base, Msg: sve.Err.Error(), Err: sve}
	}
	var best []string
	var msgs []string
	found := false
	var visit func(e *jsonschema.ValidationError)
	visit = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			msg := e.ErrorKind.LocalizedString(printer)
			switch {
			case !found || len(e.InstanceLocation) > len(best):
				best, msgs, found = e.InstanceLocation, []string{msg}, true
			case sameLoc(e.InstanceLocation, best):
				dup := false
				for _, m := range msgs {
					dup = dup || m == msg
				}
				if !dup {
					msgs = append(msgs, msg)
				}
			}
		}
		for _, c := range e.Causes {
			visit(c)
		}
	}
	visit(ve)
	ptr := base
	for _, tok := range best {
		ptr += "/" + escapeToken(tok)
	}
	return &Error{Code: Invalid, File: d.Name, Ptr: ptr, Msg: strings.Join(msgs, "; "), Err: sve}
}

func sameLoc(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// libraryError converts any other error of the validator into an Invalid
// *Error, naming the pointer where the error says where.
func (d *Document) libraryError(err error) *Error {
	var ptr string
	var (
		pid  *jsonschema.ParseIDError
		pan  *jsonschema.ParseAnchorError
		did  *jsonschema.DuplicateIDError
		dan  *jsonschema.DuplicateAnchorError
		ijp  *jsonschema.InvalidJsonPointerError
		jpnf *jsonschema.JSONPointerNotFoundError
		ire  *jsonschema.InvalidRegexError
	)
	switch {
	case errors.As(err, &pid):
		ptr, _ = d.ptrOf(pid.URL)
	case errors.As(err, &pan):
		ptr, _ = d.ptrOf(pan.URL)
	case errors.As(err, &did):
		ptr = did.Ptr2
	case errors.As(err, &dan):
		ptr = dan.Ptr2
	case errors.As(err, &ijp):
		ptr, _ = d.ptrOf(ijp.URL)
	case errors.As(err, &jpnf):
		ptr, _ = d.ptrOf(jpnf.URL)
	case errors.As(err, &ire):
		ptr, _ = d.ptrOf(ire.URL)
	}
	msg := strings.ReplaceAll(err.Error(), d.uri, "")
	return &Error{Code: Invalid, File: d.Name, Ptr: ptr, Msg: msg, Err: err}
}
