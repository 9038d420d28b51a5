"""Use cases of approvals: votes, denials, the queue, the cards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.presenters import CardModel
from application.snapshots import ApprovalView
from application.use_cases.base import UseCasesBase
from domain.errors import DomainError


def may_still_vote(approval: dict[str, Any], who: str) -> bool:
    """Whether ``who`` could still vote on a row of the approval queue."""
    return (who in approval["eligible"]
            and who not in (approval["excluded"] or [approval["requester"]])
            and who not in approval["votes"])


class ApprovalUseCases(UseCasesBase):
    def vote(self, who: str, approval_ref: str) -> ApprovalView:
        """A vote; the one that reaches the quorum grants the approval, and the reactions
        take the run on. A refused vote is put on the record and raised."""
        approval_id = self.resolve(approval_ref, "approval")
        return self._decide(who, approval_id, "approve",
                            lambda: self.app.cast_vote(approval_id, who))

    def deny(self, who: str, approval_ref: str, reason: str) -> ApprovalView:
        approval_id = self.resolve(approval_ref, "approval")
        return self._decide(who, approval_id, "deny",
                            lambda: self.app.deny_approval(approval_id, who, reason))

    def _decide(self, who: str, approval_id: UUID, attempt: str,
                act: Callable[[], ApprovalView]) -> ApprovalView:
        try:
            self.access.check(who, "vote" if attempt == "approve" else "deny")
            return act()
        except DomainError as e:
            self.app.record_refused_attempt(approval_id, attempt, who, str(e))
            raise

    def cancel_approval(self, who: str, approval_ref: str, reason: str) -> ApprovalView:
        approval_id = self.resolve(approval_ref, "approval")
        self.access.check(who, "cancel", owner=self.app.get_approval(approval_id).requester)
        return self.app.cancel_approval(approval_id, reason, actor=who)

    def expire_approval(self, who: str, approval_ref: str) -> ApprovalView:
        self.access.check(who, "expire")
        return self.app.expire_approval(self.resolve(approval_ref, "approval"), actor=who)

    def waiting_for(self, who: str) -> list[dict[str, Any]]:
        """Open approvals this person could still vote on."""
        return [a for a in self.open_approvals(who) if may_still_vote(a, who)]

    def card(self, approval_id: UUID) -> CardModel:
        approval = self.app.get_approval(approval_id)
        outcome = self.app.get_run(UUID(approval.run_id)).outcome if approval.run_id else None
        return CardModel.of(approval, self.app.get_task(UUID(approval.task_id)), outcome,
                            self.app.policy)
