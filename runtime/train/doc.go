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
//   - trainer.go: the Trainer. One optimizer step is one program (one more
//     per extra micro-batch with gradient accumulation): the logits of a
//     batch (model.BatchLogits, the model's own graph with the LoRA factors
//     as separate inputs and dropout on their input path), cross-entropy
//     summed over the masked tokens and divided by the step's token count
//     (with Options.MaskTable the softmax of completion positions covers
//     only the tokens the schema allows there: the table's rows are on the
//     device as bits, model.MaskRowsEOS/AllowedTokens, indexed per position),
//     gradients by GoMLX's reverse autodiff (graph.Gradient) with respect to
//     the trainable tensors only, global-norm clipping, torch's AdamW with
//     decoupled weight decay, and Hugging Face's constant schedule with
//     linear warmup. Parameters, moments and the dropout random state stay
//     on the device and are donated to the step that replaces them.
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
