"""An erasure: a person forgotten for good, once an approval allows it.

Events name people by a pseudonym and carry what they wrote sealed with the person's own key,
kept outside the events; forgetting destroys the key. The history keeps its hash chain, and
everything it holds about the person reads as erased from then on. One erasure per person:
its id comes from their pseudonym, so a second request finds the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from domain.base import AuditedAggregate, EventMeta
from domain.errors import ConflictError
from domain.people import erasure_id as erasure_id

IDLE, REQUESTED, FORGOTTEN = "idle", "requested", "forgotten"
MAX_REASON_CHARS = 500
class Erasure(AuditedAggregate):
    class Opened(AuditedAggregate.Created):
        type_name = "ErasureOpened"
        subject: str

    class Requested(AuditedAggregate.Event):
        """Someone asked to forget the subject; ``approval_id`` must be granted first."""

        type_name = "ErasureRequested"
        requester: str
        reason: str
        approval_id: UUID

        def apply(self, erasure: Erasure) -> None:
            erasure.status = REQUESTED
            erasure.approval_id = self.approval_id

    class Withdrawn(AuditedAggregate.Event):
        """The approval was denied, expired or cancelled: nothing was forgotten."""

        type_name = "ErasureWithdrawn"
        reason: str

        def apply(self, erasure: Erasure) -> None:
            erasure.status = IDLE
            erasure.approval_id = None

    class Forgotten(AuditedAggregate.Event):
        """The subject's key is destroyed: what they wrote and their name read as erased.
        ``files``: what was done to each file altlas wrote that held people's words (its kind
        and the outcome: rewritten, removed, left), so each decision is on record."""

        type_name = "PersonForgotten"
        subject: str
        files: list[str]

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Before files altlas wrote were swept, none was."""
            state["files"] = []

        def apply(self, erasure: Erasure) -> None:
            erasure.status = FORGOTTEN

    def __init__(self, subject: str, correlation_id: str) -> None:
        self.subject = subject
        self.correlation_id = correlation_id
        self.status = IDLE
        self.approval_id: UUID | None = None

    @classmethod
    def open(cls, subject: str, meta: EventMeta) -> Erasure:
        return cls._create_audited(cls.Opened, meta, id=erasure_id(subject), subject=subject)

    def request(self, requester: str, reason: str, approval_id: UUID, meta: EventMeta) -> None:
        """``reason`` as recorded (the application seals it with the requester's key)."""
        self._check_not_forgotten()
        if self.status == REQUESTED:
            raise ErasurePendingError(f"forgetting {self.subject} already waits for approval "
                                      f"{self.approval_id}; vote on that one")
        self._trigger(self.Requested, meta, requester=requester, reason=reason,
                      approval_id=approval_id)

    def forget(self, approval_id: UUID, meta: EventMeta, files: Sequence[str] = ()) -> None:
        """The approval of the request now pending was granted."""
        self._check_pending(approval_id)
        self._trigger(self.Forgotten, meta, subject=self.subject, files=list(files))

    def withdraw(self, approval_id: UUID, reason: str, meta: EventMeta) -> None:
        self._check_pending(approval_id)
        self._trigger(self.Withdrawn, meta, reason=reason[:MAX_REASON_CHARS])

    def _check_not_forgotten(self) -> None:
        if self.status == FORGOTTEN:
            raise AlreadyForgottenError(f"{self.subject} is forgotten already; nothing changed")

    def _check_pending(self, approval_id: UUID) -> None:
        self._check_not_forgotten()
        if self.status != REQUESTED or self.approval_id != approval_id:
            raise ErasureNotPendingError(
                f"no request to forget {self.subject} waits for approval {approval_id}")


class AlreadyForgottenError(ConflictError):
    pass


class ErasurePendingError(ConflictError):
    pass


class ErasureNotPendingError(ConflictError):
    pass
