package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRunRefusesBadOptions: a bad -set entry is named and no file is
// written.
func TestRunRefusesBadOptions(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k.cubin")
	err := run(out, "sm_90", 64, "Bogus=1")
	if err == nil || !strings.Contains(err.Error(), `"Bogus=1"`) {
		t.Fatalf("run with -set Bogus=1: %v", err)
	}
	if m, _ := filepath.Glob(out); len(m) != 0 {
		t.Errorf("%s written despite the error", out)
	}
}
