"""Segmentation quality: the share of the labelled requests (tests/data/segmentation_set.json)
whose plan matches the expected one — same steps, kinds, targets, dependencies, conditions and
risk — for the rule-based segmenter and each local model installed, with the time per request.

    python bench/segmentation.py [--models rules,smollm2,qwen2.5-coder-0.5b] [--show-misses]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from plan_match import mismatch

from altlas.adapters.llm_local import LocalModel, ModelUnavailableError
from altlas.adapters.policy_file import load_policy
from altlas.adapters.segmenter_model import ModelSegmenter
from altlas.adapters.segmenter_rules import RuleSegmenter
from altlas.application.errors import SegmentationError
from altlas.application.ports import SegmentationRequest

SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "segmentation_set.json"
FLAG = "/var/lib/altlas/maintenance.flag"


def expected_steps(entry: dict[str, Any]) -> list[dict[str, Any]]:
    text = json.dumps(entry["steps"]).replace("{flag}", FLAG)
    steps: list[dict[str, Any]] = json.loads(text)
    return steps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="rules,smollm2,qwen2.5-coder-0.5b")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    policy = load_policy(None)
    entries = json.loads(SET.read_text())["requests"]
    rows = []
    for name in args.models.split(","):
        if name == "rules":
            segmenter: Any = RuleSegmenter(policy, FLAG)
        else:
            try:
                model = LocalModel.named(name, Path(tempfile.gettempdir()) / "altlas-models")
            except ModelUnavailableError as e:
                print(f"{name}: skipped: {e}", file=sys.stderr)
                continue
            started = time.perf_counter()
            model.complete("Say hi.", "hi", max_tokens=1)  # load it outside the timings
            print(f"{name}: loaded in {time.perf_counter() - started:.1f}s", file=sys.stderr)
            segmenter = ModelSegmenter(model, policy)
        matched = {"en": 0, "tr": 0}
        total = {"en": 0, "tr": 0}
        seconds = []
        for entry in entries:
            total[entry["lang"]] += 1
            started = time.perf_counter()
            try:
                plan = segmenter.segment(SegmentationRequest(entry["request"]))
                problem = mismatch(expected_steps(entry), plan["steps"], policy)
            except (SegmentationError, ValueError) as e:
                problem = f"no plan: {e}"
            seconds.append(time.perf_counter() - started)
            if problem is None:
                matched[entry["lang"]] += 1
            elif args.show_misses:
                print(f"  {name} | {entry['request']} | {problem}", file=sys.stderr)
        rows.append((name, matched, total, seconds))
    print(f"segmentation quality: {len(entries)} labelled requests "
          f"({sum(1 for e in entries if e['lang'] == 'tr')} Turkish)")
    print(f"{'segmenter':<22} {'matched':>8} {'share':>6} {'EN':>7} {'TR':>7} "
          f"{'mean s':>7} {'p50 s':>7} {'max s':>7}")
    for name, matched, total, seconds in rows:
        n = sum(matched.values())
        print(f"{name:<22} {n:>4}/{sum(total.values()):<3} {n / sum(total.values()):>6.0%} "
              f"{matched['en']:>3}/{total['en']:<3} {matched['tr']:>3}/{total['tr']:<3} "
              f"{statistics.mean(seconds):>7.3f} {statistics.median(seconds):>7.3f} "
              f"{max(seconds):>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
