package safetensors

import (
	"fmt"
	"path/filepath"
)

// Error is the error of every function in this package that reads a file:
// it names the file (its base name) and, where one is at fault, the tensor.
type Error struct {
	File   string // path of the file, "" when parsing bytes without a file
	Tensor string // tensor name, "" when the fault is not in one tensor
	Err    error
}

func (e *Error) Error() string {
	s := ""
	if e.File != "" {
		s = filepath.Base(e.File) + ": "
	}
	if e.Tensor != "" {
		s += "tensor " + e.Tensor + ": "
	}
	return s + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(file, tensor, format string, args ...any) error {
	return &Error{File: file, Tensor: tensor, Err: fmt.Errorf(format, args...)}
}

// withFile sets the file of an *Error made while parsing bytes.
func withFile(err error, file string) error {
	if e, ok := err.(*Error); ok && e.File == "" {
		e2 := *e
		e2.File = file
		return &e2
	}
	return err
}
