"""What the knowledge page shows: the .atlas patterns with their success rates and intervals,
the leaderboards with their ratings' intervals, and the trainings with their losses and
evaluations. The same use cases as `altlas atlas`, `leaderboard` and `models training`."""

from __future__ import annotations

from typing import Any

from application.use_cases import UseCases
from domain.errors import InvalidInputError

METHODS = ("elo", "bt")
TRAININGS = 20  # the newest shown; older ones are in the timeline


def knowledge(uc: UseCases, who: str, query: str | None = None, method: str = "elo",
              limit: int = 50) -> dict[str, Any]:
    """Patterns (most run first, filtered by ``query``), the leaderboard by ``method``, and
    the newest trainings."""
    if method not in METHODS:
        raise InvalidInputError(f"method must be one of {', '.join(METHODS)}")
    if not 1 <= limit <= 1000:
        raise InvalidInputError("limit must be from 1 to 1000")
    if query is not None and len(query) > 500:
        raise InvalidInputError("the search may be 500 characters at most")
    return {"patterns": uc.atlas_patterns(who, query or None)[:limit],
            "board": uc.leaderboard(who, method), "method": method,
            "trainings": trainings(uc, who)}


def trainings(uc: UseCases, who: str) -> list[dict[str, Any]]:
    """The newest trainings, newest first, as `models training` shows each: found through
    the timeline's TrainingRequested events."""
    asked = uc.timeline(who, type_name="TrainingRequested", limit=10_000)
    newest = [row["aggregate_id"] for row in reversed(asked)][:TRAININGS]
    return [uc.models.training(who, ident) for ident in newest]
