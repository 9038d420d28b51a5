"""Segmentation quality: the share of the labelled requests (tests/data/segmentation_set.json)
whose plan matches the expected one — same steps, kinds, targets, dependencies, conditions and
risk — for the rule-based segmenter and each local model installed, with the time per request.
"valid" counts the model's plans the policy accepts; "model first" is what altlas records with
ALTLAS_SEGMENTER=local (a plan the policy refuses is replaced by the rules' plan, after one retry
that at temperature 0 gives the same answer and is not repeated here); "rules first" is the auto
default with a capable model installed (the model answers only what the rules do not understand).

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

from adapters.llm_local import LocalModel, ModelUnavailableError
from adapters.policy_file import load_policy
from adapters.segmenter_model import ModelSegmenter
from adapters.segmenter_rules import RuleSegmenter
from application.errors import SegmentationError
from application.ports import SegmentationRequest
from domain.errors import DomainError
from domain.plan import Plan
from domain.policy import Policy

SET = Path(__file__).resolve().parents[1] / "tests" / "data" / "segmentation_set.json"
FLAG = "/var/lib/altlas/maintenance.flag"


def expected_steps(entry: dict[str, Any]) -> list[dict[str, Any]]:
    text = json.dumps(entry["steps"]).replace("{flag}", FLAG)
    steps: list[dict[str, Any]] = json.loads(text)
    return steps


def accepted(plan: dict[str, Any], policy: Policy) -> bool:
    try:
        for step in Plan.from_document(plan).steps:
            policy.classify(step)
    except DomainError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="rules,smollm2,qwen2.5-coder-0.5b")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    policy = load_policy(None)
    entries = json.loads(SET.read_text())["requests"]
    rules = RuleSegmenter(policy, FLAG)
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
            model.complete([{"role": "user", "content": "hi"}], max_tokens=1)  # load it first
            print(f"{name}: loaded in {time.perf_counter() - started:.1f}s", file=sys.stderr)
            segmenter = ModelSegmenter(model, policy, FLAG)
        matched = {"en": 0, "tr": 0}
        total = {"en": 0, "tr": 0}
        valid = with_fallback = rules_first = 0
        seconds = []
        for entry in entries:
            total[entry["lang"]] += 1
            expected = expected_steps(entry)
            request = SegmentationRequest(entry["request"])
            started = time.perf_counter()
            try:
                plan: dict[str, Any] | None = segmenter.segment(request)
            except SegmentationError as e:
                plan, problem = None, f"no plan: {e}"
            seconds.append(time.perf_counter() - started)
            if plan is not None and accepted(plan, policy):
                valid += 1
                problem = mismatch(expected, plan["steps"], policy)
            elif plan is not None:
                problem = "a plan the policy refuses"
            recorded = problem
            if plan is None or not accepted(plan, policy):
                try:
                    recorded = mismatch(expected, rules.segment(request)["steps"], policy)
                except SegmentationError:
                    recorded = "rejected"
            with_fallback += recorded is None
            try:
                by_rules = mismatch(expected, rules.segment(request)["steps"], policy)
                rules_first += by_rules is None
            except SegmentationError:
                rules_first += problem is None
            if problem is None:
                matched[entry["lang"]] += 1
            elif args.show_misses:
                print(f"  {name} | {entry['request']} | {problem}", file=sys.stderr)
        rows.append((name, matched, total, seconds, valid, with_fallback, rules_first))
    print(f"segmentation quality: {len(entries)} labelled requests "
          f"({sum(1 for e in entries if e['lang'] == 'tr')} Turkish)")
    print(f"{'segmenter':<20} {'matched':>8} {'share':>6} {'EN':>7} {'TR':>7} {'valid':>6} "
          f"{'model first':>12} {'rules first':>12} {'mean s':>7} {'p50 s':>7} {'max s':>7}")
    for name, matched, total, seconds, valid, with_fallback, rules_first in rows:
        n, of = sum(matched.values()), sum(total.values())
        print(f"{name:<20} {n:>4}/{of:<3} {n / of:>6.0%} "
              f"{matched['en']:>3}/{total['en']:<3} {matched['tr']:>3}/{total['tr']:<3} "
              f"{valid / of:>6.0%} {with_fallback / of:>12.0%} {rules_first / of:>12.0%} "
              f"{statistics.mean(seconds):>7.3f} {statistics.median(seconds):>7.3f} "
              f"{max(seconds):>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
