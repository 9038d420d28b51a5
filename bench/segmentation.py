"""Segmentation quality on the two labelled files: `dev` (tests/data/segmentation_dev.json,
what rules and prompts are tuned on) and `test` (tests/data/segmentation_test.json, frozen
before any tuning, only measured). Each request goes through altlas's segmentation service —
the segmenters in order, the policy and the grounding check — as a task would, and ends as:

  exact    a plan that matches the labelled one (same steps, kinds, targets, dependencies,
           conditions, risk and equivalent actions)
  asked    no plan; altlas asks back (which host, or what a clause means)
  refused  no plan and nothing to ask (not operations work, or the policy forbids it)
  wrong    a plan, but not the one asked for (or a plan where the label says ask or refuse)

"ok" is exact plans plus the asks and refusals the label expects. Configurations: `rules`
alone, each model alone (its plan, else nothing), and `auto` (the rules first, then the best
installed model: what altlas runs by default).

A model may be given worked examples, as altlas gives them: the two plans of the `dev` file
whose requests are nearest the request (never the request itself), by word overlap (how the
segmenter chose them before) or by all-MiniLM-L6-v2 (the similar-run search, cosine, at least
its minimum score); `--examples none,overlap,minilm` measures each.

    python bench/segmentation.py [--models rules,qwen2.5-coder-0.5b] [--files dev,test]
                                 [--show-misses] [--sample N] [--examples none,minilm]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from plan_match import mismatch
from similar import jaccard
from sqlalchemy import create_engine

from adapters.embeddings import MiniLMEmbedder
from adapters.llm_local import LocalModel
from adapters.packaged import ModelUnavailableError
from adapters.person_keys import SqlPersonKeys, metadata
from adapters.policy_file import load_policy
from adapters.segmenter_model import ModelSegmenter
from adapters.segmenter_rules import RuleSegmenter
from application.ports import SegmentationRequest, Segmenter
from application.privacy import Privacy
from application.segmentation import Examples, PlanOutcome, SegmentationService
from application.similar import MIN_SCORE
from domain.plan import Plan
from domain.policy import Policy

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
FLAG = "/var/lib/altlas/maintenance.flag"
OUTCOMES = ("exact", "asked", "refused", "wrong")


def expected_steps(entry: dict[str, Any]) -> list[dict[str, Any]]:
    text = json.dumps(entry["steps"]).replace("{flag}", FLAG)
    steps: list[dict[str, Any]] = json.loads(text)
    return steps


History = list[tuple[str, dict[str, Any]]]


def dev_plans() -> History:
    """(request, plan) of every `dev` request labelled with a plan: the runs examples come
    from (the frozen `test` file never is)."""
    entries = json.loads((DATA / "segmentation_dev.json").read_text())["requests"]
    return [(e["request"], {"alt": 1, "steps": expected_steps(e)}) for e in entries
            if e.get("expect", "plan") == "plan"]


def by_overlap(history: History) -> Examples:
    def examples(text: str, k: int) -> tuple[tuple[str, dict[str, Any]], ...]:
        ranked = sorted(((jaccard(text, r), i) for i, (r, _) in enumerate(history)
                         if r != text), key=lambda t: (-t[0], t[1]))
        return tuple(history[i] for score, i in ranked[:k] if score > 0)
    return examples


def by_meaning(history: History) -> Examples:
    embedder = MiniLMEmbedder(Path(tempfile.gettempdir()) / "altlas-models")
    matrix = embedder.embed([r for r, _ in history])

    def examples(text: str, k: int) -> tuple[tuple[str, dict[str, Any]], ...]:
        scores = matrix @ embedder.embed([text])[0]
        ranked = [int(i) for i in scores.argsort()[::-1]
                  if history[int(i)][0] != text and scores[int(i)] >= MIN_SCORE]
        return tuple(history[i] for i in ranked[:k])
    return examples


class PolicyCheck:
    """What the application checks before recording a plan: the plan's form and the policy."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        engine = create_engine("sqlite://")
        metadata.create_all(engine)
        self.privacy = Privacy(SqlPersonKeys(engine))  # the requests here are in clear

    def check_plan(self, document: Any, mode: str = "normal", requester: str | None = None
                   ) -> object:
        return [self.policy.classify(step) for step in Plan.from_document(document).steps]


class Remembered:
    """A model's answers kept per request, so `auto` and the model alone ask it once."""

    def __init__(self, segmenter: Segmenter) -> None:
        self._segmenter = segmenter
        self.name = segmenter.name
        self.deterministic = False
        self._answers: dict[tuple[str, float],
                            tuple[dict[str, Any] | None, Exception | None]] = {}

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        key = (request.text, request.temperature)
        if key not in self._answers:
            try:
                self._answers[key] = (self._segmenter.segment(request), None)
            except Exception as e:
                self._answers[key] = (None, e)
        plan, error = self._answers[key]
        if error is not None:
            raise error
        assert plan is not None
        return plan


@dataclass
class Score:
    outcomes: Counter[str]
    ok: int
    seconds: list[float]
    misses: list[str]


def judge(entry: dict[str, Any], outcome: PlanOutcome, policy: Policy) -> tuple[str, bool, str]:
    """(outcome, whether the label agrees, why not)."""
    expect = entry.get("expect", "plan")
    if outcome.plan is not None:
        if expect != "plan":
            return "wrong", False, f"planned, but the label says {expect}"
        problem = mismatch(expected_steps(entry), outcome.plan["steps"], policy)
        return ("exact", True, "") if problem is None else ("wrong", False, problem)
    said = "asked" if outcome.question is not None else "refused"
    wanted = {"ask": "asked", "refuse": "refused"}.get(expect)
    why = outcome.question.text if outcome.question else outcome.problem
    return said, said == wanted, f"{said} (label: {expect}): {why[:160]}"


def score(service: SegmentationService, entries: list[dict[str, Any]], policy: Policy,
          first_call_extra: float = 0.0) -> Score:
    outcomes: Counter[str] = Counter()
    ok = 0
    seconds: list[float] = []
    misses: list[str] = []
    for i, entry in enumerate(entries):
        task = SimpleNamespace(id=i, request=entry["request"], mode="normal",
                               persona="technical_expert", environment="prod",
                               chaos_level=None, requester="deniz", answers=[],
                               picked_hosts=[])
        started = time.perf_counter()
        outcome = service.plan(task)  # type: ignore[arg-type]
        seconds.append(time.perf_counter() - started)
        said, agrees, why = judge(entry, outcome, policy)
        outcomes[said] += 1
        ok += agrees
        if not agrees:
            misses.append(f"{entry['request']} | {why}")
    return Score(outcomes, ok, seconds, misses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="rules,qwen2.5-coder-0.5b")
    parser.add_argument("--files", default="dev,test")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--readings", type=int, default=2, choices=(1, 2),
                        help="2 (altlas's default): a model reads each request twice and asks "
                             "when the readings differ; 1: the first is taken")
    parser.add_argument("--examples", default="none",
                        help="worked examples for the models, from the dev file's plans: "
                             "none, overlap and/or minilm, e.g. none,overlap,minilm")
    parser.add_argument("--sample", type=int, default=0,
                        help="measure a seeded random sample of N requests of each file "
                             "(a model takes seconds a request)")
    args = parser.parse_args()
    # The service logs why each fallback happened, quoting the request: on the frozen file
    # that would show its misses, which must not be read (only --show-misses shows them).
    logging.getLogger("altlas.segmentation").setLevel(logging.ERROR)
    policy = load_policy(None)
    check = PolicyCheck(policy)
    rules = RuleSegmenter(policy, FLAG)
    history = dev_plans()
    retrievers = {"overlap": lambda: by_overlap(history), "minilm": lambda: by_meaning(history)}
    configs: list[tuple[str, SegmentationService]] = []
    best_model: Remembered | None = None
    for name in args.models.split(","):
        if name == "rules":
            configs.append(("rules", SegmentationService(check, rules, None)))
            continue
        try:
            model = LocalModel.named(name, Path(tempfile.gettempdir()) / "altlas-models")
        except ModelUnavailableError as e:
            print(f"{name}: skipped: {e}", file=sys.stderr)
            continue
        started = time.perf_counter()
        model.complete([{"role": "user", "content": "hi"}], max_tokens=1)  # load it first
        print(f"{name}: loaded in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        remembered = Remembered(ModelSegmenter(model, policy, FLAG))
        for kind in args.examples.split(","):
            if kind == "none":
                configs.append((name, SegmentationService(check, remembered, None,
                                                          readings=args.readings)))
                continue
            helper = Remembered(ModelSegmenter(model, policy, FLAG))  # its own answers
            configs.append((f"{name}+{kind}", SegmentationService(
                check, helper, None, similar=retrievers[kind](), readings=args.readings)))
        best_model = remembered  # the last named is the best installed
    configs.append(("auto", SegmentationService(check, rules, best_model,
                                                readings=args.readings)))
    print(f"{'file':<5} {'segmenter':<28} {'n':>4} {'exact':>6} {'asked':>6} {'refused':>8} "
          f"{'wrong':>6} {'ok':>6} {'ok %':>6} {'mean s':>7} {'p95 s':>7}")
    for file in args.files.split(","):
        entries = json.loads((DATA / f"segmentation_{file}.json").read_text())["requests"]
        if 0 < args.sample < len(entries):
            entries = random.Random(f"{file}:{args.sample}").sample(entries, args.sample)
            file = f"{file}*"  # a sample, marked in the table
        for name, service in configs:
            result = score(service, entries, policy)
            n = len(entries)
            p95 = sorted(result.seconds)[int(0.95 * (n - 1))]
            c = result.outcomes
            print(f"{file:<5} {name:<28} {n:>4} {c['exact']:>6} {c['asked']:>6} "
                  f"{c['refused']:>8} {c['wrong']:>6} {result.ok:>6} {result.ok / n:>6.0%} "
                  f"{statistics.mean(result.seconds):>7.3f} {p95:>7.3f}", flush=True)
            if args.show_misses:
                for miss in result.misses:
                    print(f"    {name} | {miss}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
