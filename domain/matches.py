"""Matches between planners: two models or adapters planned one request and a person chose
between the plans, or a run's outcome chose for them. Ratings are computed from these
(domain.ratings); the arena's chat flow records them through ``Match.record``.
"""

from __future__ import annotations

from domain.base import AuditedAggregate, EventMeta
from domain.errors import InvalidInputError

# What each outcome scores for ``a``: "both bad" says neither is better, like a tie.
SCORES = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}
SOURCES = ("vote", "run")
MAX_NAME = 100
MAX_WEIGHT = 10.0


class MatchError(InvalidInputError):
    """A match that cannot be recorded: the message says which part is wrong."""


class Match(AuditedAggregate):
    class Played(AuditedAggregate.Created):
        type_name = "MatchPlayed"
        a: str  # a planner: a segmenter's name, a model, a model with an adapter
        b: str
        outcome: str  # one of SCORES
        source: str  # a person's vote, or the outcome of a run of one of the plans
        weight: float
        task_id: str | None  # the request both planned, when there is one

    def __init__(self, a: str, b: str, outcome: str, source: str, weight: float,
                 task_id: str | None) -> None:
        self.a = a
        self.b = b
        self.outcome = outcome
        self.source = source
        self.weight = weight
        self.task_id = task_id

    @property
    def score(self) -> float:
        return SCORES[self.outcome]

    @classmethod
    def record(cls, a: str, b: str, outcome: str, meta: EventMeta, *, source: str = "vote",
               weight: float = 1.0, task_id: str | None = None) -> Match:
        a, b = a.strip(), b.strip()
        if not a or not b or len(a) > MAX_NAME or len(b) > MAX_NAME:
            raise MatchError(f"a match needs two planners' names of 1 to {MAX_NAME} characters")
        if a == b:
            raise MatchError(f"{a} cannot play against itself; name two different planners")
        if outcome not in SCORES:
            raise MatchError(f"unknown outcome {outcome!r}; use {', '.join(SCORES)}")
        if source not in SOURCES:
            raise MatchError(f"unknown source {source!r}; use {' or '.join(SOURCES)}")
        if not 0 < weight <= MAX_WEIGHT:
            raise MatchError(f"a match's weight is above 0 and at most {MAX_WEIGHT:g}, "
                             f"not {weight:g}")
        return cls._create_audited(cls.Played, meta, a=a, b=b, outcome=outcome, source=source,
                                   weight=float(weight), task_id=task_id)
