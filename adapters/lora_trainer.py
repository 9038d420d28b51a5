"""LoRA on the CPU with peft: the base model loaded by transformers from its GGUF file (the
gguf package dequantises it), each example formatted as the local segmenter prompts a model
(its system prompt, the request, the plan as the JSON it answers with), the loss taken on the
answer only. The adapter is written whole into a folder of its own, then renamed into place:
a process killed mid-way leaves no adapter behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.packaged import file_sha256
from adapters.segmenter_model import in_order

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]  # attention projections: llama, qwen2
WEIGHTS = "adapter_model.safetensors"

Asking = Callable[[str], Sequence[Mapping[str, str]]]  # a request → the messages it is asked with
# (step, steps, loss, tokens per second, seconds left)
Progress = Callable[[int, int, float, float, float], None]


@dataclass(frozen=True)
class Trained:
    path: Path
    sha256: str
    steps: int
    duration_ms: int
    loss_curve: list[float]
    tokens: int
    peak_rss_mb: float


def train(base: Path, examples: Sequence[dict[str, Any]], prompt: Asking, out: Path, *,
          rank: int, alpha: int, dropout: float, lr: float, epochs: int, max_steps: int,
          progress: Progress, threads: int = 2, seed: int = 0) -> Trained:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    loading = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(str(base.parent), gguf_file=base.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(base.parent), gguf_file=base.name,
                                                  dtype=torch.float32)
    model = get_peft_model(loaded, LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout,
                                             target_modules=TARGETS, task_type="CAUSAL_LM"))
    batches = [_tokens(tokenizer, prompt, e) for e in examples]
    steps = len(batches) * epochs if max_steps <= 0 else max_steps
    shuffle = random.Random(seed)  # each epoch in its own order: the dev file comes grouped
    order = [i for _ in range(-(-steps // len(batches)))
             for i in shuffle.sample(range(len(batches)), len(batches))]
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    started = time.monotonic()  # the rate and the time left count the steps, not the load
    curve: list[float] = []
    seen = 0
    for step in range(1, steps + 1):
        ids, labels = batches[order[step - 1]]
        loss = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        curve.append(float(loss.detach()))
        seen += len(ids)
        elapsed = time.monotonic() - started
        progress(step, steps, curve[-1], seen / max(elapsed, 1e-9),
                 elapsed / step * (steps - step))
    partial = out.with_name(f"{out.name}.partial-{os.getpid()}")
    model.save_pretrained(str(partial))
    (partial / "altlas.json").write_text(json.dumps(
        {"base": base.name, "steps": steps, "loss_curve": curve}))
    digest = file_sha256(partial / WEIGHTS)
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)  # whole, or not at all
    return Trained(out, digest, steps, int((time.monotonic() - loading) * 1000), curve, seen,
                   _peak_rss_mb())


def _tokens(tokenizer: Any, prompt: Asking, example: dict[str, Any]
            ) -> tuple[list[int], list[int]]:
    """The chat as the segmenter sends it; the labels mask everything but the answer."""
    asked = [dict(m) for m in prompt(example["request"])]
    answer = json.dumps(in_order(example["plan"]))
    question = tokenizer.apply_chat_template(asked, tokenize=True, add_generation_prompt=True,
                                             return_dict=False)
    whole = tokenizer.apply_chat_template(
        [*asked, {"role": "assistant", "content": answer}], tokenize=True, return_dict=False)
    return list(whole), [-100] * len(question) + list(whole[len(question):])


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
