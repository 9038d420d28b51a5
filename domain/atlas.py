"""What the .atlas learns from: a plan's pattern, success rates with their uncertainty, and
ratings of the planners that compete for the same requests.

A pattern is what a plan does, not how the request was worded: the meaning of each step
(domain.commands.meaning), its kind, in the order the steps run. "restart nginx on web-1" and
"bounce nginx on web-2 please" are one pattern; so are two wordings of "disk and load on db-1".

Pure functions: nothing here reads, writes or runs anything.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.commands import analyse
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
        what = meaning(step.kind, step.action) or "other"
        about = _services(step.kind, step.action)
        part = f"{step.kind}:{what}" + (f" {about[0]}" if about else "")
        if step.when:
            part += "?"
        parts.append(part)
        if what not in intents:
            intents.append(what)
        if step.kind not in kinds:
            kinds.append(step.kind)
    return Pattern(" > ".join(parts), "+".join(intents), "+".join(kinds))


def _services(kind: str, action: str) -> tuple[str, ...]:
    """The services a step acts on, read from what will run (``sudo systemctl restart
    nginx`` acts on nginx like ``systemctl restart nginx``)."""
    if kind not in ("ssh", "local", "manual"):
        return ()
    try:
        commands = analyse(action, "shell" if kind == "manual" else "remote")
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


# -- ratings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    """One comparison: ``a`` against ``b``; ``score`` is a's result (1 win, 0.5 tie, 0 loss)."""

    a: str
    b: str
    score: float


@dataclass(frozen=True)
class Rating:
    name: str
    rating: float
    low: float  # the 95% interval, from the bootstrap
    high: float
    matches: int


ELO_START = 1000.0
ELO_K = 16.0
BT_SCALE = 400 / math.log(10)  # Bradley-Terry strengths on Elo's scale, for one reading


def elo(matches: Sequence[Match], k: float = ELO_K) -> dict[str, float]:
    """Elo ratings after the matches in order."""
    ratings: dict[str, float] = {}
    for m in matches:
        ra, rb = ratings.setdefault(m.a, ELO_START), ratings.setdefault(m.b, ELO_START)
        expected = 1 / (1 + 10 ** ((rb - ra) / 400))
        ratings[m.a] = ra + k * (m.score - expected)
        ratings[m.b] = rb - k * (m.score - expected)
    return ratings


def bradley_terry(matches: Sequence[Match], iterations: int = 200,
                  tolerance: float = 1e-9) -> dict[str, float]:
    """Bradley-Terry strengths by the MM algorithm (Hunter 2004), a tie counting half a win
    each way, on Elo's scale around 1000. A small prior (one tie against an average player)
    keeps a player who never lost or never won finite."""
    names = sorted({m.a for m in matches} | {m.b for m in matches})
    if not names:
        return {}
    wins = dict.fromkeys(names, 0.5)  # the prior's half win
    pairs: dict[tuple[str, str], float] = {}
    for m in matches:
        wins[m.a] += m.score
        wins[m.b] += 1 - m.score
        key = (m.a, m.b) if m.a < m.b else (m.b, m.a)
        pairs[key] = pairs.get(key, 0.0) + 1
    strength = dict.fromkeys(names, 1.0)
    for _ in range(iterations):
        updated = {}
        for name in names:
            denominator = 1 / (strength[name] + 1.0)  # the prior's game against strength 1
            for (x, y), n in pairs.items():
                if name in (x, y):
                    other = y if name == x else x
                    denominator += n / (strength[name] + strength[other])
            updated[name] = wins[name] / denominator
        mean_log = sum(math.log(s) for s in updated.values()) / len(updated)
        updated = {n: s / math.exp(mean_log) for n, s in updated.items()}
        change = max(abs(updated[n] - strength[n]) for n in names)
        strength = updated
        if change < tolerance:
            break
    return {n: ELO_START + BT_SCALE * math.log(s) for n, s in strength.items()}


def rated(matches: Sequence[Match], method: str, rounds: int = 200,
          seed: int = 0) -> list[Rating]:
    """Ratings (``elo`` or ``bt``) with 95% intervals from resampling the matches with
    replacement (the bootstrap), best first."""
    rate = elo if method == "elo" else bradley_terry
    point = rate(matches)
    counts: dict[str, int] = {}
    for m in matches:
        counts[m.a] = counts.get(m.a, 0) + 1
        counts[m.b] = counts.get(m.b, 0) + 1
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {n: [] for n in point}
    for _ in range(rounds if matches else 0):
        resampled = rng.choices(matches, k=len(matches))
        again = rate(resampled)
        for name in point:
            if name in again:
                samples[name].append(again[name])
    out = []
    for name, value in point.items():
        low = percentile(samples[name], 0.025)
        high = percentile(samples[name], 0.975)
        out.append(Rating(name, value, value if low is None else low,
                          value if high is None else high, counts.get(name, 0)))
    return sorted(out, key=lambda r: r.rating, reverse=True)
