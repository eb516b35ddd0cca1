// Package model is the Mistral/Llama decoder of Hugging Face's
// MistralForCausalLM and LlamaForCausalLM on GoMLX.
//
// The stages, one per file:
//
//   - config.go: Config, read from a checkpoint's config.json or named
//     (random:tiny, random:mistral-7b), checked before any work.
//   - weights.go: the weights as GoMLX tensors, loaded by their Hugging Face
//     names from safetensors (shape checked, errors naming the tensor) or
//     drawn at random on the device.
//   - forward.go: the graph: embedding, RMSNorm, RoPE (rotate_half, as
//     Hugging Face), grouped-query attention with a causal and sliding-window
//     mask, SwiGLU MLP, final norm, LM head (tied or not). Forward runs a
//     whole sequence and returns the logits of every position.
//   - step.go: incremental decoding. A KV cache (one tensor for all layers)
//     that stays on the device (passed in and returned, its buffer donated),
//     one executable per step shape: a step feeds n tokens (prompt prefill,
//     one sampled token, or a forced multi-token continuation) at a dynamic
//     position, with n and the attended length bucketed (stepShape) so that
//     the number of compiled programs stays small. Sampling (greedy,
//     temperature, top-p) runs in the step, seeded, and only the token id
//     comes back. Unconstrained generation is pipelined: each step is fed
//     the previous step's token on the device and enqueued before the host
//     reads that token.
//   - lora.go: PEFT LoRA adapters, checked against the base, applied
//     unmerged (beside dense or NF4 weights) or merged on the device.
//   - stack.go: Weights.Stack, one [layers, …] tensor per weight kind for
//     inference, so that a step program takes a few dozen inputs.
//   - graph_export.go, layer_export.go: what training builds on (the
//     logits of a batch; embedding, one layer and the head as separate
//     pieces for layer-by-layer recomputation).
//   - constrain.go: the mask rows of a compiled schema (runtime/mask) on the
//     device as bits; the step gathers the state's row and masks the logits.
//   - decode.go: constrained generation with jump-forward over forced bytes.
//
// Weights are bf16 or float32 (NF4 for the layer projections, see
// runtime/nf4); activations, norms, RoPE and softmax run in float32.
//
// Against transformers 5.17 on testdata/fixtures (make_reference.py), the
// float32 path agrees within 3e-6 on logits, with or without the sliding
// window and the LoRA adapter, and greedy continuations are identical.
//
// All computations are built with the graph package and run on any GoMLX
// backend; tests use the pure-Go simplego backend.
package model
