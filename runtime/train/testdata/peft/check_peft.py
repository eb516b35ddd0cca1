#!/usr/bin/env python3
"""Loads schemac's saved LoRA adapter (this directory) into transformers +
peft, unchanged, over testdata/fixtures/tiny-mistral in float32, and checks
that the logits of the probe sequence match what schemac's runtime computes
(expected.safetensors, written by `go test ./runtime/train -run PEFTFixture
-update`; the Go test re-checks our side in CI).

Run (transformers 5.17 and peft, CPU is enough):
    python3 runtime/train/testdata/peft/check_peft.py [BASE_DIR]
BASE_DIR defaults to the repository's testdata/fixtures/tiny-mistral.
Exit status 0 when the last-position logits and every position's logsumexp
agree within 1e-4.
"""
import os
import sys

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", "..", ".."))
base_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "testdata", "fixtures", "tiny-mistral")

expected = load_file(os.path.join(here, "expected.safetensors"))
base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
model = PeftModel.from_pretrained(base, here)
model.eval()
with torch.no_grad():
    ids = expected["probe"].to(torch.long).unsqueeze(0)
    logits = model(input_ids=ids).logits[0].float()
last = (logits[-1] - expected["logits_last"]).abs().max().item()
lse = (torch.logsumexp(logits, -1) - expected["logsumexp"]).abs().max().item()
# The adapter must matter: compare with the base alone.
with torch.no_grad(), model.disable_adapter():
    plain = model(input_ids=ids).logits[0].float()
effect = (plain[-1] - logits[-1]).abs().max().item()
print(f"peft {__import__('peft').__version__}, transformers {__import__('transformers').__version__}: "
      f"{ids.shape[1]} tokens, max |last-logit diff| {last:.3g}, max |logsumexp diff| {lse:.3g}, adapter effect {effect:.3g}")
ok = last <= 1e-4 and lse <= 1e-4 and effect > 100 * max(last, 1e-7)
print("OK" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
