"""Matches between planners: two models or adapters planned one request and a person chose
between the plans, or a run's outcome chose for them. Ratings are computed from these
(domain.ratings); the arena's chat flow records them through ``Match.record``.
"""

from __future__ import annotations

from collections.abc import Collection

from domain.base import AuditedAggregate, EventMeta
from domain.errors import ConflictError, InvalidInputError, NotAllowedError

# What each outcome scores for ``a``: "both bad" says neither is better, like a tie.
SCORES = {"a": 1.0, "b": 0.0, "tie": 0.5, "both_bad": 0.5}
SOURCES = ("vote", "run")
MAX_NAME = 100
MAX_WEIGHT = 10.0


class MatchError(InvalidInputError):
    """A match that cannot be recorded: the message says which part is wrong."""


class MakerCannotJudgeError(NotAllowedError):
    """Who registered a planner's model or asked for its adapter's training may not judge it."""


class NoPlanCannotWinError(ConflictError):
    """A side that made no plan has nothing that could be better."""


def check_verdict(judge: str, outcome: str, makers: Collection[str],
                  planless: Collection[str] = ()) -> None:
    """The rule for every verdict a person gives, in the arena or recorded by hand: not by a
    maker of either planner, and no credit (a win, a tie) to a side (a, b) that made no plan."""
    if outcome not in SCORES:
        raise MatchError(f"unknown verdict {outcome!r}: {', '.join(SCORES)}")
    if judge in makers:
        raise MakerCannotJudgeError(
            f"{judge} made one of the planners (registered its model or trained its adapter) "
            "and cannot judge it")
    credited = {"a": ("a",), "b": ("b",), "tie": ("a", "b")}.get(outcome, ())
    empty = [side for side in credited if side in planless]
    if empty:
        raise NoPlanCannotWinError(
            f"side {empty[0]} made no plan, so it cannot win or tie: vote for the other side "
            "or both_bad")


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
               weight: float = 1.0, task_id: str | None = None,
               makers: Collection[str] = (), planless: Collection[str] = ()) -> Match:
        """A person's verdict (source vote) obeys ``check_verdict``: ``makers`` made a or b,
        ``planless`` the sides that made no plan."""
        a, b = a.strip(), b.strip()
        if not a or not b or len(a) > MAX_NAME or len(b) > MAX_NAME:
            raise MatchError(f"a match needs two planners' names of 1 to {MAX_NAME} characters")
        if a == b:
            raise MatchError(f"{a} cannot play against itself; name two different planners")
        if outcome not in SCORES:
            raise MatchError(f"unknown outcome {outcome!r}; use {', '.join(SCORES)}")
        if source not in SOURCES:
            raise MatchError(f"unknown source {source!r}; use {' or '.join(SOURCES)}")
        if source == "vote":
            check_verdict(meta.actor, outcome, makers, planless)
        if not 0 < weight <= MAX_WEIGHT:
            raise MatchError(f"a match's weight is above 0 and at most {MAX_WEIGHT:g}, "
                             f"not {weight:g}")
        return cls._create_audited(cls.Played, meta, a=a, b=b, outcome=outcome, source=source,
                                   weight=float(weight), task_id=task_id)
