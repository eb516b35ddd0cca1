package cuda

import (
	"strings"
	"testing"
)

// TestMissingDriver: without the driver library every entry point says
// which library is missing and how to point at it (runs on any machine:
// the path given does not exist).
func TestMissingDriver(t *testing.T) {
	t.Setenv("SCHEMAC_LIBCUDA", "/nonexistent/libcuda.so.1")
	for name, f := range map[string]func() error{
		"Available": Available,
		"Open":      func() error { _, err := Open(0); return err },
		"ContextOf": func() error { _, err := ContextOf(0x1000); return err },
	} {
		err := f()
		if err == nil {
			t.Fatalf("%s: no error without the driver", name)
		}
		for _, want := range []string{"libcuda.so.1", "SCHEMAC_LIBCUDA"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q does not mention %s", name, err, want)
			}
		}
	}
}

func TestPtrAdd(t *testing.T) {
	if got := Ptr(0x1000).Add(0x234); got != 0x1234 {
		t.Errorf("0x1000 + 0x234 = %#x", uint64(got))
	}
	if got := Ptr(0x1000).Add(-0x10); got != 0xff0 {
		t.Errorf("0x1000 - 0x10 = %#x", uint64(got))
	}
}
