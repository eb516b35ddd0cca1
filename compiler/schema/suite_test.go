package schema

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// suiteDir is the JSON Schema Test Suite, relative to this package.
const suiteDir = "../../../shared/json-schema-test-suite"

// TestJSONSchemaTestSuite parses every schema of the suite's draft2020-12 and
// draft7 tests. They are all valid schemas, so each must parse and pass
// metaschema validation; the only acceptable error is Unsupported, for a
// custom metaschema in "$schema". Every $ref is then resolved: local ones
// must resolve, remote ones must be Unsupported.
func TestJSONSchemaTestSuite(t *testing.T) {
	if _, err := os.Stat(filepath.Join(suiteDir, "tests")); err != nil {
		t.Skipf("skipping: JSON Schema Test Suite not found at %s (%v)", suiteDir, err)
	}
	for _, c := range []struct {
		dir   string
		draft Draft
	}{{"draft2020-12", Draft2020}, {"draft7", Draft7}} {
		t.Run(c.dir, func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join(suiteDir, "tests", c.dir, "*.json"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no test files in %s: %v", c.dir, err)
			}
			var ok, unsupported, refs, remoteRefs int
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				groups, err := ParseJSON(data, f)
				if err != nil {
					t.Errorf("ParseJSON: %v", err)
					continue
				}
				if groups.Kind != Array {
					t.Errorf("%s: not an array", f)
					continue
				}
				for _, g := range groups.Items {
					sch := g.Get("schema")
					if sch == nil {
						t.Errorf("%s%s: no schema", f, g.Ptr)
						continue
					}
					desc := g.Get("description").Str
					doc, err := FromValue(sch, filepath.Base(f), ParseOptions{DefaultDraft: c.draft})
					var e *Error
					switch {
					case err == nil:
						ok++
					case errors.As(err, &e) && e.Code == Unsupported:
						unsupported++
						t.Logf("%s (%s): %v", filepath.Base(f), desc, err)
						continue
					default:
						t.Errorf("%s (%s): %v", filepath.Base(f), desc, err)
						continue
					}
					if doc.Draft != c.draft {
						t.Errorf("%s (%s): draft %v, want %v", filepath.Base(f), desc, doc.Draft, c.draft)
					}
					for _, at := range doc.refs {
						refs++
						_, err := doc.Resolve(at.Get("$ref").Str, at)
						if errors.As(err, &e) && e.Code == Unsupported {
							remoteRefs++
						} else if err != nil {
							t.Errorf("%s (%s): %v", filepath.Base(f), desc, err)
						}
					}
				}
			}
			t.Logf("%s: %d files, %d schemas parsed and validated, %d unsupported; %d $refs of which %d not in the document",
				c.dir, len(files), ok, unsupported, refs, remoteRefs)
			if ok == 0 {
				t.Error("no schema parsed")
			}
		})
	}
}
