"""Reactions of runbooks: a version waiting for approval is published, or withdrawn."""

from __future__ import annotations

from application.core import RUNBOOKS, Reaction
from application.errors import NotFoundError
from application.reactions.common import Event, meta_of
from domain.approval import Approval
from domain.runbooks import Runbook


def settle_runbook(event: Event, approval: Approval, r: Reaction) -> None:
    """Granted: the version is published as its author wrote it. Denied, expired or
    cancelled: it is withdrawn, and the published version stays what runs."""
    try:
        runbook = r.get(Runbook, approval.task_id)
    except NotFoundError:
        return
    runbook.settle(approval.id, isinstance(event, Approval.Granted),
                   approval.decision_reason or approval.status, meta_of(runbook, RUNBOOKS, event))
