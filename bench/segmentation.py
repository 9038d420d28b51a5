"""Segmentation quality on the two labelled files: `dev` (tests/data/segmentation_dev.json,
what rules and prompts are tuned on) and `test` (tests/data/segmentation_test.json, frozen
before any tuning, only measured). Each request goes through altlas's segmentation service —
the segmenters in order, the policy and the grounding check — as a task would, and ends as
exact, asked, refused or wrong (application/evaluation.py says how each is judged); "ok" is
exact plans plus the asks and refusals the label expects. Configurations: `rules`
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
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from similar import jaccard
from sqlalchemy import create_engine

from adapters.embeddings import MiniLMEmbedder
from adapters.llm_local import LocalModel
from adapters.packaged import ModelUnavailableError
from adapters.person_keys import SqlPersonKeys, metadata
from adapters.policy_file import load_policy
from adapters.segmenter_model import ModelSegmenter
from adapters.segmenter_rules import RuleSegmenter
from application.evaluation import PolicyCheck, expected_steps, sample, score
from application.ports import SegmentationRequest, Segmenter
from application.privacy import Privacy
from application.segmentation import Examples, SegmentationService
from application.similar import MIN_SCORE

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
FLAG = "/var/lib/altlas/maintenance.flag"
History = list[tuple[str, dict[str, Any]]]


def dev_plans() -> History:
    """(request, plan) of every `dev` request labelled with a plan: the runs examples come
    from (the frozen `test` file never is)."""
    entries = json.loads((DATA / "segmentation_dev.json").read_text())["requests"]
    return [(e["request"], {"alt": 1, "steps": expected_steps(e, FLAG)}) for e in entries
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
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    check = PolicyCheck(policy, Privacy(SqlPersonKeys(engine)))  # the requests are in clear
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
            entries = sample(entries, args.sample, f"{file}:{args.sample}")
            file = f"{file}*"  # a sample, marked in the table
        for name, service in configs:
            result = score(service.plan, entries, policy, FLAG)
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
