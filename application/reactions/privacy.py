"""Reactions of privacy: forgetting a person once someone else granted it."""

from __future__ import annotations

from application.core import PRIVACY, Reaction
from application.errors import NotFoundError
from application.reactions.common import Event, Ports, meta_of
from domain.approval import Approval
from domain.erasure import REQUESTED, Erasure


def settle_erasure(event: Event, r: Reaction, ports: Ports) -> None:
    """Granted: take the person out of the files altlas wrote in clear and destroy their
    key (application/privacy.py), then record PersonForgotten. That is the one effect a
    reaction has itself: it must come before the event that says it is done, and a crash
    between the two only sweeps the files and destroys nothing again when retried.
    Denied, expired or cancelled: the request is withdrawn and nothing is forgotten."""
    approval = r.get(Approval, event.originator_id)
    try:
        erasure = r.get(Erasure, approval.task_id)
    except NotFoundError:
        return
    if erasure.status != REQUESTED or erasure.approval_id != approval.id:
        return
    meta = meta_of(erasure, PRIVACY, event)
    if isinstance(event, Approval.Granted):
        swept = r.app.privacy.forget(erasure.subject) or []
        erasure.forget(approval.id, meta, [s.recorded() for s in swept])
    else:
        erasure.withdraw(approval.id, approval.decision_reason or approval.status, meta)
