// Package gentest holds the tests of the packages generated under gen/:
// random decodes through each package's tables must end in text that the
// package's Parse accepts and that github.com/santhosh-tekuri/jsonschema/v6
// validates, and values that break the schema must fail Validate.
package gentest
