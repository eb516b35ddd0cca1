package cuda

import (
	"strings"
	"testing"
	"unsafe"
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

// TestLaunchConfigLayout checks the Go mirrors of cuLaunchKernelEx's
// structs against cuda.h's layout on 64-bit machines: CUlaunchAttribute is
// a 4-byte id, 4 bytes of padding and a 64-byte union (72 bytes);
// CUlaunchConfig is seven unsigned ints, the stream at offset 32, the
// attribute pointer at 40 and their count at 48 (56 bytes).
func TestLaunchConfigLayout(t *testing.T) {
	var a launchAttribute
	var c launchConfig
	for _, tc := range []struct {
		what      string
		got, want uintptr
	}{
		{"sizeof CUlaunchAttribute", unsafe.Sizeof(a), 72},
		{"offsetof value", unsafe.Offsetof(a.Value), 8},
		{"sizeof CUlaunchConfig", unsafe.Sizeof(c), 56},
		{"offsetof sharedMemBytes", unsafe.Offsetof(c.SharedMem), 24},
		{"offsetof hStream", unsafe.Offsetof(c.Stream), 32},
		{"offsetof attrs", unsafe.Offsetof(c.Attrs), 40},
		{"offsetof numAttrs", unsafe.Offsetof(c.NumAttrs), 48},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.what, tc.got, tc.want)
		}
	}
}
