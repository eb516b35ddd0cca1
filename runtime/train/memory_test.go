package train

import (
	"reflect"
	"testing"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/shapes"
)

// TestCompiledMemoryFields guards compiledMemory's reflection: the
// unexported path graph.Graph.executable → *xla.Executable.exec →
// pjrt.LoadedExecutable.OnDeviceMemoryUsageStats exists in the GoMLX and
// go-xla this module builds with (no GPU needed: types only). On the
// pure-Go backend the figures are absent.
func TestCompiledMemoryFields(t *testing.T) {
	f, ok := reflect.TypeOf((*Graph)(nil)).Elem().FieldByName("executable")
	if !ok || f.Type != reflect.TypeOf((*backends.Executable)(nil)).Elem() {
		t.Fatalf("graph.Graph.executable: %v %v", ok, f.Type)
	}
	xe := reflect.TypeOf((*xla.Executable)(nil))
	if !xe.Implements(f.Type) {
		t.Fatal("*xla.Executable is not a backends.Executable")
	}
	e, ok := xe.Elem().FieldByName("exec")
	if !ok || e.Type.Kind() != reflect.Pointer {
		t.Fatalf("xla.Executable.exec: %v %v", ok, e.Type)
	}
	s, ok := e.Type.Elem().FieldByName("OnDeviceMemoryUsageStats")
	if !ok || s.Type.Kind() != reflect.Struct {
		t.Fatalf("%s.OnDeviceMemoryUsageStats: %v", e.Type.Elem(), ok)
	}
	for _, n := range []string{"GeneratedCode", "Inputs", "Outputs", "Aliases", "Temporary"} {
		if g, ok := s.Type.FieldByName(n); !ok || g.Type.Kind() != reflect.Int64 {
			t.Errorf("%s.%s missing or not int64", s.Type, n)
		}
	}
	g := NewGraph(testBackend(), "probe")
	defer g.Finalize()
	x := Parameter(g, "x", shapes.Scalar[float32]())
	g.Compile(MulScalar(x, 2))
	if pm, ok := compiledMemory(g); ok {
		t.Errorf("the pure-Go backend reported compiled memory %+v", pm)
	}
	if _, ok := compiledMemory(nil); ok {
		t.Error("nil graph")
	}
}

// Types shaped like graph.Graph → xla.Executable → pjrt.LoadedExecutable.
type (
	fakeStats  struct{ GeneratedCode, Inputs, Outputs, Aliases, Temporary int64 }
	fakeLoaded struct {
		name                     string
		OnDeviceMemoryUsageStats fakeStats
	}
	fakeXLA   struct{ exec *fakeLoaded }
	fakeGraph struct{ executable backends.Executable }
)

func (*fakeXLA) Finalize()                          {}
func (*fakeXLA) Inputs() ([]string, []shapes.Shape) { return nil, nil }
func (*fakeXLA) Outputs() []shapes.Shape            { return nil }
func (*fakeXLA) Execute([]backends.Buffer, []bool, backends.DeviceNum) ([]backends.Buffer, error) {
	return nil, nil
}

// TestExecutableMemory reads the figures through unexported fields as
// compiledMemory does on XLA.
func TestExecutableMemory(t *testing.T) {
	g := &fakeGraph{executable: &fakeXLA{exec: &fakeLoaded{OnDeviceMemoryUsageStats: fakeStats{1, 2, 3, 4, 5}}}}
	pm, ok := executableMemory(reflect.ValueOf(g))
	if want := (ProgramMemory{Code: 1, Inputs: 2, Outputs: 3, Aliases: 4, Temporary: 5}); !ok || pm != want || pm.Extra() != 5 {
		t.Errorf("%+v %v, want %+v", pm, ok, want)
	}
	for _, g := range []*fakeGraph{{}, {executable: &fakeXLA{}}} {
		if _, ok := executableMemory(reflect.ValueOf(g)); ok {
			t.Errorf("%+v: figures from nothing", g)
		}
	}
}
