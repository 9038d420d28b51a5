"""A trained LoRA adapter against its base, as altlas measures one before it may be promoted
(AdapterEvaluated): the adapter written as GGUF for llama.cpp, both planning the same
requests of a labelled file through the segmentation service (the model alone, no rules
behind it, two readings), exact / asked / refused / wrong and the time per request.

`test` is the frozen file (never trained on: the training set leaves its requests out);
`dev` is what the adapter learned from, shown to see how much it memorised.

`--transformers N`: the other way to serve the adapter, measured on N requests of the first
file: transformers with peft on the dequantised model (no grammar: greedy decoding), against
llama.cpp with the GGUF adapter (the grammar, as the segmenter asks); seconds per request,
and how many of transformers' answers are the same plan as llama.cpp's.

    python bench/adapter_eval.py --base qwen2.5-coder-0.5b --adapter DIR [--files test]
                                 [--sample N] [--readings 2] [--transformers N]
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
from adapters.segmenter_model import ModelSegmenter, Prompt, plan_schema
from application.evaluation import PolicyCheck, sample, score
from application.privacy import Privacy
from application.segmentation import SegmentationService
from domain.grounding import read_request
from domain.policy import Policy
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
    parser.add_argument("--transformers", type=int, default=0, metavar="N")
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
    if args.transformers:
        file = args.files.split(",")[0]
        entries = json.loads((DATA / f"segmentation_{file}.json").read_text())["requests"]
        both_ways(base, args.adapter, gguf, policy,
                  [e["request"] for e in sample(entries, args.transformers, f"hf:{file}")])
    return 0


def both_ways(base: Path, adapter: Path, gguf: Path, policy: Policy, requests: list[str]
              ) -> None:
    """The adapter served by transformers+peft and by llama.cpp, on the same requests."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    prompt = Prompt(policy, FLAG)
    torch.set_num_threads(2)
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(base.parent), gguf_file=base.name)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(
        str(base.parent), gguf_file=base.name, dtype=torch.float32), str(adapter))
    model.eval()
    hf_load = time.perf_counter() - started
    llama = LocalModel("adapted", base, lora=gguf)
    llama.complete([{"role": "user", "content": "hi"}], max_tokens=1)
    seconds: dict[str, list[float]] = {"transformers": [], "llama.cpp": []}
    same = 0
    for text in requests:
        messages = prompt.of(text)
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                            return_tensors="pt", return_dict=True)
        started = time.perf_counter()
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=400, do_sample=False)
        seconds["transformers"].append(time.perf_counter() - started)
        hf = tokenizer.decode(out[0][ids["input_ids"].shape[1]:], skip_special_tokens=True)
        reading = read_request(text, prompt.inventory)
        started = time.perf_counter()
        cpp = llama.complete(messages, max_tokens=400, json_schema=plan_schema(
            policy, reading.hosts, reading.quoted))
        seconds["llama.cpp"].append(time.perf_counter() - started)
        same += _plan(hf) is not None and _plan(hf) == _plan(cpp)
    print(f"\nthe adapter served two ways, {len(requests)} request(s) (transformers loads in "
          f"{hf_load:.1f} s):")
    for way, taken in seconds.items():
        print(f"  {way:<13} {statistics.mean(taken):>7.2f} s a request")
    print(f"  transformers' answer is llama.cpp's plan: {same} of {len(requests)}")


def _plan(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


if __name__ == "__main__":
    sys.exit(main())
