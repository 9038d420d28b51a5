"""The leaderboards: which runbooks (kinds of plans) work and how soon they resolve what was
asked, which planners make plans that run and are not refused, and how planners rate
against each other in matches (Elo and Bradley-Terry with bootstrap intervals).

Ratings are recomputed only when a match was played since they were last asked for: the
bootstrap over 100,000 matches takes seconds (bench/leaderboards.py).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from application.atlas import Atlas, PatternSummary
from application.errors import NotFoundError
from application.ports import ReadModels
from domain.atlas import percentile, wilson
from domain.errors import InvalidInputError

if TYPE_CHECKING:
    from domain.ratings import Rating

RATING_ROUNDS = 200
MAX_BUCKETS = 30  # points of a success-over-time chart


@dataclass
class PlannerStanding:
    planner: str
    plans: int = 0
    refused: int = 0
    runs: int = 0
    successes: int = 0

    def to_dict(self) -> dict[str, Any]:
        low, high = wilson(self.successes, self.runs)
        return {"planner": self.planner, "plans": self.plans, "runs": self.runs,
                "successes": self.successes,
                "success_rate": round(self.successes / self.runs, 4) if self.runs else None,
                "interval": [round(low, 4), round(high, 4)],
                "refused_rate": round(self.refused / self.plans, 4)}


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def runbook_row(s: PatternSummary) -> dict[str, Any]:
    low, high = s.interval
    return {"pattern": s.pattern, "intent": s.intent, "runs": s.runs,
            "successes": s.successes, "success_rate": round(s.rate, 4),
            "interval": [round(low, 4), round(high, 4)],
            "time_to_resolve_ms": {"p50": _ms(percentile(s.resolve_ms, 0.5)),
                                   "p95": _ms(percentile(s.resolve_ms, 0.95))}}


def _rank(row: dict[str, Any]) -> tuple[float, float, str]:
    """Most surely successful first (the interval's lower bound: 9 of 10 beats 1 of 1), then
    the soonest resolved."""
    p50 = row["time_to_resolve_ms"]["p50"]
    return -row["interval"][0], math.inf if p50 is None else p50, row["pattern"]


def buckets(history: list[tuple[datetime, bool]]) -> list[dict[str, Any]]:
    """Runs by period (a day, or as many days as keep the chart to MAX_BUCKETS points): how
    many, how many succeeded, the rate and its interval."""
    if not history:
        return []
    first = min(t for t, _ in history).astimezone(UTC)
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    span = (max(t for t, _ in history) - start).days + 1
    days = max(1, math.ceil(span / MAX_BUCKETS))
    counts: dict[int, list[int]] = {}
    for when, ok in history:
        n = counts.setdefault((when - start).days // days, [0, 0])
        n[0] += 1
        n[1] += ok
    out = []
    for i in sorted(counts):
        runs, successes = counts[i]
        low, high = wilson(successes, runs)
        out.append({"from": (start + timedelta(days=i * days)).date().isoformat(),
                    "days": days, "runs": runs, "successes": successes,
                    "success_rate": round(successes / runs, 4),
                    "interval": [round(low, 4), round(high, 4)]})
    return out


class Leaderboards:
    def __init__(self, reads: Callable[[], ReadModels], atlas: Callable[[], Atlas],
                 rounds: int = RATING_ROUNDS) -> None:
        self._reads = reads
        self._atlas = atlas
        self._rounds = rounds
        self._lock = threading.Lock()
        self._rated: dict[str, tuple[tuple[int, str], list[Rating]]] = {}

    def runbooks(self, query: str | None = None) -> list[dict[str, Any]]:
        """The patterns run here, best first."""
        return sorted((runbook_row(s) for s in self._atlas().patterns(query, imported=False)),
                      key=_rank)

    def runbook_history(self, query: str) -> dict[str, Any]:
        """The best-ranked runbook matching ``query`` with its success rate over time."""
        found = {s.pattern: s for s in self._atlas().patterns(query, imported=False)}
        if not found:
            raise NotFoundError(f"no runbook matches {query!r}; `altlas atlas show` lists "
                                "what was run")
        best = sorted((runbook_row(s) for s in found.values()), key=_rank)[0]
        return {**best, "history": buckets(found[best["pattern"]].history)}

    def planners(self) -> list[dict[str, Any]]:
        """Segmenters and models by the outcome of their plans' runs, and how often a
        step of their plans was denied; the most surely successful first. A plan written
        by hand counts under "hand-written", the people's own baseline."""
        standings: dict[str, PlannerStanding] = {}
        for fact in self._reads().planner_facts():
            s = standings.setdefault(fact["segmenter"], PlannerStanding(fact["segmenter"]))
            s.plans += 1
            s.refused += bool(fact["refused"])
            s.runs += fact["runs"]
            s.successes += fact["successes"]
        rows = [s.to_dict() for s in standings.values()]
        return sorted(rows, key=lambda r: (-r["interval"][0], r["planner"]))

    def ratings(self, method: str) -> dict[str, Any]:
        """Every planner that played a match, rated by ``method`` (elo or bt) with its 95%
        interval, best first."""
        from domain.ratings import METHODS, Game, rated  # numpy: only those who ask for ratings

        if method not in METHODS:
            raise InvalidRatingMethodError(
                f"unknown rating method {method!r}; use {' or '.join(METHODS)}")
        played = self._reads().matches()
        key = (len(played), played[-1]["match_id"] if played else "")
        with self._lock:
            cached = self._rated.get(method)
            if cached is None or cached[0] != key:
                games = [Game(m["a"], m["b"], m["score"], m["weight"]) for m in played]
                cached = key, rated(games, method, rounds=self._rounds)
                self._rated[method] = cached
        return {"method": method, "matches": len(played), "rounds": self._rounds,
                "ratings": [{"planner": r.name, "rating": round(r.rating, 1),
                             "interval": [round(r.low, 1), round(r.high, 1)],
                             "matches": r.matches} for r in cached[1]]}

    def board(self, method: str = "elo") -> dict[str, Any]:
        return {"runbooks": self.runbooks(), "planners": self.planners(),
                "ratings": self.ratings(method)}


class InvalidRatingMethodError(InvalidInputError):
    """A rating method the leaderboards do not compute."""
