// Package safetensors reads and writes Hugging Face safetensors files, the
// weight format of Hugging Face checkpoints and PEFT adapters.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON
// (tensor name → dtype, shape, data_offsets, plus an optional
// "__metadata__" map of strings) and the tensor data. ParseHeader checks a
// header exactly the way the reference implementation does and more: every
// tensor's byte range lies inside the data, its size is the product of its
// shape times the dtype size, ranges neither overlap nor leave holes, and
// the data ends where the last tensor ends. A bad file gives an *Error that
// names the file and the tensor, never a panic.
//
// Open maps a file into memory (syscall.Mmap where available, a plain read
// otherwise); Tensor returns views of the mapped bytes without copying.
// OpenModel opens a checkpoint directory: a single model.safetensors or the
// shards listed by model.safetensors.index.json. The conversions in
// convert.go turn BF16, F16 and F32 data into []float32 and back.
//
// Writer produces deterministic files: tensors in name order, header keys
// sorted, the header padded with spaces to a multiple of 8 bytes as the
// reference implementation does, so tensor data stays 8-byte aligned.
package safetensors
