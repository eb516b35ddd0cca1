// Package cuda is a small binding of the CUDA driver API and of NVRTC,
// loaded at run time with purego (no cgo, no CUDA headers or libraries at
// build time). It holds what schemac's hand-written decode kernels need:
// a context, device memory, modules compiled from CUDA C source by NVRTC,
// kernel launches on a stream, CUDA graphs and events.
//
// On a machine without an NVIDIA driver Open returns an error that says
// so; tests that need a GPU skip on it. Device pointers of buffers owned by
// XLA (see Ptr) are valid here when this package runs in the context that
// owns them (Open with ContextOf).
package cuda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Ptr is a device address (CUdeviceptr).
type Ptr uint64

// Add offsets a device address by n bytes.
func (p Ptr) Add(n int64) Ptr { return Ptr(int64(p) + n) }

// Result is a CUDA driver error code.
type Result int32

type (
	handle = uintptr
)

// driver holds the driver API functions, resolved once.
var driver struct {
	once sync.Once
	err  error

	cuInit                                      func(flags uint32) Result
	cuDeviceGet                                 func(dev *int32, ordinal int32) Result
	cuDeviceGetAttribute                        func(v *int32, attr int32, dev int32) Result
	cuDevicePrimaryCtxRetain                    func(ctx *handle, dev int32) Result
	cuCtxSetCurrent                             func(ctx handle) Result
	cuCtxSynchronize                            func() Result
	cuPointerGetAttribute                       func(data unsafe.Pointer, attr int32, ptr Ptr) Result
	cuMemAlloc                                  func(p *Ptr, size uint64) Result
	cuMemFree                                   func(p Ptr) Result
	cuMemGetInfo                                func(free, total *uint64) Result
	cuMemcpyDtoH                                func(dst unsafe.Pointer, src Ptr, size uint64) Result
	cuMemcpyHtoDAsync                           func(dst Ptr, src unsafe.Pointer, size uint64, s handle) Result
	cuMemcpyDtoHAsync                           func(dst unsafe.Pointer, src Ptr, size uint64, s handle) Result
	cuModuleLoadData                            func(m *handle, image unsafe.Pointer) Result
	cuModuleGetFunction                         func(f *handle, m handle, name string) Result
	cuLaunchKernel                              func(f handle, gx, gy, gz, bx, by, bz, smem uint32, s handle, params unsafe.Pointer, extra unsafe.Pointer) Result
	cuStreamCreate                              func(s *handle, flags uint32) Result
	cuStreamSynchronize                         func(s handle) Result
	cuStreamBeginCapture                        func(s handle, mode int32) Result
	cuStreamEndCapture                          func(s handle, g *handle) Result
	cuGraphInstantiate                          func(e *handle, g handle, flags uint64) Result
	cuGraphLaunch                               func(e handle, s handle) Result
	cuGraphDestroy                              func(g handle) Result
	cuGraphExecDestroy                          func(e handle) Result
	cuEventCreate                               func(e *handle, flags uint32) Result
	cuEventRecord                               func(e handle, s handle) Result
	cuEventSynchronize                          func(e handle) Result
	cuEventElapsedTime                          func(ms *float32, start, end handle) Result
	cuGetErrorName                              func(r Result, s *uintptr) Result
	cuMemHostAlloc                              func(p *unsafe.Pointer, size uint64, flags uint32) Result
	cuModuleUnload                              func(m handle) Result
	cuDevicePrimaryCtxRelease                   func(dev int32) Result
	cuMemFreeHost                               func(p unsafe.Pointer) Result
	cuStreamDestroy                             func(s handle) Result
	cuEventDestroy                              func(e handle) Result
	cuFuncGetAttribute                          func(v *int32, attr int32, f handle) Result
	cuOccupancyMaxActiveBlocksPerMultiprocessor func(n *int32, f handle, blockSize int32, smem uint64) Result

	// optional: nil where the driver predates CUDA 12 (see LaunchEarly)
	cuLaunchKernelEx func(cfg unsafe.Pointer, f handle, params unsafe.Pointer, extra unsafe.Pointer) Result
}

func loadDriver() error {
	driver.once.Do(func() {
		lib, err := dlopen("SCHEMAC_LIBCUDA", []string{"libcuda.so.1", "libcuda.so"})
		if err != nil {
			driver.err = fmt.Errorf("cuda: the NVIDIA driver library (libcuda.so.1) was not found: %w", err)
			return
		}
		err = bindAll(lib, []symbol{
			{&driver.cuInit, "cuInit"},
			{&driver.cuDeviceGet, "cuDeviceGet"},
			{&driver.cuDeviceGetAttribute, "cuDeviceGetAttribute"},
			{&driver.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"},
			{&driver.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"},
			{&driver.cuCtxSetCurrent, "cuCtxSetCurrent"},
			{&driver.cuCtxSynchronize, "cuCtxSynchronize"},
			{&driver.cuPointerGetAttribute, "cuPointerGetAttribute"},
			{&driver.cuMemAlloc, "cuMemAlloc_v2"},
			{&driver.cuMemFree, "cuMemFree_v2"},
			{&driver.cuMemGetInfo, "cuMemGetInfo_v2"},
			{&driver.cuMemcpyDtoH, "cuMemcpyDtoH_v2"},
			{&driver.cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"},
			{&driver.cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"},
			{&driver.cuMemHostAlloc, "cuMemHostAlloc"},
			{&driver.cuModuleLoadData, "cuModuleLoadData"},
			{&driver.cuModuleUnload, "cuModuleUnload"},
			{&driver.cuMemFreeHost, "cuMemFreeHost"},
			{&driver.cuStreamDestroy, "cuStreamDestroy_v2"},
			{&driver.cuEventDestroy, "cuEventDestroy_v2"},
			{&driver.cuModuleGetFunction, "cuModuleGetFunction"},
			{&driver.cuLaunchKernel, "cuLaunchKernel"},
			{&driver.cuStreamCreate, "cuStreamCreate"},
			{&driver.cuStreamSynchronize, "cuStreamSynchronize"},
			{&driver.cuStreamBeginCapture, "cuStreamBeginCapture_v2"},
			{&driver.cuStreamEndCapture, "cuStreamEndCapture"},
			{&driver.cuGraphInstantiate, "cuGraphInstantiateWithFlags"},
			{&driver.cuGraphLaunch, "cuGraphLaunch"},
			{&driver.cuGraphDestroy, "cuGraphDestroy"},
			{&driver.cuGraphExecDestroy, "cuGraphExecDestroy"},
			{&driver.cuEventCreate, "cuEventCreate"},
			{&driver.cuEventRecord, "cuEventRecord"},
			{&driver.cuEventSynchronize, "cuEventSynchronize"},
			{&driver.cuEventElapsedTime, "cuEventElapsedTime"},
			{&driver.cuGetErrorName, "cuGetErrorName"},
			{&driver.cuFuncGetAttribute, "cuFuncGetAttribute"},
			{&driver.cuOccupancyMaxActiveBlocksPerMultiprocessor, "cuOccupancyMaxActiveBlocksPerMultiprocessor"},
		})
		if err != nil {
			driver.err = fmt.Errorf("cuda: driver library: %w", err)
			return
		}
		if register(&driver.cuLaunchKernelEx, lib, "cuLaunchKernelEx") != nil {
			driver.cuLaunchKernelEx = nil
		}
		if r := driver.cuInit(0); r != 0 {
			driver.err = fmt.Errorf("cuda: cuInit: %s", r)
		}
	})
	return driver.err
}

// symbol is a C function to bind to a Go function variable.
type symbol struct {
	fn   any // pointer to the func variable
	name string
}

// bindAll binds each symbol of lib, stopping at the first missing one.
func bindAll(lib uintptr, syms []symbol) error {
	for _, s := range syms {
		if err := register(s.fn, lib, s.name); err != nil {
			return err
		}
	}
	return nil
}

// register binds one C function, turning purego's panic on a missing
// symbol into an error.
func register(fn any, lib uintptr, name string) (err error) {
	sym, err := purego.Dlsym(lib, name)
	if err != nil || sym == 0 {
		return fmt.Errorf("symbol %s not found", name)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("binding %s: %v", name, r)
		}
	}()
	purego.RegisterFunc(fn, sym)
	return nil
}

// dlopen opens the first library that loads: the path in the environment
// variable env when set, else each name in turn.
func dlopen(env string, names []string) (uintptr, error) {
	if p := os.Getenv(env); p != "" {
		names = []string{p}
	}
	var errs []error
	for _, n := range names {
		lib, err := purego.Dlopen(n, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err == nil {
			return lib, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", filepath.Base(n), err))
	}
	return 0, fmt.Errorf("%w (set %s to its path)", errors.Join(errs...), env)
}

// String names the error code, as cuGetErrorName does.
func (r Result) String() string {
	if driver.cuGetErrorName != nil {
		var s uintptr
		if driver.cuGetErrorName(r, &s) == 0 && s != 0 {
			return cString(s) + fmt.Sprintf(" (%d)", int32(r))
		}
	}
	return fmt.Sprintf("CUDA error %d", int32(r))
}

// cString copies a NUL-terminated C string.
func cString(p uintptr) string {
	base := *(*unsafe.Pointer)(unsafe.Pointer(&p)) // C memory, not moved by Go
	var b []byte
	for i := 0; ; i++ {
		c := *(*byte)(unsafe.Add(base, i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

func check(what string, r Result) error {
	if r == 0 {
		return nil
	}
	return fmt.Errorf("cuda: %s: %s", what, r)
}

// Context is a CUDA context made current on the calling thread by each
// method that needs it. Its methods are not safe for concurrent use.
type Context struct {
	ctx    handle
	Device int32
	SMs    int // multiprocessor count
}

// Available reports whether the driver loads and sees a GPU: the error
// says why not.
func Available() error {
	if err := loadDriver(); err != nil {
		return err
	}
	var d int32
	return check("cuDeviceGet(0)", driver.cuDeviceGet(&d, 0))
}

// Open returns the primary context of device ordinal (the one XLA uses).
func Open(ordinal int) (*Context, error) {
	if err := loadDriver(); err != nil {
		return nil, err
	}
	c := &Context{}
	if err := check("cuDeviceGet", driver.cuDeviceGet(&c.Device, int32(ordinal))); err != nil {
		return nil, err
	}
	if err := check("cuDevicePrimaryCtxRetain", driver.cuDevicePrimaryCtxRetain(&c.ctx, c.Device)); err != nil {
		return nil, err
	}
	var sms int32
	const attrMultiprocessorCount = 16
	if err := check("cuDeviceGetAttribute", driver.cuDeviceGetAttribute(&sms, attrMultiprocessorCount, c.Device)); err != nil {
		return nil, err
	}
	c.SMs = int(sms)
	return c, nil
}

// ContextOf returns the context to run kernels on the buffer at device
// address p (for example one XLA allocated): the context that allocated
// it, or, for memory that belongs to no context (virtual memory mapped
// for the whole device, as XLA's allocator does), the primary context of
// its device.
func ContextOf(p Ptr) (*Context, error) {
	if err := loadDriver(); err != nil {
		return nil, err
	}
	const attrContext, attrDeviceOrdinal = 1, 9
	var ordinal int32
	if err := check("cuPointerGetAttribute(DEVICE_ORDINAL)", driver.cuPointerGetAttribute(unsafe.Pointer(&ordinal), attrDeviceOrdinal, p)); err != nil {
		return nil, fmt.Errorf("cuda: %#x is not device memory: %w", uint64(p), err)
	}
	c, err := Open(int(ordinal))
	if err != nil {
		return nil, err
	}
	var owner handle
	if check("cuPointerGetAttribute(CONTEXT)", driver.cuPointerGetAttribute(unsafe.Pointer(&owner), attrContext, p)) == nil && owner != 0 {
		c.ctx = owner
	}
	return c, nil
}

// use locks the goroutine to its thread and makes c current there; the
// returned function unlocks.
func (c *Context) use() (func(), error) {
	runtime.LockOSThread()
	if err := check("cuCtxSetCurrent", driver.cuCtxSetCurrent(c.ctx)); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	return runtime.UnlockOSThread, nil
}

// Do runs f with c current on a locked thread.
func (c *Context) Do(f func() error) error {
	done, err := c.use()
	if err != nil {
		return err
	}
	defer done()
	return f()
}

// Synchronize waits for all work in the context (all streams, XLA's too).
func (c *Context) Synchronize() error {
	return c.Do(func() error { return check("cuCtxSynchronize", driver.cuCtxSynchronize()) })
}

// MemInfo returns the free and total device memory.
func (c *Context) MemInfo() (free, total uint64, err error) {
	err = c.Do(func() error { return check("cuMemGetInfo", driver.cuMemGetInfo(&free, &total)) })
	return
}

// Alloc allocates n bytes of device memory (not initialized).
func (c *Context) Alloc(n int64) (Ptr, error) {
	var p Ptr
	err := c.Do(func() error {
		return check(fmt.Sprintf("cuMemAlloc(%d bytes)", n), driver.cuMemAlloc(&p, uint64(max(n, 1))))
	})
	return p, err
}

// Free releases memory from Alloc.
func (c *Context) Free(p Ptr) error {
	if p == 0 {
		return nil
	}
	return c.Do(func() error { return check("cuMemFree", driver.cuMemFree(p)) })
}

// HostAlloc allocates n bytes of page-locked host memory (for
// asynchronous copies); FreeHost frees it.
func (c *Context) HostAlloc(n int) ([]byte, error) {
	var p unsafe.Pointer
	err := c.Do(func() error { return check("cuMemHostAlloc", driver.cuMemHostAlloc(&p, uint64(n), 0)) })
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), n), nil
}

// FreeHost frees memory from HostAlloc.
func (c *Context) FreeHost(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	return c.Do(func() error { return check("cuMemFreeHost", driver.cuMemFreeHost(unsafe.Pointer(&b[0]))) })
}

// Close releases the context's hold on the device's primary context
// (XLA holds its own).
func (c *Context) Close() error {
	return check("cuDevicePrimaryCtxRelease", driver.cuDevicePrimaryCtxRelease(c.Device))
}

// bytesOf views a slice of fixed-size values as bytes.
func bytesOf[T any](s []T) (unsafe.Pointer, uint64) {
	if len(s) == 0 {
		return nil, 0
	}
	var z T
	return unsafe.Pointer(&s[0]), uint64(len(s)) * uint64(unsafe.Sizeof(z))
}

// CopyOut copies device memory into a host slice (synchronously, after
// the work already queued in the context).
func CopyOut[T any](c *Context, dst []T, src Ptr) error {
	p, n := bytesOf(dst)
	if n == 0 {
		return nil
	}
	var pin runtime.Pinner
	pin.Pin(p)
	defer pin.Unpin()
	return c.Do(func() error { return check("cuMemcpyDtoH", driver.cuMemcpyDtoH(p, src, n)) })
}
