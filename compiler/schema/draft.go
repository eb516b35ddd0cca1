package schema

import (
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Draft is a version of the JSON Schema specification. The zero value means
// "not specified" (see [ParseOptions]).
type Draft int

// The supported drafts, oldest first, so that drafts can be compared with <.
const (
	Draft4 Draft = iota + 1
	Draft6
	Draft7
	Draft2019 // 2019-09
	Draft2020 // 2020-12
)

// String returns the draft's usual short name: "draft-04", "draft-06",
// "draft-07", "draft2019-09" or "draft2020-12" (the names of the JSON Schema
// Test Suite's directories).
func (d Draft) String() string {
	switch d {
	case Draft4:
		return "draft-04"
	case Draft6:
		return "draft-06"
	case Draft7:
		return "draft-07"
	case Draft2019:
		return "draft2019-09"
	case Draft2020:
		return "draft2020-12"
	}
	return fmt.Sprintf("Draft(%d)", int(d))
}

// URI returns the URI of the draft's metaschema, as used in "$schema"
// (without the trailing "#" that drafts 4 to 7 conventionally add), or "" for
// an unknown draft.
func (d Draft) URI() string {
	if ld := d.lib(); ld != nil {
		return ld.String()
	}
	return ""
}

// lib returns the validator library's Draft.
func (d Draft) lib() *jsonschema.Draft {
	switch d {
	case Draft4:
		return jsonschema.Draft4
	case Draft6:
		return jsonschema.Draft6
	case Draft7:
		return jsonschema.Draft7
	case Draft2019:
		return jsonschema.Draft2019
	case Draft2020:
		return jsonschema.Draft2020
	}
	return nil
}

// version returns the number the validator library uses for the draft
// (Schema.DraftVersion).
func (d Draft) version() int {
	switch d {
	case Draft4:
		return 4
	case Draft6:
		return 6
	case Draft7:
		return 7
	case Draft2019:
		return 2019
	case Draft2020:
		return 2020
	}
	return 0
}

// DraftFromURI returns the draft whose metaschema URI is uri, as found in
// "$schema". Both http and https are accepted, with or without an empty
// fragment ("#"); "http://json-schema.org/schema" means the latest draft,
// 2020-12. ok is false for any other URI (a custom metaschema).
func DraftFromURI(uri string) (d Draft, ok bool) {
	u := strings.TrimSuffix(uri, "#")
	if rest, cut := strings.CutPrefix(u, "http://"); cut {
		u = rest
	} else if rest, cut := strings.CutPrefix(u, "https://"); cut {
		u = rest
	} else {
		return 0, false
	}
	switch u {
	case "json-schema.org/draft-04/schema":
		return Draft4, true
	case "json-schema.org/draft-06/schema":
		return Draft6, true
	case "json-schema.org/draft-07/schema":
		return Draft7, true
	case "json-schema.org/draft/2019-09/schema":
		return Draft2019, true
	case "json-schema.org/draft/2020-12/schema", "json-schema.org/schema":
		return Draft2020, true
	}
	return 0, false
}
