"""Approvals: the queue, votes, denials, expiry and cancellation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends

from adapters.api.context import Context, as_of, listing
from adapters.api.errors import ERRORS
from adapters.http_models import (
    Page,
    QueuedApproval,
    ReasonIn,
)
from application.snapshots import ApprovalView


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.get("/approvals", response_model=Page[QueuedApproval], tags=["approvals"])
    def approval_queue(at: datetime | None = Depends(as_of),
                       who: str = Depends(person)) -> Any:
        """Open approvals, soonest to expire first, with who voted and the time left."""
        return listing(uc.open_approvals(who, at))

    @api.get("/approvals/{approval_id}", response_model=ApprovalView, tags=["approvals"])
    def get_approval(approval_id: str, who: str = Depends(person)) -> Any:
        """An approval: its step, who may vote, who has, and the time left."""
        return uc.approval(who, approval_id)

    @api.post("/approvals/{approval_id}/votes", response_model=ApprovalView, tags=["approvals"])
    def cast_vote(approval_id: str, who: str = Depends(person)) -> Any:
        """Approve. The vote that reaches the quorum grants it, and the run moves on. A
        refused vote is on the record and changes nothing."""
        return uc.vote(who, approval_id)

    @api.post("/approvals/{approval_id}/denial", response_model=ApprovalView,
              tags=["approvals"])
    def deny(approval_id: str, body: ReasonIn, who: str = Depends(person)) -> Any:
        """Deny, with a reason: the step and what needs it are cancelled."""
        return uc.deny(who, approval_id, body.reason)

    @api.post("/approvals/{approval_id}/expiry", response_model=ApprovalView,
              tags=["approvals"])
    def expire(approval_id: str, who: str = Depends(person)) -> Any:
        """Expire an approval whose time is up (operators; altlas does it by itself)."""
        return uc.expire_approval(who, approval_id)

    @api.post("/approvals/{approval_id}/cancellation", response_model=ApprovalView,
              tags=["approvals"])
    def cancel(approval_id: str, body: ReasonIn, who: str = Depends(person)) -> Any:
        """The person who asked for the change (or an operator) withdraws the request."""
        return uc.cancel_approval(who, approval_id, body.reason)

    return api
