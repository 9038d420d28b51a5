"""The small interfaces the application needs from the outside world."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from domain.plan import PlanStep


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
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepContext:
    """What a step may know of its run: the outputs and facts of the steps before it."""

    outputs: Mapping[str, str] = field(default_factory=dict)
    facts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class StepExecutor(Protocol):
    """Runs one kind of step (local, ssh, promql, …) and reports what happened. It must
    return within the step's timeout and never raise for a failure of the step itself."""

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        """Run the step once."""


Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": …}


class LanguageModel(Protocol):
    """A chat model: the local GGUF model, or any provider through litellm."""

    name: str

    def complete(self, messages: Sequence[Message], *, max_tokens: int,
                 json_schema: Mapping[str, Any] | None = None) -> str:
        """The model's reply; with a JSON schema, constrained to it where the model can."""


@dataclass(frozen=True)
class SegmentationRequest:
    text: str
    mode: str = "normal"
    persona: str = "technical_expert"
    environment: str | None = None
    chaos_level: int | None = None
    examples: tuple[tuple[str, Mapping[str, Any]], ...] = ()


class Segmenter(Protocol):
    """Turns a request into the body of an .alt plan ({"alt": 1, "steps": [...]})."""

    name: str

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        """The plan; raises SegmentationError when it cannot make one."""


class ReadModels(Protocol):
    """Queries over the projections' views."""

    def timeline(self, *, actor: str | None = None, aggregate_id: str | None = None,
                 type_name: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Events from the audit timeline, oldest first, filtered."""

    def open_approvals(self) -> list[dict[str, Any]]:
        """The approval queue: approvals still open, soonest to expire first."""

    def successful_plans(self, limit: int = 200) -> list[tuple[str, dict[str, Any]]]:
        """(request, plan) of the most recent tasks whose run succeeded."""

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The latest runs with their task's request, newest first."""

    def resolve(self, prefix: str) -> list[tuple[str, str]]:
        """(kind, id) of the tasks, runs and approvals whose id starts with ``prefix``."""


class FrontUnavailableError(Exception):
    """The chat platform cannot be reached now (down, rate-limited, not connected yet); the
    same update should be tried again later rather than dropped."""


class Notifier(Protocol):
    """Keeps chat messages in step with what happened (votes, decisions, run results).
    Raises FrontUnavailableError when the platform cannot take the update now."""

    def approval_changed(self, approval_id: str) -> None:
        """Re-render every message that shows this approval."""

    def run_finished(self, run_id: str) -> None:
        """Report a run's result where it was asked for."""


class Bookmark(Protocol):
    """How far a follower of the events has got, kept across restarts."""

    def load(self) -> int | None:
        """The last position handled, or None the first time."""

    def save(self, position: int) -> None:
        """Remember that everything up to ``position`` is handled."""


class MessageRefs(Protocol):
    """Where each approval was posted, so its messages can be updated in place."""

    def add(self, approval_id: str, platform: str, channel: str, message: str,
            thread: str | None = None, locale: str = "en") -> None:
        """Remember a posted approval message and the language it speaks."""

    def of(self, approval_id: str, platform: str) -> list[tuple[str, str, str]]:
        """(channel, message, locale) of each message on ``platform`` showing the approval."""


class Auditor(Protocol):
    """Verification and export of the recorded history."""

    def verify(self, *, kafka: bool = False) -> list[dict[str, Any]]:
        """One report per source checked: the event store, and the topic if asked."""

    def export_lines(self, until: datetime | None = None) -> Iterator[str]:
        """The history as CloudEvents JSON lines."""

    def replay(self, until: datetime, into: str | None = None) -> dict[str, Any]:
        """Rebuild the views as of ``until`` into a separate database; never the live one."""
