"""The leaderboards projection: every match played between two planners (MatchPlayed), one
row per match, so it applies partitions on their own and rebuilds in parallel like every view.

Runbooks and planners are ranked from the .atlas rows (which planner made each plan, how its
runs ended) and the approvals view's refusals (application/leaderboards.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from domain.matches import SCORES
from domain.records import RecordedEvent
from projections.folding import Projection, insert_ignore
from projections.schema import matches


class LeaderboardsProjection(Projection):
    name = "leaderboards"
    tables = (matches,)

    def apply(self, conn: Connection, records: Sequence[RecordedEvent]) -> None:
        insert_ignore(conn, matches, [
            {"match_id": str(r.aggregate_id), "a": r.data["a"], "b": r.data["b"],
             "score": SCORES[r.data["outcome"]], "weight": r.data["weight"],
             "source": r.data["source"], "played_at": r.timestamp}
            for r in records if r.type_name == "MatchPlayed"])
