"""When two plans are the same plan: same steps in the same order, same kinds, targets,
dependencies, conditions and risk, and equivalent actions."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from domain.plan import Plan
from domain.policy import Policy


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
