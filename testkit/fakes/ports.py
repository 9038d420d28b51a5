"""Fakes of the application's ports, for unit tests without I/O (cosmicpython style): each
implements the same Protocol as the real adapter, in memory."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from application.app import AltlasApplication
from application.errors import AudioRefusedError, SegmentationError
from application.ports import (
    Hearing,
    PersonKey,
    SegmentationRequest,
    StepContext,
    StepOutcome,
    WorkerInfo,
)
from domain.approval import OPEN, Approval
from domain.plan import PlanStep
from domain.run import PENDING, RUNNING, Run
from domain.task import Task
from domain.triggers import Trigger


class FakeSegmenter:
    """Plans from a script of request → steps; refuses what it was not told."""

    name = "fake"
    deterministic = True

    def __init__(self, plans: Mapping[str, list[dict[str, Any]]]) -> None:
        self.plans = dict(plans)
        self.asked: list[str] = []

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        self.asked.append(request.text)
        if request.text not in self.plans:
            raise SegmentationError(f"no plan for {request.text!r}")
        return {"alt": 1, "steps": self.plans[request.text]}


class FakeExecutor:
    """Runs nothing; answers each action with a scripted outcome and remembers the order."""

    def __init__(self, failing: frozenset[str] = frozenset(),
                 facts: Mapping[str, dict[str, Any]] | None = None) -> None:
        self.ran: list[str] = []
        self.failing = failing
        self.facts = dict(facts or {})

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        self.ran.append(step.action)
        if step.action in self.failing:
            return StepOutcome(False, 1, "", "exit code 1", 1)
        return StepOutcome(True, 0, f"did {step.action}\n", None, 1,
                           self.facts.get(step.action, {}))


class FakeRegistry:
    """Workers are alive while their id is in ``alive``."""

    def __init__(self) -> None:
        self.alive_ids: set[str] = set()

    def beat(self, worker: WorkerInfo) -> None:
        self.alive_ids.add(worker.id)

    def leave(self, worker_id: str) -> None:
        self.alive_ids.discard(worker_id)

    def alive(self, worker_id: str) -> bool:
        return worker_id in self.alive_ids

    def live(self) -> list[WorkerInfo]:
        return []


class FakeReads:
    """The few view queries a worker needs, answered from the aggregates themselves."""

    def __init__(self, app: AltlasApplication) -> None:
        self.app = app
        self.runs: list[UUID] = []
        self.approvals: list[UUID] = []
        self.tasks: list[UUID] = []
        self.trigger_ids: list[UUID] = []

    def triggers(self, due_by: datetime | None = None) -> list[dict[str, Any]]:
        found = [self.app.load(Trigger, t) for t in self.trigger_ids]
        return [{"trigger_id": str(t.id), "name": t.name, "next_at": t.next_at}
                for t in found if due_by is None or t.next_at <= due_by]

    def claimed_steps(self) -> list[tuple[str, str, str]]:
        held = []
        for run_id in self.runs:
            run = self.app.load(Run, run_id)
            held += [(str(run_id), s.id, s.worker) for s in run.steps.values()
                     if s.worker and (s.status == RUNNING or (s.status == PENDING
                                                               and s.retrying))]
        return held

    def open_approvals(self, at: datetime | None = None) -> list[dict[str, Any]]:
        found = [self.app.load(Approval, a) for a in self.approvals]
        return [{"approval_id": str(a.id), "expires_at": a.expires_at.isoformat()}
                for a in found if a.status == OPEN]


    def list_tasks(self, *, status: str | None, requester: str | None,
                   since: datetime | None, limit: int, before: str | None
                   ) -> list[dict[str, Any]]:
        found = [self.app.load(Task, t) for t in self.tasks]
        return [{"task_id": str(t.id), "status": t.status} for t in found
                if status is None or t.status == status][:limit]


class FakePersonKeys:
    """People's keys in memory (application.ports.PersonKeys)."""

    def __init__(self) -> None:
        self.rows: dict[str, PersonKey] = {}

    def enrol(self, candidate: PersonKey) -> PersonKey:
        return self.named(candidate.name) or self.rows.setdefault(candidate.pseudonym, candidate)

    def named(self, name: str) -> PersonKey | None:
        return next((p for p in self.rows.values() if p.name == name), None)

    def known(self, pseudonyms: Collection[str]) -> dict[str, PersonKey]:
        return {p: self.rows[p] for p in pseudonyms if p in self.rows}

    def forget(self, pseudonym: str) -> bool:
        return self.rows.pop(pseudonym, None) is not None


class FixedTranscriber:
    """A Transcriber that hears every clip as ``hearing`` (or refuses it with ``refusal``),
    remembering what it was given: for unit tests of the use cases, never for a front's."""

    def __init__(self, hearing: Hearing, refusal: AudioRefusedError | None = None) -> None:
        self.hearing = hearing
        self.refusal = refusal
        self.heard: list[tuple[bytes, tuple[str, ...], str | None]] = []

    @property
    def name(self) -> str:
        return self.hearing.model

    def transcribe(self, audio: bytes, *, names: Sequence[str] = (),
                   language: str | None = None) -> Hearing:
        self.heard.append((audio, tuple(names), language))
        if self.refusal is not None:
            raise self.refusal
        return self.hearing


def hearing_of(text: str, *, avg_logprob: float = -0.2, no_speech_prob: float = 0.01,
               language: str = "en") -> Hearing:
    """A hearing as a transcriber reports one, of ``text``."""
    return Hearing(text=text, language=language, language_probability=0.98,
                   avg_logprob=avg_logprob, no_speech_prob=no_speech_prob, duration_s=2.4,
                   model="fake:fixed", seconds=0.1)
