#!/bin/bash
# Measurements of issues 5 and 6 on a GPU machine (the device tool), one
# section per argument. Build the binaries here first (x86-64, stripped so
# that they fit the 64 MiB the device tool carries):
#
#   go build -ldflags "-s -w" -o bin/extract ./cmd/extract
#   go build -ldflags "-s -w" -o bin/train ./cmd/train
#   go build -ldflags "-s -w" -o bin/stepbench ./bench/stepbench
#   go build -ldflags "-s -w" -o bin/gpubench ./bench/gpubench
#   go test -c -tags xla -ldflags "-s -w" -o bin/gpudecode.test ./runtime/gpudecode
#
# then run, carrying the files a section needs and this script (the tree
# plus all of them is over 64 MiB), e.g.
#
#   bash bench/h100.sh step-bf16 step-nf4-lora
#
# Times on one H100 (2026-11-25): a bf16 7B step program compiles in ~6 s,
# an NF4 one in ~2 min 15 s; each section below states its total. Sections:
#
#   step-bf16        stepbench, bf16: sync and pipelined steps      (~40 s)
#   step-nf4-lora    stepbench, NF4 + random LoRA r 64, sync         (~2.5 min)
#   step-nf4-dq      stepbench, NF4 double-quantized + LoRA r 64     (~2.5 min)
#   extract-bf16     cmd/extract -bench 3, bf16 (CUDA engine)        (~25 s)
#   extract-nf4-lora cmd/extract -bench 3, NF4 + random LoRA r 64     (~25 s)
#   extract-xla      the same two on XLA's step programs (-engine xla) (~10 min)
#   engine-test      runtime/gpudecode's tests on the GPU              (~25 s)
#   engine-nf4-lora  gpubench, NF4 + LoRA r 64, per-kernel profile     (~20 s)
#   engine-variants  gpubench, NF4 + LoRA r 64: defaults, -nf4-decode lut/lutw/mix, -fuse-norm, no adapter, NF4MinBlocks 4, LoRAThreads 256, Absmax16 (~3 min)
#   engine-repeat    gpubench twice with and twice without -early-lora: do the OUTPUT digests repeat? (~1.5 min)
#   engine-check-mma gpubench -check, bf16, -chunk-mma -early: a 300-token prompt on tensor cores vs XLA (~1 min)
#   train            cmd/train -bench 6, batch 4 and 2×2             (~3 min)
#   train-small      cmd/train -bench 6, batch 4, -double-quant -bf16-mlp (~1 min)
#   train-measured   cmd/train -bench 6, batch 4 (defaults), -measure-memory: the allocator's high-water mark (~1.5 min)
#   train-sampled    cmd/train -bench 3, batch 4, -sample-memory: memory in use sampled during the steps, no pool (~1 min)
#   train-capped     cmd/train -bench 5 in a capped pool: batch 2×2 in 10 GB, batch 4 in 12 GB (~2.5 min)
set -u
P=/opt/torch/.venv/lib/python3.12/site-packages/jax_plugins/xla_cuda13/xla_cuda_plugin.so
export GOPJRT_CUDA_CHECKS=0 GOMLX_NO_AUTO_INSTALL=1 GOMLX_BACKEND=xla:$P
quiet() { grep -v "^[IW]0000" | grep -v '^tokens' | grep -v '^\*\*\*\|slow_operation\|Very slow\|^$'; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
for section in "$@"; do
  echo "== $section"
  case $section in
  step-bf16) timeout -s KILL 120 ./bin/stepbench -quant bf16 -steps 64 -runs 2 -skipprefill 2>&1 | quiet ;;
  step-nf4-lora) timeout -s KILL 240 ./bin/stepbench -quant nf4 -adapter random:64 -steps 64 -runs 2 -skipprefill -pipe=false 2>&1 | quiet ;;
  step-nf4-dq) timeout -s KILL 240 ./bin/stepbench -quant nf4 -double-quant -adapter random:64 -steps 64 -runs 2 -skipprefill -pipe=false 2>&1 | quiet ;;
  extract-bf16) timeout -s KILL 200 ./bin/extract -model random:mistral-7b -quant bf16 -bench 3 -max 128 -bench-prompt 300 2>&1 | quiet ;;
  extract-nf4-lora) timeout -s KILL 200 ./bin/extract -model random:mistral-7b -quant nf4 -adapter random:64 -bench 3 -max 128 -bench-prompt 300 2>&1 | quiet ;;
  extract-xla)
    timeout -s KILL 200 ./bin/extract -engine xla -model random:mistral-7b -quant bf16 -bench 3 -max 128 -bench-prompt 300 2>&1 | quiet
    timeout -s KILL 580 ./bin/extract -engine xla -model random:mistral-7b -quant nf4 -adapter random:64 -bench 3 -max 128 -bench-prompt 300 2>&1 | quiet ;;
  engine-test) (cd runtime/gpudecode && SCHEMAC_TEST_BACKEND=xla:$P timeout -s KILL 120 ../../bin/gpudecode.test -test.v 2>&1 | quiet) ;;
  engine-nf4-lora) timeout -s KILL 120 ./bin/gpubench -model random:mistral-7b -quant nf4 -adapter random:64 -profile 2>&1 | quiet ;;
  engine-check-mma) timeout -s KILL 150 ./bin/gpubench -model random:mistral-7b -quant bf16 -check -chunk-mma -early 2>&1 | quiet | grep "CHECK\|RESULT" ;;
  engine-variants)
    for v in "" "-nf4-decode lut" "-nf4-decode lutw" "-nf4-decode mix" "-fuse-norm" "-adapter="; do
      echo "-- $v"; timeout -s KILL 120 ./bin/gpubench -model random:mistral-7b -quant nf4 -adapter random:64 $v 2>&1 | quiet | grep "RESULT\|OUTPUT"
    done
    for o in NF4MinBlocks=4 LoRAThreads=256 Absmax16=true; do
      echo "-- $o"; SCHEMAC_GPUDECODE=$o timeout -s KILL 120 ./bin/gpubench -model random:mistral-7b -quant nf4 -adapter random:64 2>&1 | quiet | grep "RESULT\|OUTPUT"
    done ;;
  engine-repeat)  # is the prompt's Σ|logit| the same run to run? (OUTPUT lines)
    for v in "" "" "-early-lora=false" "-early-lora=false"; do
      echo "-- $v"; timeout -s KILL 60 ./bin/gpubench -model random:mistral-7b -quant nf4 -adapter random:64 -steps 32 $v 2>&1 | quiet | grep OUTPUT
    done ;;
  train)
    for a in "-batch 4" "-batch 2 -accum 2"; do
      timeout -s KILL 200 ./bin/train -bench 6 -model random:mistral-7b -quant nf4 -max-len 1024 -r 64 $a 2>&1 | quiet | grep -v '^{'
    done ;;
  train-small) timeout -s KILL 200 ./bin/train -bench 6 -model random:mistral-7b -quant nf4 -max-len 1024 -r 64 -batch 4 -double-quant -bf16-mlp 2>&1 | quiet | grep -v '^{' ;;
  train-measured) timeout -s KILL 200 ./bin/train -bench 6 -model random:mistral-7b -quant nf4 -max-len 1024 -r 64 -batch 4 -measure-memory 2>&1 | quiet | grep -v '^{' ;;
  train-sampled) timeout -s KILL 300 ./bin/train -bench 3 -model random:mistral-7b -quant nf4 -max-len 1024 -r 64 -batch 4 -sample-memory 2>&1 | quiet | grep -v '^{' | tail -4 ;;
  train-capped)
    for a in "-batch 2 -accum 2 -memory-limit 10" "-batch 4 -memory-limit 12"; do
      timeout -s KILL 200 ./bin/train -bench 5 -model random:mistral-7b -quant nf4 -max-len 1024 -r 64 $a 2>&1 | quiet | grep -v '^{' | tail -4
    done ;;
  *) echo "unknown section $section" ;;
  esac
done
