// Package train fine-tunes the Mistral/Llama model of runtime/model on
// GoMLX: QLoRA (a frozen base, dense or NF4, with trainable LoRA factors)
// or full-parameter training of small models. cmd/train is its command.
//
// The stages, one per file:
//
//   - data.go: JSONL records (dataset.Record, as cmd/datagen writes them;
//     malformed lines reported with file and line, fatal or skipped),
//     tokenization (BOS + prompt with tokenizer.Default, the completion as a
//     tokenizer.Continuation, EOS; see package templates), truncation,
//     the loss mask (completion and EOS, or every token after BOS), padded
//     batches, and Hugging Face's length-grouped order. TokenizeMasked also
//     runs each completion through a schema's token table (mask.Table), for
//     a loss masked by it: per position, the row of the automaton state
//     the completion has reached (a completion the table refuses is an
//     error naming the record).
//   - trainer.go: the Trainer: the trainable tensors (LoRA factors
//     initialized as PEFT does, or every weight with Options.Full), their
//     AdamW moments and the dropout random state, on the device; the loss,
//     cross-entropy summed over the masked tokens and divided by the
//     step's token count (with Options.MaskTable the softmax of
//     completion positions covers only the tokens the schema allows there:
//     the table's rows are on the device as bits, model.MaskRowsEOS/
//     AllowedTokens, indexed per position); global-norm clipping, torch's
//     AdamW with decoupled weight decay, and Hugging Face's constant
//     schedule with linear warmup. Parameters, moments and the dropout
//     random state are donated to the program that replaces them. With
//     Options.OneProgram a micro-batch is one program: the logits of the
//     batch (model.BatchLogits, the model's own graph with the LoRA factors
//     as separate inputs and dropout on their input path) and GoMLX's
//     reverse autodiff (graph.Gradient) with respect to the trainable
//     tensors only — XLA then keeps every layer's activations (68.8 GiB of
//     scratch for Mistral-7B at batch 4 × 1024).
//   - layered.go: the default step, gradient checkpointing at layer
//     boundaries. A micro-batch runs as programs compiled once per shape:
//     the embedding; one layer forward program for every layer (the
//     layer's tensors are inputs; model.BatchLayer, the pieces BatchLogits
//     is made of), which keeps only the layers' inputs (bf16 when the base
//     computes in bf16, Options.SaveInputs); the head and loss, giving the
//     gradient of the hidden states; one layer backward program, run from
//     the last layer to the first, which recomputes the layer from its
//     input and differentiates Σ y·dy with respect to the input and the
//     layer's trainable tensors. Each layer draws its dropout masks from a
//     random state of its own, split from the trainer's once per
//     micro-batch, so its forward program and its recomputation draw the
//     same masks. Gradients accumulate on the device over the
//     micro-batches (each program adds to the sums so far); one program
//     computes their global norm, then one program per layer clips them
//     and applies AdamW to the layer's parameters (GoMLX does not alias
//     donated inputs to outputs, so an update of all parameters at once
//     would hold them twice). The device holds the resident tensors, the
//     saved layer inputs, the accumulated gradients and one program's
//     outputs and temporaries. Options.BF16MLP keeps the MLP's largest
//     activations in bf16 over a bf16 base (as transformers does), which
//     shrinks those temporaries; model.Weights.DoubleQuantize shrinks the
//     resident NF4 base.
//   - memory.go: the device-memory estimate of the programs run
//     (Trainer.MemStats): the resident tensors and the step's tensors
//     summed, plus each program's outputs and temporaries as XLA compiled
//     them (read from go-xla by reflection; GoMLX does not export them).
//   - save.go: PEFT adapters (adapter_config.json + adapter_model.safetensors
//     with peft's tensor names; transformers + peft load them unchanged, see
//     testdata/peft/check_peft.py), Hugging Face checkpoints (full training,
//     merged adapters), and checkpoints of the whole training state written
//     atomically.
//   - loop.go: the run: steps, evaluation loss, checkpoints, the JSON log,
//     progress, and the stop on a loss that is not finite.
//   - plot.go: the loss curve as a PNG.
//
// Importing runtime/model registers two gradients with GoMLX (see
// runtime/model/graph_export.go): Rsqrt's, which v0.26 lacks, and, for the
// products the training graph builds, a DotGeneral gradient made of two
// products (v0.26's materializes a broadcast product and sums it, in bf16
// for bf16 operands).
package train
