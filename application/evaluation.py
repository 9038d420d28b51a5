"""How well a planner plans the requests of a labelled file, as altlas would plan them (the
segmentation service: the segmenter, the policy, the grounding check). Each request ends as

  exact    a plan that matches the labelled one (same steps in the same order, kinds,
           targets, dependencies, conditions and risk, and equivalent actions)
  asked    no plan; altlas asks back (which host, or what a clause means)
  refused  no plan and nothing to ask (not operations work, or the policy forbids it)
  wrong    a plan, but not the one asked for (or a plan where the label says ask or refuse)

"ok" counts the exact plans and the asks and refusals the label expects. The labelled files
name the default policy's hosts; the maintenance flag in their plans is ``{flag}``.
"""

from __future__ import annotations

import json
import random
import re
import shlex
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Protocol

from domain.plan import Plan
from domain.policy import Policy
from domain.training import OUTCOMES


def _command(action: str) -> tuple[str, frozenset[str]]:
    """A command's program and its non-flag words: flags and their order do not matter."""
    try:
        words = shlex.split(action)
    except ValueError:
        words = action.split()
    if not words:
        return "", frozenset()
    return words[0], frozenset(w for w in words[1:] if not w.startswith("-"))


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _when(text: str | None) -> str | None:
    if not text:
        return None
    return re.sub(r"(\d+)\.0\b", r"\1", _normal(text))


def same_action(kind: str, expected: str, actual: str) -> bool:
    if kind == "llm":
        return True  # free text: any instruction to summarise counts
    if kind in ("promql", "http"):
        return _normal(expected) == _normal(actual)
    return _command(expected) == _command(actual)


def mismatch(expected: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]],
             policy: Policy) -> str | None:
    """None when the plans match, else the first difference, in words."""
    if len(expected) != len(actual):
        return f"{len(actual)} steps instead of {len(expected)}"
    e_index = {s["id"]: i for i, s in enumerate(expected)}
    a_index = {s["id"]: i for i, s in enumerate(actual)}
    e_plan = Plan.from_document({"alt": 1, "steps": list(expected)})
    a_plan = Plan.from_document({"alt": 1, "steps": list(actual)})
    for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
        where = f"step {i + 1}"
        if e["kind"] != a["kind"]:
            return f"{where}: kind {a['kind']} instead of {e['kind']}"
        if e.get("target") != a.get("target"):
            return f"{where}: target {a.get('target')} instead of {e.get('target')}"
        if not same_action(e["kind"], e["action"], a["action"]):
            return f"{where}: {a['action']!r} instead of {e['action']!r}"
        if {e_index[n] for n in e.get("needs", [])} != {a_index.get(n, -1)
                                                        for n in a.get("needs", [])}:
            return f"{where}: needs {a.get('needs')} instead of {e.get('needs')}"
        e_when = _when(e.get("when"))
        a_when = _when(a.get("when"))
        if e_when is not None and a_when is not None:
            e_when = re.sub(r"\bs\d+\b", "S", e_when)
            a_when = re.sub(r"\bs\d+\b", "S", a_when)
        if e_when != a_when:
            return f"{where}: when {a.get('when')!r} instead of {e.get('when')!r}"
        e_risk = policy.classify(e_plan.steps[i]).risk
        a_risk = policy.classify(a_plan.steps[i]).risk
        if e_risk != a_risk:
            return f"{where}: risk {a_risk} instead of {e_risk}"
    return None


class PolicyCheck:
    """What the application checks before recording a plan, with the policy the labelled
    files are written for: the plan's form and each step's risk."""

    def __init__(self, policy: Policy, privacy: Any) -> None:
        self.policy = policy
        self.privacy = privacy

    def check_plan(self, document: Any, mode: str = "normal", requester: str | None = None
                   ) -> object:
        return [self.policy.classify(step) for step in Plan.from_document(document).steps]


def expected_steps(entry: Mapping[str, Any], flag: str) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = json.loads(json.dumps(entry["steps"]).replace("{flag}", flag))
    return steps


class Outcome(Protocol):
    """What planning a request ended in (application.segmentation.PlanOutcome)."""

    @property
    def plan(self) -> dict[str, Any] | None: ...

    @property
    def question(self) -> Any: ...

    @property
    def problem(self) -> str | None: ...


def judge(entry: Mapping[str, Any], outcome: Outcome, policy: Policy, flag: str
          ) -> tuple[str, bool, str]:
    """(outcome, whether the label agrees, why not)."""
    expect = entry.get("expect", "plan")
    if outcome.plan is not None:
        if expect != "plan":
            return "wrong", False, f"planned, but the label says {expect}"
        problem = mismatch(expected_steps(entry, flag), outcome.plan["steps"], policy)
        return ("exact", True, "") if problem is None else ("wrong", False, problem)
    said = "asked" if outcome.question is not None else "refused"
    wanted = {"ask": "asked", "refuse": "refused"}.get(expect)
    why = outcome.question.text if outcome.question else (outcome.problem or "")
    return said, said == wanted, f"{said} (label: {expect}): {why[:160]}"


@dataclass
class Score:
    outcomes: Counter[str] = field(default_factory=Counter)
    ok: int = 0
    seconds: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The counts and the mean seconds per request, as AdapterEvaluated records them."""
        n = len(self.seconds)
        return {**{o: self.outcomes[o] for o in OUTCOMES}, "ok": self.ok, "requests": n,
                "seconds_per_request": round(sum(self.seconds) / n, 3) if n else 0.0}


Plans = Callable[[Any], Outcome]  # a task-like request → what planning it ended in


def score(plan: Plans, entries: Sequence[Mapping[str, Any]], policy: Policy, flag: str
          ) -> Score:
    """Plan every entry's request as a person's task in prod would be planned."""
    result = Score()
    for i, entry in enumerate(entries):
        task = SimpleNamespace(id=i, request=entry["request"], mode="normal",
                               persona="technical_expert", environment="prod",
                               chaos_level=None, requester="deniz", answers=[],
                               picked_hosts=[])
        started = time.perf_counter()
        outcome = plan(task)
        result.seconds.append(time.perf_counter() - started)
        said, agrees, why = judge(entry, outcome, policy, flag)
        result.outcomes[said] += 1
        result.ok += agrees
        if not agrees:
            result.misses.append(f"{entry['request']} | {why}")
    return result


def sample(entries: Sequence[Mapping[str, Any]], n: int, seed: str
           ) -> list[Mapping[str, Any]]:
    """A seeded random sample of ``n`` entries (all of them when n is 0 or too many)."""
    if 0 < n < len(entries):
        return random.Random(seed).sample(list(entries), n)
    return list(entries)

