package model

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/gomlx/backends"
	. "github.com/gomlx/gomlx/pkg/core/graph" //nolint:staticcheck // GoMLX's idiom for graph code
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/schemac-dev/schemac/runtime/nf4"
)

// stackedPrefix starts the name of a stacked tensor: stackedPrefix+REST
// holds "model.layers.N."+REST of every layer N along a new first axis.
const stackedPrefix = "model.layers.*."

var layerName = regexp.MustCompile(`^model\.layers\.(\d+)\.(.+)$`)

// Stack replaces, for each per-layer tensor name, the tensors of all
// layers by one tensor [layers, …] on the device, named
// "model.layers.*.REST". The programs then take a few dozen inputs
// instead of hundreds, which saves host time on every decode step, and
// slice each layer's weights inside the graph. It changes nothing the
// model computes.
//
// Stack is for inference: call it after AddLoRA (which, like training,
// looks weights up by their per-layer names) and before the first step.
// It needs twice the memory of the largest group of same-named tensors
// while it copies them.
func (w *Weights) Stack(backend backends.Backend) error {
	if w.Stacked() {
		return nil
	}
	L := w.Config.NumLayers
	var order []string
	seen := map[string]bool{}
	for _, n := range w.Names {
		if m := layerName.FindStringSubmatch(n); m != nil && !seen[m[2]] {
			seen[m[2]] = true
			order = append(order, m[2])
		}
	}
	execs := map[string]*Exec{}
	defer func() {
		for _, e := range execs {
			e.Finalize()
		}
	}()
	// One group at a time, rewriting Names and Tensors after each: an
	// error leaves valid weights, partly stacked.
	for _, rest := range order {
		idx := slices.Repeat([]int{-1}, L)
		for i, n := range w.Names {
			m := layerName.FindStringSubmatch(n)
			if m == nil || m[2] != rest {
				continue
			}
			li, err := strconv.Atoi(m[1])
			if err != nil || li >= L {
				return fmt.Errorf("stacking weights: %s: layer out of range (%d layers)", n, L)
			}
			idx[li] = i
		}
		var args []any
		for li, i := range idx {
			if i < 0 {
				return fmt.Errorf("stacking weights: model.layers.%d.%s is missing", li, rest)
			}
			if !w.Tensors[i].Shape().Equal(w.Tensors[idx[0]].Shape()) {
				return fmt.Errorf("stacking weights: %s has shape %s, layer 0 has %s", w.Names[i], w.Tensors[i].Shape(), w.Tensors[idx[0]].Shape())
			}
			args = append(args, w.Tensors[i])
		}
		key := w.Tensors[idx[0]].Shape().String()
		e := execs[key]
		if e == nil {
			var err error
			if e, err = NewExec(backend, func(in []*Node) *Node { return Stack(in, 0) }); err != nil {
				return fmt.Errorf("stacking weights: %w", err)
			}
			execs[key] = e
		}
		out, err := e.Exec1(args...)
		if err != nil {
			return fmt.Errorf("stacking %s: %w", rest, err)
		}
		first := idx[0]
		for _, i := range idx {
			w.Tensors[i].FinalizeAll()
			w.Tensors[i] = nil
		}
		w.Names[first], w.Tensors[first] = stackedPrefix+rest, out
		names, ts := w.Names[:0], w.Tensors[:0]
		for i, n := range w.Names {
			if w.Tensors[i] != nil {
				names, ts = append(names, n), append(ts, w.Tensors[i])
			}
		}
		w.Names, w.Tensors = names, ts
	}
	return nil
}

// Stacked reports whether Stack has run (the per-layer names are gone).
func (w *Weights) Stacked() bool {
	for _, n := range w.Names {
		if strings.HasPrefix(n, stackedPrefix) {
			return true
		}
	}
	return false
}

// DoubleQuantize replaces the absmax vector of every NF4 matrix by its
// double quantization (runtime/nf4.DoubleQuantize: int8 values, a float32
// scale per 256 of them and their mean), as QLoRA's
// bnb_4bit_use_double_quant does: 1 byte per 64 weights instead of 4, about
// 0.3 GB less for a 7B model. The values are computed on the host from a
// copy of each vector; the graph rebuilds the absmax values with
// nf4.DequantizeAbsmax. Call it before Stack.
func (w *Weights) DoubleQuantize(backend backends.Backend) error {
	if w.Stacked() {
		return fmt.Errorf("double quantization of stacked weights: call DoubleQuantize before Weights.Stack")
	}
	for i := 0; i < len(w.Names); i++ {
		base, ok := strings.CutSuffix(w.Names[i], NF4Absmax)
		if !ok {
			continue
		}
		absmax, err := tensors.CopyFlatData[float32](w.Tensors[i])
		if err != nil {
			return fmt.Errorf("double quantization of %s: %w", w.Names[i], err)
		}
		q, scale, mean := nf4.DoubleQuantize(absmax).DoubleTensors()
		ts := []*tensors.Tensor{q, scale, mean}
		for _, t := range ts {
			if backend != nil {
				if err := t.MaterializeOnDevice(backend, false, 0); err != nil {
					return fmt.Errorf("double quantization of %s: %w", w.Names[i], err)
				}
				t.FinalizeLocal()
			}
		}
		w.Tensors[i].FinalizeAll()
		names := []string{base + NF4AbsmaxQ, base + NF4AbsmaxScale, base + NF4AbsmaxMean}
		w.Names = slices.Concat(w.Names[:i], names, w.Names[i+1:])
		w.Tensors = slices.Concat(w.Tensors[:i], ts, w.Tensors[i+1:])
		i += len(names) - 1
	}
	return nil
}
