package cuda

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"
)

// Stream is a CUDA stream of a context. It synchronizes with the legacy
// default stream, so the synchronous copies of this package see its work.
type Stream struct {
	c *Context
	s handle
}

// NewStream creates a stream.
func (c *Context) NewStream() (*Stream, error) {
	s := &Stream{c: c}
	err := c.Do(func() error { return check("cuStreamCreate", driver.cuStreamCreate(&s.s, 0)) })
	return s, err
}

// Synchronize waits for the stream's work.
func (s *Stream) Synchronize() error {
	return s.c.Do(func() error { return check("cuStreamSynchronize", driver.cuStreamSynchronize(s.s)) })
}

// Destroy frees the stream (after its work).
func (s *Stream) Destroy() error {
	return s.c.Do(func() error { return check("cuStreamDestroy", driver.cuStreamDestroy(s.s)) })
}

// CopyInAsync queues a copy of host memory to the device. src must stay
// valid and unchanged until the copy has run (use page-locked memory from
// HostAlloc to make it truly asynchronous).
func (s *Stream) CopyInAsync(dst Ptr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	return s.c.Do(func() error {
		return check("cuMemcpyHtoDAsync", driver.cuMemcpyHtoDAsync(dst, unsafe.Pointer(&src[0]), uint64(len(src)), s.s))
	})
}

// CopyOutAsync queues a copy of device memory to host memory dst
// (page-locked, from HostAlloc).
func (s *Stream) CopyOutAsync(dst []byte, src Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	return s.c.Do(func() error {
		return check("cuMemcpyDtoHAsync", driver.cuMemcpyDtoHAsync(unsafe.Pointer(&dst[0]), src, uint64(len(dst)), s.s))
	})
}

// Module is compiled device code loaded into a context.
type Module struct {
	c *Context
	m handle
}

// LoadModule loads a cubin or PTX image (from CompileSource).
func (c *Context) LoadModule(image []byte) (*Module, error) {
	img := append(append([]byte(nil), image...), 0) // PTX must end in NUL
	var pin runtime.Pinner
	pin.Pin(&img[0])
	defer pin.Unpin()
	m := &Module{c: c}
	err := c.Do(func() error { return check("cuModuleLoadData", driver.cuModuleLoadData(&m.m, unsafe.Pointer(&img[0]))) })
	return m, err
}

// Unload frees the module; its kernels must not run afterwards.
func (m *Module) Unload() error {
	return m.c.Do(func() error { return check("cuModuleUnload", driver.cuModuleUnload(m.m)) })
}

// Func is a kernel of a module.
type Func struct {
	c    *Context
	f    handle
	Name string
}

// Func looks a kernel up by its (extern "C") name.
func (m *Module) Func(name string) (*Func, error) {
	f := &Func{c: m.c, Name: name}
	err := m.c.Do(func() error { return check("cuModuleGetFunction "+name, driver.cuModuleGetFunction(&f.f, m.m, name)) })
	return f, err
}

// Resources reports the registers per thread and the local (spill)
// memory per thread the compiled kernel uses, and how many of its blocks of
// threads threads fit on one multiprocessor at once.
func (f *Func) Resources(threads int) (regs, localBytes, blocksPerSM int, err error) {
	var r, l, b int32
	const attrNumRegs, attrLocalSize = 4, 3
	err = f.c.Do(func() error {
		if err := check("cuFuncGetAttribute "+f.Name, driver.cuFuncGetAttribute(&r, attrNumRegs, f.f)); err != nil {
			return err
		}
		if err := check("cuFuncGetAttribute "+f.Name, driver.cuFuncGetAttribute(&l, attrLocalSize, f.f)); err != nil {
			return err
		}
		return check("cuOccupancyMaxActiveBlocksPerMultiprocessor "+f.Name,
			driver.cuOccupancyMaxActiveBlocksPerMultiprocessor(&b, f.f, int32(threads), 0))
	})
	return int(r), int(l), int(b), err
}

// Dim3 is a grid or block size.
type Dim3 struct{ X, Y, Z uint32 }

// D1 is a one-dimensional size; D2 two-dimensional.
func D1(x int) Dim3    { return Dim3{uint32(x), 1, 1} }
func D2(x, y int) Dim3 { return Dim3{uint32(x), uint32(y), 1} }

// Launch queues a kernel. Each argument is a Ptr, an int, int32, uint32,
// float32 or bool, passed as the kernel's parameter of the same size
// (int is passed as a 32-bit int), or a []byte holding a struct passed by
// value (laid out as the kernel's C struct).
func (s *Stream) Launch(f *Func, grid, block Dim3, sharedMem int, args ...any) error {
	return s.launch(f, grid, block, sharedMem, false, args)
}

// LaunchEarly is Launch with programmatic dependent launch (Hopper and
// later): the kernel's blocks may start while the kernel queued before it
// on s is still running, once each of that kernel's blocks has executed
// griddepcontrol.launch_dependents (or exited). The kernel must execute
// griddepcontrol.wait in every block before it reads what earlier kernels
// wrote or writes what they read; before that it may only read memory
// that no kernel of the stream writes (weights). On a driver without
// cuLaunchKernelEx it is Launch, and griddepcontrol.wait returns at once.
func (s *Stream) LaunchEarly(f *Func, grid, block Dim3, sharedMem int, args ...any) error {
	return s.launch(f, grid, block, sharedMem, driver.cuLaunchKernelEx != nil, args)
}

// launchAttribute mirrors CUlaunchAttribute: an id, padding to 8 bytes and
// a 64-byte value union.
type launchAttribute struct {
	ID    uint32
	_     uint32
	Value [64]byte
}

// launchConfig mirrors CUlaunchConfig.
type launchConfig struct {
	Grid, Block Dim3
	SharedMem   uint32
	Stream      handle
	Attrs       *launchAttribute
	NumAttrs    uint32
}

// attrProgrammaticSerialization is CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION.
const attrProgrammaticSerialization = 6

func (s *Stream) launch(f *Func, grid, block Dim3, sharedMem int, early bool, args []any) error {
	slots := make([]uint64, len(args))
	params := make([]unsafe.Pointer, len(args))
	var pin runtime.Pinner
	defer pin.Unpin()
	for i, a := range args {
		switch v := a.(type) {
		case []byte:
			if len(v) == 0 {
				return fmt.Errorf("cuda: launch %s: argument %d is an empty struct", f.Name, i)
			}
			pin.Pin(&v[0])
			params[i] = unsafe.Pointer(&v[0])
			continue
		case Ptr:
			slots[i] = uint64(v)
		case int:
			if v < math.MinInt32 || v > math.MaxInt32 {
				return fmt.Errorf("cuda: launch %s: argument %d (%d) overflows int32", f.Name, i, v)
			}
			slots[i] = uint64(uint32(int32(v)))
		case int32:
			slots[i] = uint64(uint32(v))
		case uint32:
			slots[i] = uint64(v)
		case float32:
			slots[i] = uint64(math.Float32bits(v))
		case bool:
			if v {
				slots[i] = 1
			}
		default:
			return fmt.Errorf("cuda: launch %s: argument %d has unsupported type %T", f.Name, i, a)
		}
		params[i] = unsafe.Pointer(&slots[i])
	}
	var pp unsafe.Pointer
	if len(args) > 0 {
		pin.Pin(&slots[0])
		pin.Pin(&params[0])
		pp = unsafe.Pointer(&params[0])
	}
	if !early {
		return s.c.Do(func() error {
			return check("launch "+f.Name, driver.cuLaunchKernel(f.f, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z,
				uint32(sharedMem), s.s, pp, nil))
		})
	}
	attr := &launchAttribute{ID: attrProgrammaticSerialization}
	attr.Value[0] = 1 // programmaticStreamSerializationAllowed (an int)
	cfg := &launchConfig{Grid: grid, Block: block, SharedMem: uint32(sharedMem), Stream: s.s, Attrs: attr, NumAttrs: 1}
	pin.Pin(attr)
	pin.Pin(cfg)
	return s.c.Do(func() error {
		return check("launch (early) "+f.Name, driver.cuLaunchKernelEx(unsafe.Pointer(cfg), f.f, pp, nil))
	})
}

// Graph is an instantiated CUDA graph: a recorded sequence of launches
// replayed with one call.
type Graph struct {
	c    *Context
	exec handle
}

// Capture records the launches that record queues on s into a graph
// (nothing runs while recording).
func (s *Stream) Capture(record func() error) (*Graph, error) {
	g := &Graph{c: s.c}
	err := s.c.Do(func() error {
		const modeThreadLocal = 1
		if err := check("cuStreamBeginCapture", driver.cuStreamBeginCapture(s.s, modeThreadLocal)); err != nil {
			return err
		}
		recErr := record()
		var graph handle
		endErr := check("cuStreamEndCapture", driver.cuStreamEndCapture(s.s, &graph))
		if recErr != nil || endErr != nil {
			if graph != 0 {
				driver.cuGraphDestroy(graph)
			}
			if recErr != nil {
				return recErr
			}
			return endErr
		}
		defer driver.cuGraphDestroy(graph)
		return check("cuGraphInstantiate", driver.cuGraphInstantiate(&g.exec, graph, 0))
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Launch queues a replay of the graph on s.
func (g *Graph) Launch(s *Stream) error {
	return s.c.Do(func() error { return check("cuGraphLaunch", driver.cuGraphLaunch(g.exec, s.s)) })
}

// Destroy frees the graph.
func (g *Graph) Destroy() {
	if g != nil && g.exec != 0 {
		_ = g.c.Do(func() error { return check("cuGraphExecDestroy", driver.cuGraphExecDestroy(g.exec)) })
		g.exec = 0
	}
}

// Event marks a point in a stream, for timing.
type Event struct {
	c *Context
	e handle
}

// NewEvent creates an event.
func (c *Context) NewEvent() (*Event, error) {
	e := &Event{c: c}
	err := c.Do(func() error { return check("cuEventCreate", driver.cuEventCreate(&e.e, 0)) })
	return e, err
}

// Destroy frees the event.
func (e *Event) Destroy() error {
	return e.c.Do(func() error { return check("cuEventDestroy", driver.cuEventDestroy(e.e)) })
}

// Record queues the event on s.
func (e *Event) Record(s *Stream) error {
	return e.c.Do(func() error { return check("cuEventRecord", driver.cuEventRecord(e.e, s.s)) })
}

// Elapsed waits for end and returns the time from start to end.
func Elapsed(start, end *Event) (float64, error) {
	var ms float32
	err := end.c.Do(func() error {
		if err := check("cuEventSynchronize", driver.cuEventSynchronize(end.e)); err != nil {
			return err
		}
		return check("cuEventElapsedTime", driver.cuEventElapsedTime(&ms, start.e, end.e))
	})
	return float64(ms), err
}
