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
//   - step.go: incremental decoding. A KV cache that stays on the device
//     (passed in and returned, its buffers donated), one executable per step
//     shape: a step feeds n tokens (prompt prefill, one sampled token, or a
//     forced multi-token continuation) at a dynamic position, with n
//     bucketed so that the number of compiled programs stays bounded.
//
// All computations are built with the graph package and run on any GoMLX
// backend; tests use the pure-Go simplego backend.
package model
