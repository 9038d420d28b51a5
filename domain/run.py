"""A run: one execution of a task's plan, step by step (DESIGN.md §1.4). One module: an
aggregate, its events and the invariants they keep together."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain.approval import GRANTED, Approval
from domain.base import AuditedAggregate, EventMeta, Seal, as_written
from domain.errors import ConflictError, InvalidInputError, NotAllowedError
from domain.risk import GateKind, RiskLevel
from domain.statuses import RUN_STATUSES as RUN_STATUSES

PENDING, RUNNING = "pending", "running"
SUCCEEDED, FAILED, SKIPPED = "succeeded", "failed", "skipped"
MANUAL = "manual"  # left to a person (altlas never runs it) and not yet confirmed done
DECIDED = frozenset({SUCCEEDED, FAILED, SKIPPED})
AT_REST = DECIDED | {MANUAL}  # nothing more happens to the step unless a person reports it
MANUAL_OUTSTANDING = "manual_outstanding"
MAX_OUTPUT_CHARS = 64_000
# A read-only step whose worker died is run again, but not for ever: one that keeps taking
# its worker down fails after this many interruptions.
MAX_RERUNS = 3
UNKNOWN_OUTCOME = "interrupted: the outcome is unknown"
MAX_NOTE_CHARS = 500


def settled_outcome(type_name: str, outcome: str | None) -> str | None:
    """The outcome that a run's completion, or a manual step confirmed after it, settles:
    what the .atlas, the leaderboards, the arena and similar-run search count. None while
    work left to a person is outstanding (neither a success nor a failure yet), and for
    every other event."""
    if type_name not in ("RunCompleted", "ManualStepConfirmed") or outcome == MANUAL_OUTSTANDING:
        return None
    return outcome


@dataclass
class StepState:
    id: str
    kind: str
    risk: str
    gate: str
    needs: tuple[str, ...]
    approval_id: str | None
    status: str = PENDING
    attempts: int = 0
    exit_code: int | None = None
    output: str = ""
    error: str | None = None
    duration_ms: int | None = None
    cancelled: bool = False
    facts: dict[str, Any] = field(default_factory=dict)
    worker: str | None = None  # who claimed the latest attempt
    retrying: bool = False  # pending until ``worker`` starts its next attempt
    interruptions: int = 0
    outcome_unknown: bool = False
    started_by: str | None = None  # the actor who recorded the latest start
    confirmed_by: str | None = None  # the person who did a manual step and said so
    redacted: int = 0  # credentials taken out of the latest outcome before it was recorded


class Run(AuditedAggregate):
    class Started(AuditedAggregate.Created):
        type_name = "RunStarted"
        task_id: UUID
        steps: list[dict[str, Any]]

    class StepStarted(AuditedAggregate.Event):
        """A worker claimed the step and is running it: the claim is this event, and
        optimistic concurrency lets only one worker record it."""

        type_name = "StepStarted"
        class_version = 2
        step_id: str
        attempt: int
        worker: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Release 0.1 did not say which worker ran a step."""
            state["worker"] = None

        def apply(self, run: Run) -> None:
            step = run.steps[self.step_id]
            step.status = RUNNING
            step.attempts = self.attempt
            step.worker = self.worker
            step.retrying = False
            step.started_by = self.actor

    class StepSucceeded(AuditedAggregate.Event):
        type_name = "StepSucceeded"
        class_version = 3
        step_id: str
        exit_code: int | None
        output: str
        duration_ms: int
        facts: dict[str, Any]
        redacted: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Release 0.1 recorded no facts."""
            state["facts"] = {}

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Release 0.2 redacted nothing (and did not say so)."""
            state["redacted"] = 0

        def apply(self, run: Run) -> None:
            step = run.steps[self.step_id]
            step.status = SUCCEEDED
            step.exit_code = self.exit_code
            step.output = self.output
            step.duration_ms = self.duration_ms
            step.facts = self.facts
            step.redacted = self.redacted

    class StepFailed(AuditedAggregate.Event):
        type_name = "StepFailed"
        class_version = 3
        step_id: str
        error: str
        exit_code: int | None
        output: str
        duration_ms: int
        will_retry: bool
        facts: dict[str, Any]
        redacted: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Release 0.1 recorded no facts."""
            state["facts"] = {}

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Release 0.2 redacted nothing (and did not say so)."""
            state["redacted"] = 0

        def apply(self, run: Run) -> None:
            step = run.steps[self.step_id]
            step.status = PENDING if self.will_retry else FAILED
            step.retrying = self.will_retry
            step.error = self.error
            step.exit_code = self.exit_code
            step.output = self.output
            step.duration_ms = self.duration_ms
            step.facts = self.facts
            step.redacted = self.redacted

    class StepSkipped(AuditedAggregate.Event):
        type_name = "StepSkipped"
        step_id: str
        reason: str
        cancelled: bool

        def apply(self, run: Run) -> None:
            step = run.steps[self.step_id]
            step.status = SKIPPED
            step.error = self.reason
            step.cancelled = self.cancelled

    class StepInterrupted(AuditedAggregate.Event):
        """The worker running the step stopped (it died, or was stopped) before it
        recorded an outcome. Only a read-only step runs again; any other step's outcome is
        unknown, so it fails and the run stops there."""

        type_name = "StepInterrupted"
        step_id: str
        worker: str | None
        rerun: bool
        reason: str

        def apply(self, run: Run) -> None:
            step = run.steps[self.step_id]
            step.interruptions += 1
            step.retrying = False
            if self.rerun:
                step.status = PENDING
            else:
                step.status = FAILED
                step.error = self.reason
                step.outcome_unknown = True

    class StepApprovalAsked(AuditedAggregate.Event):
        """A conditional gated step's condition held: only now are people asked to approve
        it (never for a step that would be skipped)."""

        type_name = "StepApprovalAsked"
        step_id: str
        approval_id: str

        def apply(self, run: Run) -> None:
            run.steps[self.step_id].approval_id = self.approval_id

    class ManualStepPosted(AuditedAggregate.Event):
        """The step is left to a person: altlas never runs it (CRITICAL, or written as
        manual), and the run cannot succeed until someone reports it done."""

        type_name = "ManualStepPosted"
        step_id: str
        reason: str

        def apply(self, run: Run) -> None:
            step = run.steps[self.step_id]
            step.status = MANUAL
            step.error = self.reason

    class ManualStepConfirmed(AuditedAggregate.Event):
        """A person did the manual step and says so; ``outcome`` is the run's outcome
        afterwards if it had completed."""

        type_name = "ManualStepConfirmed"
        step_id: str
        by: str
        note: str
        outcome: str | None

        def apply(self, run: Run) -> None:
            step = run.steps[self.step_id]
            step.status = SUCCEEDED
            step.confirmed_by = self.by
            step.error = None
            step.output = self.note
            if run.completed:
                run.outcome = self.outcome

    class Completed(AuditedAggregate.Event):
        type_name = "RunCompleted"
        class_version = 2
        outcome: str
        duration_ms: int
        summary: dict[str, int] | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Release 0.1 did not count steps by status; its runs say so with None."""
            state["summary"] = None

        def apply(self, run: Run) -> None:
            run.outcome = self.outcome
            run.summary = self.summary

    def __init__(self, task_id: UUID, steps: list[dict[str, Any]], correlation_id: str) -> None:
        self.task_id = task_id
        self.correlation_id = correlation_id
        self.steps: dict[str, StepState] = {
            s["id"]: StepState(
                id=s["id"], kind=s["kind"], risk=s["risk"], gate=s["gate"],
                needs=tuple(s["needs"]), approval_id=s.get("approval_id"),
            )
            for s in steps
        }
        self.outcome: str | None = None
        self.summary: dict[str, int] | None = None

    @classmethod
    def start(
        cls, task_id: UUID, steps: list[dict[str, Any]], meta: EventMeta, run_id: UUID | None = None
    ) -> Run:
        if not steps:
            raise InvalidInputError("a run needs at least one step")
        return cls._create_audited(cls.Started, meta, id=run_id, task_id=task_id, steps=steps)

    @property
    def completed(self) -> bool:
        return self.outcome is not None

    @property
    def stopped_by(self) -> StepState | None:
        """The interrupted step whose unknown outcome stops the run, if any."""
        return next((s for s in self.steps.values() if s.outcome_unknown), None)

    def start_step(self, step_id: str, meta: EventMeta, worker: str | None = None,
                   approval: Approval | None = None) -> None:
        """Claim the step for ``worker``; a step waiting for its retry is its worker's. A
        gated step starts only with its approval granted, and a manual one never."""
        self._check_not_completed()
        step = self._step(step_id)
        if step.status != PENDING:
            raise StepStateError(
                f"step {step_id} is {step.status}; only a pending step can start")
        self._check_gate(step, approval)
        if step.retrying and worker != step.worker:
            raise StepStateError(f"step {step_id} waits for its retry by {step.worker}")
        for dep in step.needs:
            if self.steps[dep].status != SUCCEEDED:
                raise StepStateError(
                    f"step {step_id} needs {dep}, which is {self.steps[dep].status}")
        self._trigger(self.StepStarted, meta, step_id=step_id, attempt=step.attempts + 1,
                      worker=worker)

    def _check_gate(self, step: StepState, approval: Approval | None) -> None:
        if step.gate == GateKind.MANUAL.value:
            raise GateNotPassedError(f"step {step.id} is {step.risk}: altlas never runs it; a "
                                     "person does it by hand and confirms it")
        if step.gate != GateKind.APPROVAL.value:
            return
        if approval is None or str(approval.id) != step.approval_id:
            raise GateNotPassedError(f"step {step.id} needs approval {step.approval_id} "
                                     "granted before it starts")
        if approval.status != GRANTED:
            raise GateNotPassedError(f"step {step.id} waits for approval {step.approval_id}, "
                                     f"which is {approval.status}; it starts once granted")

    def check_claim(self, step_id: str, worker: str | None, actor: str) -> None:
        """An outcome is recorded only by whoever holds the step: the worker that claimed
        it, or the person who reported starting it."""
        step = self._step(step_id)
        if worker is not None:
            if step.worker != worker:
                raise StepStateError(f"step {step_id} is no longer held by {worker} (now "
                                     f"{step.worker or 'nobody'}); its outcome is not recorded")
        elif step.worker is not None:
            raise StepStateError(f"step {step_id} is run by worker {step.worker}; it records "
                                 "the outcome itself")
        elif step.started_by != actor:
            raise StepStateError(f"step {step_id} was started by {step.started_by or 'nobody'}; "
                                 "only they report its outcome")

    def interrupt_step(self, step_id: str, meta: EventMeta, *, why: str) -> None:
        """The step's worker is gone. A read-only step, or one that only waited for its
        retry, is free to run again; any other running step failed with its outcome
        unknown."""
        self._check_not_completed()
        step = self._step(step_id)
        if step.status == RUNNING:
            rerun = step.risk == "READ_ONLY" and step.interruptions < MAX_RERUNS
        elif step.status == PENDING and step.retrying:
            rerun = True
        else:
            raise StepStateError(f"step {step_id} is {step.status}; only a running step, or "
                                 "one waiting for its retry, can be interrupted")
        if rerun:
            reason = f"interrupted ({why}); it runs again"
        elif step.risk == "READ_ONLY":
            reason = (f"{UNKNOWN_OUTCOME}: interrupted {step.interruptions + 1} times "
                      f"({why}); not run again")
        else:
            reason = f"{UNKNOWN_OUTCOME} ({why}); it may or may not have taken effect"
        self._trigger(self.StepInterrupted, meta, step_id=step_id, worker=step.worker,
                      rerun=rerun, reason=reason)

    def succeed_step(self, step_id: str, meta: EventMeta, *, exit_code: int | None,
                     output: str, duration_ms: int, facts: dict[str, Any] | None = None,
                     redacted: int = 0) -> None:
        """``redacted``: how many credentials were taken out of the outcome, so whoever
        reads it knows something was removed."""
        self._check_running(step_id)
        self._trigger(self.StepSucceeded, meta, step_id=step_id, exit_code=exit_code,
                      output=output[:MAX_OUTPUT_CHARS], duration_ms=duration_ms,
                      facts=facts or {}, redacted=redacted)

    def fail_step(self, step_id: str, meta: EventMeta, *, error: str, exit_code: int | None,
                  output: str, duration_ms: int, will_retry: bool = False,
                  facts: dict[str, Any] | None = None, redacted: int = 0) -> None:
        self._check_running(step_id)
        self._trigger(self.StepFailed, meta, step_id=step_id, error=error, exit_code=exit_code,
                      output=output[:MAX_OUTPUT_CHARS], duration_ms=duration_ms,
                      will_retry=will_retry, facts=facts or {}, redacted=redacted)

    def skip_step(
        self, step_id: str, reason: str, meta: EventMeta, *, cancelled: bool = False
    ) -> None:
        self._check_not_completed()
        step = self._step(step_id)
        if step.status != PENDING:
            raise StepStateError(
                f"step {step_id} is {step.status}; only a pending step can be skipped")
        self._trigger(self.StepSkipped, meta, step_id=step_id, reason=reason, cancelled=cancelled)

    def ask_approval(self, step_id: str, approval_id: UUID, meta: EventMeta) -> None:
        self._check_not_completed()
        step = self._step(step_id)
        if step.gate != GateKind.APPROVAL.value or step.status != PENDING:
            raise StepStateError(f"step {step_id} is {step.status} and gated by {step.gate}; "
                                 "only a pending step that needs an approval can ask for one")
        if step.approval_id is not None:
            raise StepStateError(f"step {step_id} already asked for approval "
                                 f"{step.approval_id}")
        self._trigger(self.StepApprovalAsked, meta, step_id=step_id,
                      approval_id=str(approval_id))

    def post_manual_step(self, step_id: str, reason: str, meta: EventMeta) -> None:
        """Leave a manual step to a person."""
        self._check_not_completed()
        step = self._step(step_id)
        if step.status != PENDING or step.gate != GateKind.MANUAL.value:
            raise StepStateError(f"step {step_id} is a {step.status} {step.gate} step; only a "
                                 "pending manual step is left to a person")
        self._trigger(self.ManualStepPosted, meta, step_id=step_id, reason=reason)

    def confirm_manual_step(self, step_id: str, by: str, note: str, meta: EventMeta,
                            seal: Seal = as_written, authors: frozenset[str] = frozenset(),
                            confirmers: frozenset[str] | None = None) -> None:
        """``by`` did the manual step by hand: it succeeded, and once no manual work is
        left the run's outcome says what the rest of it did. Allowed after completion.
        ``authors``: who asked for the work or chose what it does; a CRITICAL step is the
        two-person rule's too, so none of them may say it was done. ``confirmers``: who
        could have approved the step (None: anyone who may confirm); nobody else may say
        it was done, or confirming would be a way around its environment's gate."""
        step = self._step(step_id)
        if step.status != MANUAL:
            raise StepStateError(f"step {step_id} is {step.status}; only a step left to a "
                                 "person can be confirmed done")
        if step.risk == RiskLevel.CRITICAL.value and by in authors:
            raise AuthorCannotConfirmError(
                f"{by} asked for this work or chose what it does, so someone else must "
                f"confirm its CRITICAL step {step_id}")
        if confirmers is not None and by not in confirmers:
            raise NotEligibleToConfirmError(
                f"{by} could not have approved {step.risk} step {step_id} in its "
                "environment, so cannot confirm it; one of that environment's approvers must")
        text = note.strip()[:MAX_NOTE_CHARS]
        outcome = None
        if self.completed:
            outcome = self._outcome_of(
                [SUCCEEDED if s.id == step_id else s.status for s in self.steps.values()])
        self._trigger(self.ManualStepConfirmed, meta, step_id=step_id, by=by,
                      note=seal(text) if text else text, outcome=outcome)

    def complete(self, meta: EventMeta, *, duration_ms: int) -> None:
        self._check_not_completed()
        undecided = [s.id for s in self.steps.values() if s.status not in AT_REST]
        if undecided:
            raise RunNotFinishedError(
                f"run {self.id} still has undecided steps: {', '.join(undecided)}")
        summary = dict(sorted(Counter(s.status for s in self.steps.values()).items()))
        self._trigger(self.Completed, meta, outcome=self.derive_outcome(),
                      duration_ms=duration_ms, summary=summary)

    def derive_outcome(self) -> str:
        return self._outcome_of([s.status for s in self.steps.values()])

    def _outcome_of(self, statuses: list[str]) -> str:
        if FAILED in statuses:
            return "failed"
        if any(s.cancelled for s in self.steps.values()):
            return "cancelled"
        if MANUAL in statuses:
            return MANUAL_OUTSTANDING
        return "succeeded"

    def _step(self, step_id: str) -> StepState:
        try:
            return self.steps[step_id]
        except KeyError:
            raise UnknownStepError(f"run {self.id} has no step {step_id!r}") from None

    def _check_not_completed(self) -> None:
        if self.completed:
            raise RunAlreadyCompletedError(f"run {self.id} is already completed ({self.outcome})")

    def _check_running(self, step_id: str) -> None:
        self._check_not_completed()
        step = self._step(step_id)
        if step.status != RUNNING:
            raise StepStateError(f"step {step_id} is {step.status}; record a result only for a "
                                 "running step")


class RunAlreadyCompletedError(ConflictError):
    pass


class RunNotFinishedError(ConflictError):
    pass


class StepStateError(ConflictError):
    pass


class GateNotPassedError(NotAllowedError):
    pass


class AuthorCannotConfirmError(NotAllowedError):
    """The requester or an author of the plan confirming its CRITICAL step done by hand."""


class NotEligibleToConfirmError(NotAllowedError):
    """Someone who could not have approved a step confirming it done by hand."""


class UnknownStepError(InvalidInputError):
    pass
