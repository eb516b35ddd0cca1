// Package nf4 is QLoRA's 4-bit NormalFloat quantization, computed at load
// time from bf16 (or float32) weights and dequantized on the CPU or inside
// a GoMLX graph.
//
// A weight matrix is flattened row-major and cut into blocks of 64 values;
// each block keeps its absolute maximum (absmax, float32) and each value
// the index of the nearest of the 16 NF4 code values (quantiles of N(0,1)
// scaled to [-1, 1], as bitsandbytes defines them) after dividing by the
// absmax. Two indices share a byte, the even element in the high nibble, as
// bitsandbytes packs them. A value dequantizes to Code[index] × absmax.
//
// Double quantization (QLoRA §3) shrinks the absmax values themselves:
// blocks of 256 absmaxes, minus their global mean, stored as int8 with one
// float32 scale per block (symmetric linear, not bitsandbytes' dynamic
// 8-bit map: the weights are quantized here at load time, so nothing needs
// to read bitsandbytes' layout). It costs 8.1 instead of 32 bits per 64
// weights. DequantizeAbsmax rebuilds the absmax values inside a graph, so
// they can stay double-quantized on the device (model.Weights.DoubleQuantize).
//
// Stages, one per file: quantize.go (float → codes, absmax), double.go
// (absmax → int8), graph.go (dequantization as graph nodes).
package nf4
