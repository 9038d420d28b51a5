"""A trained LoRA adapter against its base, as altlas measures one before it may be promoted
(AdapterEvaluated): the adapter written as GGUF for llama.cpp, both planning the same
requests of a labelled file through the segmentation service (the model alone, no rules
behind it, two readings), exact / asked / refused / wrong and the time per request.

`test` is the frozen file (never trained on: the training set leaves its requests out);
`dev` is what the adapter learned from, shown to see how much it memorised.

    python bench/adapter_eval.py --base qwen2.5-coder-0.5b --adapter DIR [--files test]
                                 [--sample N] [--readings 2]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from adapters.llm_local import LocalModel, resolve
from adapters.lora_gguf import for_base
from adapters.person_keys import SqlPersonKeys, metadata
from adapters.policy_file import load_policy
from adapters.segmenter_model import ModelSegmenter
from application.evaluation import PolicyCheck, sample, score
from application.privacy import Privacy
from application.segmentation import SegmentationService
from domain.training import worse

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
FLAG = "/var/lib/altlas/maintenance.flag"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="qwen2.5-coder-0.5b")
    parser.add_argument("--adapter", required=True, type=Path, help="peft's adapter folder")
    parser.add_argument("--files", default="test")
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--readings", type=int, default=2, choices=(1, 2))
    args = parser.parse_args()
    logging.getLogger("altlas.segmentation").setLevel(logging.ERROR)
    cache = Path(tempfile.gettempdir()) / "altlas-test-models"
    base = resolve(args.base, cache)[1]
    started = time.perf_counter()
    gguf = for_base(args.adapter, args.adapter / "adapter.gguf", base)
    print(f"adapter as GGUF: {gguf} ({gguf.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    policy = load_policy(None)
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    check = PolicyCheck(policy, Privacy(SqlPersonKeys(engine)))
    sides = {}
    for name, lora in ((args.base, None), (f"{args.base}+lora", gguf)):
        model = LocalModel(name, base, lora=lora)
        started = time.perf_counter()
        model.complete([{"role": "user", "content": "hi"}], max_tokens=1)  # load it first
        print(f"{name}: loaded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        sides[name] = SegmentationService(check, ModelSegmenter(model, policy, FLAG), None,
                                          readings=args.readings)
    print(f"{'file':<5} {'planner':<26} {'n':>4} {'exact':>6} {'asked':>6} {'refused':>8} "
          f"{'wrong':>6} {'ok':>5} {'ok %':>6} {'mean s':>7}")
    for file in args.files.split(","):
        entries = json.loads((DATA / f"segmentation_{file}.json").read_text())["requests"]
        shown = f"{file}*" if 0 < args.sample < len(entries) else file
        entries = sample(entries, args.sample, f"{file}:{args.sample}")
        summaries = []
        for name, service in sides.items():
            result = score(service.plan, entries, policy, FLAG)
            c = result.outcomes
            n = len(entries)
            summaries.append(result.summary())
            print(f"{shown:<5} {name:<26} {n:>4} {c['exact']:>6} {c['asked']:>6} "
                  f"{c['refused']:>8} {c['wrong']:>6} {result.ok:>5} {result.ok / n:>6.0%} "
                  f"{statistics.mean(result.seconds):>7.3f}", flush=True)
        why = worse(*summaries)
        print(f"      promotable: {'yes' if why is None else 'no: ' + why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
