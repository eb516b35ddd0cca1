// Package schema is stage 1 of the schemac compiler: it reads a JSON Schema
// document into an ordered tree, checks it against its metaschema and
// resolves local references.
//
// Go maps lose the order of object members, but the order of a schema's
// "properties" is the order the generated JSON uses, so this package has its
// own JSON parser ([ParseJSON]) that produces a tree of [Value]s keeping
// member order, the exact text of number literals and the JSON pointer of
// every value.
//
// [Parse] (and [ParseWith], [FromValue], [Load]) turn such a tree into a
// [Document]: the draft is detected from "$schema", the document is validated
// against the draft's metaschema with github.com/santhosh-tekuri/jsonschema/v6
// (whose metaschemas are built in; nothing is ever fetched from the network
// or the file system), and "$id"s and anchors are indexed so that
// [Document.Resolve] can follow "$ref"s inside the document, including refs to
// resources embedded in it by "$id".
//
// Every error this package reports is an [*Error] carrying a [Code], the file
// name and the JSON pointer of the offending value; the type is meant to be
// reused by the later stages of the compiler.
package schema
