package cuda

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"
)

var nvrtc struct {
	once sync.Once
	err  error

	create      func(prog *uintptr, src, name string, nh int32, headers, includes unsafe.Pointer) int32
	compile     func(prog uintptr, nopts int32, opts unsafe.Pointer) int32
	logSize     func(prog uintptr, n *uint64) int32
	log         func(prog uintptr, buf unsafe.Pointer) int32
	cubinSize   func(prog uintptr, n *uint64) int32
	cubin       func(prog uintptr, buf unsafe.Pointer) int32
	destroy     func(prog *uintptr) int32
	errorString func(r int32) uintptr
}

// nvrtcCandidates are where NVRTC is looked for: the CUDA toolkit and the
// pip wheels of PyTorch/JAX environments (CUDA 13, then 12).
func nvrtcCandidates() []string {
	names := []string{"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"}
	var out []string
	for _, dir := range []string{"/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"} {
		for _, n := range names {
			out = append(out, filepath.Join(dir, n))
		}
	}
	for _, pat := range []string{
		"/opt/*/.venv/lib/python3*/site-packages/nvidia/cu13/lib/libnvrtc.so.13",
		"/opt/*/.venv/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.1*",
		"/usr/local/lib/python3*/dist-packages/nvidia/cu13/lib/libnvrtc.so.13",
		"/usr/local/lib/python3*/dist-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.1*",
	} {
		m, _ := filepath.Glob(pat)
		out = append(out, m...)
	}
	return append(out, names...)
}

func loadNVRTC() error {
	nvrtc.once.Do(func() {
		var candidates []string
		for _, c := range nvrtcCandidates() {
			if !filepath.IsAbs(c) {
				candidates = append(candidates, c)
			} else if _, err := os.Stat(c); err == nil {
				candidates = append(candidates, c)
			}
		}
		lib, err := dlopen("SCHEMAC_NVRTC", candidates)
		if err != nil {
			nvrtc.err = fmt.Errorf("cuda: NVRTC (libnvrtc.so) was not found: %w", err)
			return
		}
		if err := bindAll(lib, []symbol{
			{&nvrtc.create, "nvrtcCreateProgram"},
			{&nvrtc.compile, "nvrtcCompileProgram"},
			{&nvrtc.logSize, "nvrtcGetProgramLogSize"},
			{&nvrtc.log, "nvrtcGetProgramLog"},
			{&nvrtc.cubinSize, "nvrtcGetCUBINSize"},
			{&nvrtc.cubin, "nvrtcGetCUBIN"},
			{&nvrtc.destroy, "nvrtcDestroyProgram"},
			{&nvrtc.errorString, "nvrtcGetErrorString"},
		}); err != nil {
			nvrtc.err = fmt.Errorf("cuda: NVRTC: %w", err)
		}
	})
	return nvrtc.err
}

// Arch returns the device's compute capability as NVRTC's target name
// (for example "sm_90").
func (c *Context) Arch() (string, error) {
	var major, minor int32
	const attrMajor, attrMinor = 75, 76
	if err := check("cuDeviceGetAttribute", driver.cuDeviceGetAttribute(&major, attrMajor, c.Device)); err != nil {
		return "", err
	}
	if err := check("cuDeviceGetAttribute", driver.cuDeviceGetAttribute(&minor, attrMinor, c.Device)); err != nil {
		return "", err
	}
	return fmt.Sprintf("sm_%d%d", major, minor), nil
}

// Compile compiles CUDA C source (no #include of CUDA headers) with NVRTC
// for the context's device and loads it. name labels the source in
// errors; opts are extra NVRTC options (such as "-DFOO=1").
func (c *Context) Compile(name, src string, opts ...string) (*Module, error) {
	arch, err := c.Arch()
	if err != nil {
		return nil, err
	}
	bin, err := CompileCUBIN(name, src, arch, opts...)
	if err != nil {
		return nil, err
	}
	return c.LoadModule(bin)
}

// CompileCUBIN compiles CUDA C source with NVRTC for a GPU architecture
// (such as "sm_90") and returns the machine code. It needs NVRTC but no
// GPU or driver, so machines without a GPU can check the source.
func CompileCUBIN(name, src, arch string, opts ...string) ([]byte, error) {
	if err := loadNVRTC(); err != nil {
		return nil, err
	}
	var prog uintptr
	if r := nvrtc.create(&prog, src, name, 0, nil, nil); r != 0 {
		return nil, fmt.Errorf("cuda: nvrtcCreateProgram %s: %s", name, cString(nvrtc.errorString(r)))
	}
	defer nvrtc.destroy(&prog)
	all := append([]string{"--gpu-architecture=" + arch, "--std=c++17"}, opts...)
	cstrs := make([][]byte, len(all))
	ptrs := make([]uintptr, len(all))
	for i, o := range all {
		cstrs[i] = append([]byte(o), 0)
		ptrs[i] = uintptr(unsafe.Pointer(&cstrs[i][0]))
	}
	r := nvrtc.compile(prog, int32(len(all)), unsafe.Pointer(&ptrs[0]))
	var n uint64
	nvrtc.logSize(prog, &n)
	logText := ""
	if n > 1 {
		buf := make([]byte, n)
		nvrtc.log(prog, unsafe.Pointer(&buf[0]))
		logText = strings.TrimRight(string(buf), "\x00\n ")
	}
	if r != 0 {
		return nil, fmt.Errorf("cuda: compiling %s for %s: %s\n%s", name, arch, cString(nvrtc.errorString(r)), logText)
	}
	if nvrtc.cubinSize(prog, &n) != 0 || n == 0 {
		return nil, fmt.Errorf("cuda: compiling %s: no cubin", name)
	}
	bin := make([]byte, n)
	nvrtc.cubin(prog, unsafe.Pointer(&bin[0]))
	return bin, nil
}
