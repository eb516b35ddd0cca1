package model

import (
	"fmt"
	"os"

	"github.com/gomlx/gomlx/backends"
)

// NewBackend makes a GoMLX backend for the commands: name (a -backend
// flag), else $GOMLX_BACKEND, else the pure-Go one — never a silent
// fall-through to XLA, which would try to download plugins. Unknown names
// are errors, not panics.
func NewBackend(name string) (b backends.Backend, err error) {
	defer func() {
		if r := recover(); r != nil { // GoMLX panics for unknown backends
			b, err = nil, fmt.Errorf("backend %q: %v", name, r)
		}
	}()
	if name == "" {
		name = os.Getenv("GOMLX_BACKEND")
	}
	if name == "" {
		name = "go"
	}
	if name == "go" {
		// simplego's worker pool can deadlock on few CPUs when parallel
		// nodes each wait for workers (seen with LoRA graphs on 2 CPUs);
		// unlimited parallelism never waits. simplego announces the setting
		// on stdout, which carries the commands' output: it goes to
		// /dev/null.
		name = "go:parallelism=-1"
		if null, err := os.Open(os.DevNull); err == nil {
			saved := os.Stdout
			os.Stdout = null
			defer func() { os.Stdout = saved; null.Close() }()
		}
	}
	b, err = backends.NewWithConfig(name)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %w", name, err)
	}
	return b, nil
}
