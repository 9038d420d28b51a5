"""LoRA training on this machine's CPU: the training set altlas builds (the dev file here;
runs and arena winners join it on a real installation), the packaged models loaded by
transformers from their GGUF files, peft with the default hyperparameters (rank 8, alpha 32,
dropout 0.05, lr 2e-4).

For each model: the load (dequantising the GGUF), then ``--steps`` training steps of one
example each; steps/s, tokens/s, peak memory, and one epoch's wall time from that rate. The
baseline in the same run: the same steps' forward passes alone, without backward and the
optimiser (what the model costs before training costs anything).

    python bench/training.py [--steps 20] [--models smollm2,qwen2.5-coder-0.5b]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from adapters.llm_local import resolve
from adapters.lora_trainer import Asking, train
from adapters.policy_file import load_policy
from adapters.segmenter_model import Prompt, in_order
from application import training_data
from domain.secrets import Redactor

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def forward_only(path: Path, examples: list[dict], prompt: Asking, steps: int) -> float:
    """Seconds for ``steps`` forward passes of the same examples, no gradient."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                 dtype=torch.float32)
    model.eval()
    started = time.monotonic()
    with torch.no_grad():
        for step in range(steps):
            e = examples[step % len(examples)]
            chat = [*prompt(e["request"]),
                    {"role": "assistant", "content": json.dumps(in_order(e["plan"]))}]
            ids = tokenizer.apply_chat_template(chat, tokenize=True, return_dict=False)
            model(input_ids=torch.tensor([list(ids)]))
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--models", default="smollm2,qwen2.5-coder-0.5b")
    args = parser.parse_args()
    dev = json.loads((DATA / "segmentation_dev.json").read_text())
    test = json.loads((DATA / "segmentation_test.json").read_text())
    dataset = training_data.build([], [], training_data.labelled(dev),
                                  [r["request"] for r in test["requests"]], Redactor())
    examples = [e.to_dict() for e in dataset.examples]
    prompt = Prompt(load_policy(None), "/srv/altlas/maintenance.flag").of
    cache = Path(tempfile.gettempdir()) / "altlas-test-models"
    rows = []
    for name in args.models.split(","):
        path = resolve(name, cache)[1]
        with tempfile.TemporaryDirectory() as tmp:
            seen: list[tuple[int, float]] = []
            started = time.monotonic()
            done = train(path, examples, prompt, Path(tmp) / "adapter", rank=8, alpha=32,
                         dropout=0.05, lr=2e-4, epochs=1, max_steps=args.steps,
                         progress=lambda step, steps, loss, rate, eta, seen=seen: seen.append(
                             (step, rate)))
            wall = time.monotonic() - started
        stepping = done.tokens / seen[-1][1]  # the rate counts the steps, not the load
        forward = forward_only(path, examples, prompt, args.steps)
        rows.append((name, wall - stepping, args.steps / stepping, seen[-1][1],
                     args.steps / forward, stepping / args.steps * len(examples) / 60,
                     done.peak_rss_mb, done.loss_curve[0], done.loss_curve[-1]))
    print(f"training set: {len(examples)} examples (dev file; {dataset.left_out} left out)")
    print(f"{'model':<20} {'load s':>7} {'steps/s':>8} {'tokens/s':>9} {'fwd steps/s':>12} "
          f"{'epoch min':>10} {'peak MB':>8} {'loss':>14}")
    for name, load, sps, tps, fps, epoch, peak, first, last in rows:
        print(f"{name:<20} {load:>7.1f} {sps:>8.3f} {tps:>9.0f} {fps:>12.3f} {epoch:>10.1f} "
              f"{peak:>8.0f} {first:>6.3f}→{last:<6.3f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
