"""The small interfaces the application needs from the outside world."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from altlas.domain.plan import PlanStep


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StepOutcome:
    ok: bool
    exit_code: int | None
    output: str
    error: str | None
    duration_ms: int


class StepExecutor(Protocol):
    """Runs one kind of step (local, ssh, promql, …) and reports what happened."""

    def execute(self, step: PlanStep) -> StepOutcome: ...


class ReadModels(Protocol):
    """Queries over the projections' views."""

    def timeline(self, *, actor: str | None = None, aggregate_id: str | None = None,
                 type_name: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Events from the audit timeline, oldest first, filtered."""

    def open_approvals(self) -> list[dict[str, Any]]:
        """The approval queue: approvals still open, soonest to expire first."""


class Auditor(Protocol):
    """Verification and export of the recorded history."""

    def verify(self, *, kafka: bool = False) -> list[dict[str, Any]]:
        """One report per source checked: the event store, and the topic if asked."""

    def export_lines(self, until: datetime | None = None) -> Iterator[str]:
        """The history as CloudEvents JSON lines."""

    def replay(self, until: datetime, into: str | None = None) -> dict[str, Any]:
        """Rebuild the views as of ``until`` into a separate database; never the live one."""
