"""An approval: the quorum a gated step needs before it may run (ARCHITECTURE.md §2)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.base import AuditedAggregate, EventMeta, Seal, as_written, event_id
from domain.errors import ConflictError, InvalidInputError, NotAllowedError

OPEN, GRANTED, DENIED, EXPIRED, CANCELLED = "open", "granted", "denied", "expired", "cancelled"
MAX_REASON_CHARS = 500
REFUSAL_WINDOW = timedelta(minutes=1)


class ApprovalSubject(StrEnum):
    """What an approval decides: every front and reaction dispatches on this, never on the
    shape of the ids it carries."""

    STEP = "step"          # a gated step of a task's run (task_id, run_id, step_id)
    TRAINING = "training"  # a LoRA training (task_id is the training's id)
    ERASURE = "erasure"    # forgetting a person (task_id is the erasure's id)
    REGISTRY = "registry"  # a change of the model that plans (task_id is the registry's id)
    RUNBOOK = "runbook"    # a runbook's version with gated steps (task_id is the runbook's id)


class Approval(AuditedAggregate):
    class Requested(AuditedAggregate.Created):
        type_name = "ApprovalRequested"
        class_version = 3
        subject: str
        task_id: UUID
        run_id: UUID | None
        step_id: str
        risk: str
        environment: str
        requester: str
        eligible: list[str]
        required: int
        expires_at: datetime
        reason: str
        excluded: list[str]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Before 0.3 only the requester was kept from approving."""
            state["excluded"] = [state["requester"]]

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            """Before 0.9 the subject was told by the ids: a run's step, or the step names
            the installation's own approvals used."""
            state["subject"] = (
                ApprovalSubject.STEP if state["run_id"] is not None
                else ApprovalSubject.TRAINING if state["step_id"] == "train"
                else ApprovalSubject.ERASURE if state["step_id"] == "forget"
                else ApprovalSubject.REGISTRY).value

    class VoteCast(AuditedAggregate.Event):
        type_name = "ApprovalVoteCast"
        voter: str

        def apply(self, approval: Approval) -> None:
            approval.votes.append(self.voter)

    class Granted(AuditedAggregate.Event):
        type_name = "ApprovalGranted"
        approvers: list[str]

        def apply(self, approval: Approval) -> None:
            approval.status = GRANTED

    class Denied(AuditedAggregate.Event):
        type_name = "ApprovalDenied"
        voter: str
        reason: str

        def apply(self, approval: Approval) -> None:
            approval.status = DENIED
            approval.decision_reason = f"denied by {self.voter}: {self.reason}"

    class Expired(AuditedAggregate.Event):
        type_name = "ApprovalExpired"

        def apply(self, approval: Approval) -> None:
            approval.status = EXPIRED
            approval.decision_reason = "expired before enough approvals"

    class AttemptRefused(AuditedAggregate.Event):
        """Someone tried to vote or deny and was refused: kept for the audit timeline;
        the approval itself does not change."""

        type_name = "ApprovalAttemptRefused"
        class_version = 2
        attempt: str
        by: str
        reason: str
        at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Before 0.3 a refusal's time was only the event's own."""
            state["at"] = state["timestamp"]

        def apply(self, approval: Approval) -> None:
            approval.refused_at[self.by] = self.at

    class Cancelled(AuditedAggregate.Event):
        type_name = "ApprovalCancelled"
        reason: str

        def apply(self, approval: Approval) -> None:
            approval.status = CANCELLED
            approval.decision_reason = f"cancelled: {self.reason}"

    def __init__(
        self, subject: str, task_id: UUID, run_id: UUID | None, step_id: str, risk: str,
        environment: str, requester: str, eligible: list[str], required: int,
        expires_at: datetime, reason: str, excluded: list[str], correlation_id: str,
    ) -> None:
        self.subject = ApprovalSubject(subject)
        self.task_id = task_id
        self.run_id = run_id
        self.step_id = step_id
        self.risk = risk
        self.environment = environment
        self.requester = requester
        self.eligible = eligible
        self.required = required
        self.expires_at = expires_at
        self.reason = reason
        self.excluded = excluded
        self.correlation_id = correlation_id
        self.refused_at: dict[str, datetime] = {}  # the latest refusal on record, by person
        self.votes: list[str] = []
        self.status = OPEN
        self.decision_reason: str | None = None

    @classmethod
    def request(
        cls, *, subject: ApprovalSubject, task_id: UUID, run_id: UUID | None, step_id: str,
        risk: str, environment: str, requester: str, eligible: frozenset[str], required: int,
        expires_at: datetime, reason: str, meta: EventMeta, authors: frozenset[str] = frozenset(),
    ) -> Approval:
        """``authors``: who wrote or edited the plan; like the requester, none of them may
        approve it."""
        if (subject is ApprovalSubject.STEP) != (run_id is not None):
            raise InvalidInputError("only a run's step has a run to approve")
        if required < 1:
            raise InvalidInputError("an approval needs a quorum of at least 1")
        excluded = {requester, *authors}
        counting = eligible - excluded
        if len(counting) < required:
            raise QuorumUnreachableError(
                f"{risk} in {environment} needs {required} approvals but only {len(counting)} "
                "eligible people besides who asked for and wrote the plan exist; fix the "
                "policy's approver groups"
            )
        return cls._create_audited(
            cls.Requested, meta, subject=subject.value, task_id=task_id, run_id=run_id,
            step_id=step_id, risk=risk, environment=environment, requester=requester,
            eligible=sorted(eligible), required=required, expires_at=expires_at, reason=reason,
            excluded=sorted(excluded),
        )

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def remaining(self) -> int:
        return max(self.required - len(self.votes), 0)

    def cast_vote(self, voter: str, now: datetime, meta: EventMeta) -> None:
        """Count a vote; the vote that reaches the quorum also grants the approval."""
        self._check_can_decide(voter, now)
        if voter in self.votes:
            raise DuplicateVoteError(f"{voter} already approved this request; one vote per person")
        self._trigger(self.VoteCast, meta, voter=voter)
        if len(self.votes) >= self.required:
            caused_by = EventMeta(meta.actor, meta.correlation_id, event_id(self.id, self.version))
            self._trigger(self.Granted, caused_by, approvers=list(self.votes))

    def deny(self, voter: str, reason: str, now: datetime, meta: EventMeta,
             seal: Seal = as_written) -> None:
        self._check_can_decide(voter, now)
        text = reason.strip()
        if not text:
            raise InvalidInputError("a denial needs a reason")
        self._trigger(self.Denied, meta, voter=voter, reason=seal(text[:MAX_REASON_CHARS]))

    def expire(self, now: datetime, meta: EventMeta) -> None:
        self._check_open()
        if now < self.expires_at:
            raise NotYetExpiredError(
                f"approval {self.id} expires at {self.expires_at.isoformat()}, not yet"
            )
        self._trigger(self.Expired, meta)

    def record_refusal(self, attempt: str, by: str, reason: str, now: datetime,
                       meta: EventMeta, seal: Seal = as_written) -> None:
        """Put a refused attempt on the record, at most one per person a minute (someone
        clicking a hundred times must not flood the history)."""
        last = self.refused_at.get(by)
        if last is not None and now - last < REFUSAL_WINDOW:
            return
        self._trigger(self.AttemptRefused, meta, attempt=attempt, by=by,
                      reason=seal(reason[:MAX_REASON_CHARS]), at=now)

    def cancel(self, reason: str, meta: EventMeta, seal: Seal = as_written) -> None:
        self._check_open()
        text = reason.strip()
        if not text:
            raise InvalidInputError("a cancellation needs a reason")
        self._trigger(self.Cancelled, meta, reason=seal(text[:MAX_REASON_CHARS]))

    def _check_open(self) -> None:
        if self.status != OPEN:
            raise ApprovalAlreadyDecidedError(f"approval {self.id} is already {self.status}")

    def _check_can_decide(self, voter: str, now: datetime) -> None:
        self._check_open()
        if now >= self.expires_at:
            raise ApprovalExpiredError(
                f"approval {self.id} expired at {self.expires_at.isoformat()}; ask for a new one"
            )
        if voter == self.requester:
            raise RequesterCannotApproveError(
                f"{voter} asked for this change and cannot approve or deny it"
            )
        if voter in self.excluded:
            raise AuthorCannotApproveError(
                f"{voter} wrote this plan or chose what it does, and cannot approve or deny it"
            )
        if voter not in self.eligible:
            raise NotEligibleError(
                f"{voter} is not an approver for {self.risk} in {self.environment}"
            )


class ApprovalAlreadyDecidedError(ConflictError):
    pass


class ApprovalExpiredError(ConflictError):
    pass


class NotYetExpiredError(ConflictError):
    pass


class DuplicateVoteError(ConflictError):
    pass


class RequesterCannotApproveError(NotAllowedError):
    pass


class AuthorCannotApproveError(NotAllowedError):
    pass


class NotEligibleError(NotAllowedError):
    pass


class QuorumUnreachableError(InvalidInputError):
    pass
