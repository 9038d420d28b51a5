"""Plain read models of single aggregates, for the fronts to render."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from domain.approval import Approval, ApprovalSubject
from domain.run import Run
from domain.sessions import DashboardSessions
from domain.task import Task
from domain.voice import Hearing


@dataclass(frozen=True)
class TaskView:
    id: str
    request: str
    requester: str
    mode: str
    persona: str
    environment: str | None
    source: str
    chaos_level: int | None
    reply_to: dict[str, str] | None
    status: str
    plan: dict[str, Any] | None
    gates: list[dict[str, Any]]
    segmenter: str | None
    fallback_reason: str | None
    rejection: str | None
    correlation_id: str
    created_on: datetime
    question: dict[str, Any] | None = None  # what altlas asked, while it waits for an answer
    answers: list[dict[str, Any]] = field(default_factory=list)
    run_id: str | None = None  # once its run started: a client follows the task to its run
    heard: dict[str, Any] | None = None  # a spoken request: what was heard of its clip
    because: str | None = None  # asked by a runbook step: the condition and outputs it read

    @classmethod
    def of(cls, task: Task) -> TaskView:
        return cls(
            id=str(task.id), request=task.request, requester=task.requester, mode=task.mode,
            persona=task.persona, environment=task.environment, source=task.source,
            chaos_level=task.chaos_level, reply_to=task.reply_to, status=task.status,
            plan=task.plan,
            gates=list(task.gates), segmenter=task.segmenter,
            fallback_reason=task.fallback_reason, rejection=task.rejection,
            correlation_id=task.correlation_id, created_on=task.created_on,
            question=dict(task.question) if task.question else None,
            answers=[dict(a) for a in task.answers],
            heard=dict(task.heard) if task.heard else None,
            because=task.because,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StepView:
    id: str
    kind: str
    risk: str
    gate: str
    needs: list[str]
    approval_id: str | None
    status: str
    attempts: int
    exit_code: int | None
    output: str
    error: str | None
    duration_ms: int | None
    facts: dict[str, Any] = field(default_factory=dict)
    confirmed_by: str | None = None  # who did a manual step by hand and said so
    redacted: int = 0  # credentials taken out of its outcome before it was recorded


@dataclass(frozen=True)
class RunView:
    id: str
    task_id: str
    outcome: str | None
    steps: list[StepView] = field(default_factory=list)
    summary: dict[str, int] | None = None
    started_on: datetime | None = None
    modified_on: datetime | None = None

    @classmethod
    def of(cls, run: Run) -> RunView:
        steps = [
            StepView(
                id=s.id, kind=s.kind, risk=s.risk, gate=s.gate, needs=list(s.needs),
                approval_id=s.approval_id, status=s.status, attempts=s.attempts,
                exit_code=s.exit_code, output=s.output, error=s.error, duration_ms=s.duration_ms,
                facts=dict(s.facts), confirmed_by=s.confirmed_by, redacted=s.redacted,
            )
            for s in run.steps.values()
        ]
        return cls(str(run.id), str(run.task_id), run.outcome, steps, run.summary,
                   run.created_on, run.modified_on)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _forgets(approval: Approval) -> str | None:
    """Whom an erasure forgets: the one it excludes besides who asked (or who asked, to be
    forgotten themselves)."""
    if approval.subject is not ApprovalSubject.ERASURE:
        return None
    subject = min(set(approval.excluded) - {approval.requester} or {approval.requester})
    return f"#{subject.removeprefix('p-')}"


@dataclass(frozen=True)
class ApprovalView:
    id: str
    subject: str  # ApprovalSubject: what the approval decides
    task_id: str
    run_id: str | None
    step_id: str
    risk: str
    environment: str
    requester: str
    eligible: list[str]
    excluded: list[str]  # may not vote: who asked for it or wrote the plan
    required: int
    votes: list[str]
    remaining: int
    status: str
    reason: str
    decision_reason: str | None
    expires_at: datetime
    # an erasure: whom it forgets, by pseudonym as people refer to it (#hex), never revealed
    forgets: str | None = None

    @classmethod
    def of(cls, approval: Approval) -> ApprovalView:
        return cls(
            id=str(approval.id), subject=approval.subject.value, task_id=str(approval.task_id),
            run_id=str(approval.run_id) if approval.run_id else None, step_id=approval.step_id,
            risk=approval.risk, environment=approval.environment, requester=approval.requester,
            eligible=list(approval.eligible), excluded=list(approval.excluded),
            required=approval.required,
            votes=list(approval.votes), remaining=approval.remaining(), status=approval.status,
            reason=approval.reason, decision_reason=approval.decision_reason,
            expires_at=approval.expires_at, forgets=_forgets(approval),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HearingView:
    """A doubtful hearing as its speaker is shown it: the transcript to confirm or reject."""

    id: str
    speaker: str
    transcript: str
    status: str
    heard: dict[str, Any]
    environment: str | None
    task_id: str | None  # the task, once the speaker confirmed

    @classmethod
    def of(cls, hearing: Hearing) -> HearingView:
        return cls(id=str(hearing.id), speaker=hearing.speaker, transcript=hearing.transcript,
                   status=hearing.status, heard=dict(hearing.heard),
                   environment=hearing.environment, task_id=hearing.task_id)


@dataclass(frozen=True)
class SessionsEndedView:
    """Whose dashboard sessions ended, who ended them, and when."""

    id: str
    person: str
    by: str
    at: datetime

    @classmethod
    def of(cls, ended: DashboardSessions) -> SessionsEndedView:
        return cls(id=str(ended.id), person=ended.person, by=ended.ended_by,
                   at=ended.created_on)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
