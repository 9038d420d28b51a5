"""Commands of approvals: votes, denials, expiry, refused attempts, cancellation."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from application.core import SCHEDULER, AppCore
from application.snapshots import ApprovalView
from domain.approval import Approval
from domain.base import EventMeta


class ApprovalCommands(AppCore):
    def cast_vote(self, approval_id: UUID, voter: str) -> ApprovalView:
        return self._on_approval(approval_id, voter,
                                 lambda a, meta: a.cast_vote(meta.actor, self.clock(), meta))

    def deny_approval(self, approval_id: UUID, voter: str, reason: str) -> ApprovalView:
        return self._on_approval(approval_id, voter, lambda a, meta: a.deny(
            meta.actor, reason, self.clock(), meta, seal=self.privacy.sealer(meta.actor)))

    def expire_approval(self, approval_id: UUID, *, actor: str = SCHEDULER) -> ApprovalView:
        return self._on_approval(approval_id, actor, lambda a, meta: a.expire(self.clock(), meta))

    def record_refused_attempt(self, approval_id: UUID, attempt: str, by: str,
                               reason: str) -> None:
        """Put a refused vote or denial on the record (at most one per person a minute);
        the approval stays as it was."""
        self._change(Approval, approval_id, by, lambda a, meta: a.record_refusal(
            attempt, meta.actor, reason, self.clock(), meta,
            seal=self.privacy.sealer(meta.actor)))

    def cancel_approval(self, approval_id: UUID, reason: str, *, actor: str) -> ApprovalView:
        return self._on_approval(approval_id, actor, lambda a, meta: a.cancel(
            reason, meta, seal=self.privacy.sealer(meta.actor)))

    def _on_approval(self, approval_id: UUID, actor: str,
                     change: Callable[[Approval, EventMeta], None]) -> ApprovalView:
        return self._shown(ApprovalView.of(self._change(Approval, approval_id, actor, change)))
