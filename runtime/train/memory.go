package train

import (
	"reflect"

	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// Device memory of training, estimated from what is resident and what each
// program needs: PJRT plugins (XLA on a GPU) preallocate most of the
// device, so the driver's figures say nothing, and GoMLX does not expose
// the allocator's peak. The estimate of one program run is
//
//	resident + step + outputs − aliased inputs + temporaries + code
//
// where resident are the tensors that live across steps (the base
// weights, the trainable parameters, the AdamW moments, the masked loss's
// rows, the random state), step are the step's tensors held on the device
// when the program runs (the saved layer inputs, the gradient flowing
// back, the accumulated gradients — the program's inputs among them), and
// the last three are XLA's own figures for the compiled program
// (PJRT_Executable_GetCompiledMemoryStats, read at compilation by go-xla).
// Small per-run inputs copied from the host (tokens, labels, loss masks,
// scalars) are not counted. Backends that report no compiled figures
// (the pure-Go one) count the program's outputs only.

// ProgramMemory are the compiled memory figures of one program, in bytes
// (XLA's CompiledMemoryStats on the device).
type ProgramMemory struct {
	Code      int64 `json:"code"`
	Inputs    int64 `json:"inputs"`
	Outputs   int64 `json:"outputs"`
	Aliases   int64 `json:"aliases"`
	Temporary int64 `json:"temporary"`
}

// Extra is what a run of the program adds to the memory its inputs hold:
// outputs not aliased to donated inputs, temporaries and code.
func (p ProgramMemory) Extra() int64 { return p.Outputs - p.Aliases + p.Temporary + p.Code }

// MemStats is the device-memory estimate of the runs since the last
// ResetMemStats (see above for how it is computed).
type MemStats struct {
	Resident int64 // tensors living across steps, at the peak

	// Peak is the largest estimate of a program run: Resident + PeakStep +
	// PeakProgram, at program PeakName.
	Peak        int64
	PeakStep    int64 // the step's tensors held on the device at the peak
	PeakProgram int64 // the program's outputs, temporaries and code at the peak
	PeakName    string

	// Compiled: the backend reported every program's compiled figures
	// (else PeakProgram counts outputs only).
	Compiled bool
	// Programs are the compiled figures by program (key of Trainer's
	// programs; the last shape compiled).
	Programs map[string]ProgramMemory
}

type memTracker struct {
	stats MemStats
	any   bool
	known map[*Graph]ProgramMemory
}

// observe records a run of program key (graph g, outputs outs) with the
// resident bytes and the step's live bytes at the run.
func (m *memTracker) observe(key string, g *Graph, outs []*tensors.Tensor, resident, live int64) {
	if m.known == nil {
		m.known = map[*Graph]ProgramMemory{}
	}
	pm, ok := m.known[g]
	compiled := true
	if !ok {
		pm, compiled = compiledMemory(g)
		if compiled {
			m.known[g] = pm
		}
	}
	if !compiled {
		pm = ProgramMemory{Outputs: tensorBytes(outs)}
	}
	s := &m.stats
	if !m.any {
		s.Compiled = true
		m.any = true
	}
	s.Compiled = s.Compiled && compiled
	if s.Programs == nil {
		s.Programs = map[string]ProgramMemory{}
	}
	s.Programs[key] = pm
	if est := resident + live + pm.Extra(); est > s.Peak {
		s.Peak, s.Resident, s.PeakStep, s.PeakProgram, s.PeakName = est, resident, live, pm.Extra(), key
	}
}

// MemStats returns the estimate of the device memory of the programs run
// since the trainer was made or ResetMemStats.
func (t *Trainer) MemStats() MemStats {
	s := t.mem.stats
	if s.Peak == 0 {
		s.Resident = t.residentBytes()
	}
	return s
}

// ResetMemStats starts a new estimate.
func (t *Trainer) ResetMemStats() { t.mem.stats, t.mem.any = MemStats{}, false }

// residentBytes are the bytes of the tensors living across steps.
func (t *Trainer) residentBytes() int64 {
	return tensorBytes(t.Params) + tensorBytes(t.M) + tensorBytes(t.V) + tensorBytes(t.baseTensors()) +
		tensorBytes([]*tensors.Tensor{t.RNG, t.maskRows})
}

// ResidentParts splits the resident bytes: the frozen base (none with
// Full), the trainable parameters, the AdamW moments.
func (t *Trainer) ResidentParts() (base, params, moments int64) {
	return tensorBytes(t.baseTensors()), tensorBytes(t.Params), tensorBytes(t.M) + tensorBytes(t.V)
}

// compiledMemory reads XLA's compiled memory figures of g's program. GoMLX
// v0.26 does not export them: they are go-xla's
// pjrt.LoadedExecutable.OnDeviceMemoryUsageStats, reached through the
// unexported fields graph.Graph.executable (a *xla.Executable) and
// xla.Executable.exec, by reflection (reading only). Other backends, or
// other versions of these types, give ok false.
func compiledMemory(g *Graph) (ProgramMemory, bool) {
	if g == nil {
		return ProgramMemory{}, false
	}
	return executableMemory(reflect.ValueOf(g))
}

// executableMemory follows g.executable.exec.OnDeviceMemoryUsageStats
// from a pointer g to a struct.
func executableMemory(g reflect.Value) (pm ProgramMemory, ok bool) {
	defer func() {
		if recover() != nil {
			pm, ok = ProgramMemory{}, false
		}
	}()
	v := g.Elem().FieldByName("executable")
	if !v.IsValid() || v.Kind() != reflect.Interface || v.IsNil() {
		return pm, false
	}
	v = v.Elem() // *xla.Executable
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return pm, false
	}
	v = v.Elem().FieldByName("exec") // *pjrt.LoadedExecutable
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return pm, false
	}
	v = v.Elem().FieldByName("OnDeviceMemoryUsageStats")
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return pm, false
	}
	field := func(name string) int64 {
		f := v.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Int64 {
			panic("no field " + name)
		}
		return f.Int()
	}
	return ProgramMemory{Code: field("GeneratedCode"), Inputs: field("Inputs"), Outputs: field("Outputs"),
		Aliases: field("Aliases"), Temporary: field("Temporary")}, true
}
