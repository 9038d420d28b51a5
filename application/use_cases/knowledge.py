"""Use cases of the .atlas, similar runs, leaderboards and matches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from application.errors import NotFoundError
from application.similar import SimilarRun
from application.use_cases.base import UseCasesBase
from domain.errors import InvalidInputError


class KnowledgeUseCases(UseCasesBase):
    def atlas_patterns(self, who: str | None, query: str | None = None
                       ) -> list[dict[str, Any]]:
        """The patterns of plans run here and imported, most run first (query: all its
        words in the pattern, the intent or its requests)."""
        self._may(who, "read")
        return [s.to_dict() for s in self.atlas().patterns(query)]

    def atlas_document(self, who: str | None, source: str, now: datetime) -> dict[str, Any]:
        self._may(who, "read")
        return self.atlas().document(source, now)

    def similar_runs(self, who: str | None, text: str, k: int = 3, *,
                     environment: str | None = None, outcome: str | None = None,
                     min_score: float = 0.0) -> list[SimilarRun]:
        """Past runs whose requests are nearest ``text`` in meaning (VectorStoreUnavailable
        when the store cannot be reached)."""
        self._may(who, "read")
        if self._similar is None:
            raise InvalidInputError("the similar-run search is not configured here")
        self._spend(who, "similar")
        similar = self._similar()
        similar.catch_up()
        return similar.search(text, k, environment=environment, outcome=outcome,
                              min_score=min_score)

    def leaderboard(self, who: str | None, method: str = "elo") -> dict[str, Any]:
        """Runbooks, planners and the ratings of planners by ``method``."""
        self._may(who, "read")
        return self.leaderboards.board(method)

    def runbook_history(self, who: str | None, query: str) -> dict[str, Any]:
        self._may(who, "read")
        return self.leaderboards.runbook_history(query)

    def ratings(self, who: str | None, method: str) -> dict[str, Any]:
        self._may(who, "read")
        return self.leaderboards.ratings(method)

    def chart(self, who: str | None, *, method: str | None = None,
              runbook: str | None = None) -> bytes:
        """A PNG: the ratings by ``method``, or the success over time of the runbook that
        best matches ``runbook``."""
        if runbook is not None:
            return self.runbook_chart(who, runbook)[1]
        charts = self._drawing(who)
        board = self.leaderboards.ratings(method or "elo")
        if not board["ratings"]:
            raise NotFoundError("no match was played yet; the arena records them")
        name = {"elo": "Elo", "bt": "Bradley-Terry"}[board["method"]]
        return charts.ratings(f"{name} ratings from {board['matches']} matches",
                              board["ratings"])

    def runbook_chart(self, who: str | None, query: str) -> tuple[dict[str, Any], bytes]:
        """The runbook ``query`` finds, over time, and its chart: one reading for both."""
        charts = self._drawing(who)
        found = self.leaderboards.runbook_history(query)
        return found, charts.success_over_time(
            f"{found['pattern']}: {found['successes']} of {found['runs']} runs succeeded",
            found["history"])

    def record_match(self, who: str, a: str, b: str, outcome: str,
                     task_id: str | None = None) -> str:
        """A person's verdict between two planners' plans: MatchPlayed, under the arena's
        rules."""
        return self.arena.record_match(who, a, b, outcome, task_id)

    def import_atlas(self, who: str, raw: bytes, source: str | None = None) -> dict[str, Any]:
        self.access.check(who, "import")
        return self.atlas().import_document(raw, source or "", who)
