package compiler_test

import (
	"errors"
	"strings"

	"github.com/schemac-dev/schemac/compiler/schema"
)

func asSchemaError(err error, se **schema.Error) bool { return errors.As(err, se) }
func contains(s, sub string) bool                     { return strings.Contains(s, sub) }

func parseDoc(src string) (*schema.Document, error) {
	return schema.Parse([]byte(src), "inline.json")
}
