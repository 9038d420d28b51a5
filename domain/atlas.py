"""What the .atlas learns from: a plan's pattern and success rates with their uncertainty.

A pattern is what a plan does, not how the request was worded: the meaning of each step
(domain.commands.meaning), its kind, in the order the steps run. "restart nginx on web-1" and
"bounce nginx on web-2 please" are one pattern; so are two wordings of "disk and load on db-1".

Pure functions: nothing here reads, writes or runs anything.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.commands import analyse, mode_of
from domain.commands.meaning import meaning, services
from domain.plan import Plan

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Pattern:
    key: str  # the shape, which names the intent and the target kind too
    intent: str
    target_kind: str

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "intent": self.intent, "target_kind": self.target_kind}


def pattern_of(plan_document: Mapping[str, Any]) -> Pattern:
    """The pattern of a valid .alt plan: ``ssh:status nginx > ssh:restart nginx``. A step
    whose command has no known meaning is named by its kind alone."""
    plan = Plan.from_document(plan_document)
    parts, intents, kinds = [], [], []
    for step in plan.topological_order():
        what, about = _step_meaning(step.kind, step.action)
        part = f"{step.kind}:{what}" + (f" {about[0]}" if about else "")
        if step.when:
            part += "?"
        parts.append(part)
        if what not in intents:
            intents.append(what)
        if step.kind not in kinds:
            kinds.append(step.kind)
    return Pattern(" > ".join(parts), "+".join(intents), "+".join(kinds))


def runbook_pattern(source: str | None) -> str | None:
    """A runbook's runs are one pattern of their own, whatever its parameters
    (``runbook:disk-check``): the task's source names it."""
    return source if source and source.startswith("runbook:") else None


@functools.lru_cache(maxsize=4096)
def _step_meaning(kind: str, action: str) -> tuple[str, tuple[str, ...]]:
    """What a step does and to which services: read once per distinct command (the views
    name the pattern of every plan they fold, and plans repeat)."""
    return meaning(kind, action) or "other", _services(kind, action)


def _services(kind: str, action: str) -> tuple[str, ...]:
    """The services a step acts on, read from what will run (``sudo systemctl restart
    nginx`` acts on nginx like ``systemctl restart nginx``)."""
    if kind not in ("ssh", "local", "manual"):
        return ()
    try:
        commands = analyse(action, mode_of(kind, action))
    except ValueError:
        return services(action)
    return tuple(dict.fromkeys(s for p in commands.programs for s in services(p.line)))


def normalised_request(request: str, targets: Sequence[str]) -> str:
    """The request with the hosts its plan acted on replaced by ``{host}``, so requests of one
    pattern read alike."""
    text = " ".join(request.split())
    for target in sorted(set(targets), key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(target)}(?![\w-])", "{host}", text,
                      flags=re.IGNORECASE)
    return text


def failure_text(step_id: str, error: str, output: str | None) -> str:
    """A failure as people would quote it: the step, the error and the last line the command
    printed (where a program says why)."""
    said = [line.strip() for line in (output or "").splitlines() if line.strip()]
    text = f"{step_id}: {error}"
    return f"{text}: {said[-1][:300]}" if said else text


def wilson(successes: int, runs: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a success rate: honest for few runs and for 0% or 100%,
    where the normal approximation claims certainty it does not have."""
    if runs <= 0:
        return (0.0, 1.0)
    p = successes / runs
    centre = p + z * z / (2 * runs)
    spread = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs))
    denominator = 1 + z * z / runs
    return (max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    at = (len(ordered) - 1) * q
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)
