"""Reactions of decided approvals: each subject is settled where its area lives."""

from __future__ import annotations

from application.core import Reaction
from application.reactions.common import Event, Ports
from application.reactions.models import settle_activation, settle_training
from application.reactions.privacy import settle_erasure
from application.reactions.runbooks import settle_runbook
from application.reactions.runs import advance_run
from domain.approval import Approval, ApprovalSubject


def decided(event: Event, r: Reaction, ports: Ports) -> None:
    """A decided approval moves its run on, or settles the erasure or the change of model
    it was asked for."""
    approval = r.get(Approval, event.originator_id)
    match approval.subject:
        case ApprovalSubject.STEP:
            advance_run(event, r, ports)
        case ApprovalSubject.TRAINING:
            settle_training(event, approval, r, ports)
        case ApprovalSubject.REGISTRY:
            settle_activation(event, approval, r)
        case ApprovalSubject.ERASURE:
            settle_erasure(event, r, ports)
        case ApprovalSubject.RUNBOOK:
            settle_runbook(event, approval, r)
