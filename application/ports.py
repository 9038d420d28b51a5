"""The small interfaces the application needs from the outside world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

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
