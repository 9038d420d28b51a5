"""Use cases of the history: the timeline, the events, verify, replay, export, as of a moment."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from application.use_cases.base import StateAt, UseCasesBase


class AuditUseCases(UseCasesBase):
    def can_verify(self, who: str, *, kafka: bool = False, starting: bool = True) -> None:
        """Raise what verifying would be refused for, before any of it runs; ``starting``
        counts it against the person's rate (following a job does not)."""
        self.access.check(who, "audit")
        if kafka:
            self._auditor().require_kafka()
        if starting:
            self._spend(who, "verify")

    def verify(self, who: str | None, *, kafka: bool = False,
               progress: Callable[[int], None] | None = None,
               counted: bool = False) -> list[dict[str, Any]]:
        """``counted``: can_verify counted it already (a job the API started)."""
        self._may(who, "audit")
        if not counted:
            self._spend(who, "verify")
        return self._auditor().verify(kafka=kafka, progress=progress)

    def replay_target(self, who: str | None, until: datetime, into: str | None = None) -> str:
        """Where a replay would write, checked (refused before any of it runs)."""
        self._may(who, "replay")
        return self._auditor().replay_target(until, into)

    def replay(self, who: str | None, until: datetime, into: str | None = None,
               progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Views as of ``until`` written into a database one names: the admins' alone, as
        it writes where they say."""
        self._may(who, "replay")
        self._spend(who, "replay")
        return self._auditor().replay(until, into, progress)

    def export(self, who: str | None, until: datetime | None = None,
               since: datetime | None = None) -> Iterator[str]:
        """The history from ``since`` to ``until`` as CloudEvents JSON lines (checked
        before the first line)."""
        self._may(who, "audit")
        self._spend(who, "export")
        return self._auditor().export_lines(until, since)

    def state_at(self, who: str, until: datetime) -> StateAt:
        """Open approvals (with who had voted) and running runs as they were at ``until``."""
        self.access.check(who, "audit")
        self._spend(who, "replay")
        views, events = self._reads_at(until)
        running = views.list_runs(status="running", requester=None, since=None, limit=50,
                                  before=None)
        return StateAt(until, events, self._shown(views.open_approvals(at=until)),
                       self._shown(running))
