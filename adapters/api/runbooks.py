"""Runbooks: list and read them, run one with parameters, retire one; triggers: read them,
pause, resume or remove one, and take a webhook's delivery (publishing is the CLI's and
chat's: its rules are more than a JSON Schema can say)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Header, Path, Request
from fastapi.responses import Response

from adapters.api.auth import unavailable
from adapters.api.context import LOCATED, Context, listing, located
from adapters.api.errors import ERRORS, AuthError
from adapters.http_models import (
    RUNBOOK_NAME,
    DeliveryOut,
    Page,
    RunbookRunIn,
    SavedRunbookOut,
    SavedRunbookRow,
    TriggerOut,
    TriggerRow,
)
from application.access import UnknownSenderError
from application.errors import PolicyUnavailableError
from application.snapshots import TaskView

NAME = Path(pattern=RUNBOOK_NAME, description="The runbook's (or the trigger's) name.")
BODY = Body(description="What the sender posts; the trigger's own JSON Schema decides (422 "
            "naming the problem).")
DELIVERY = Header(alias="X-Delivery-Id", pattern=r"^[A-Za-z0-9._:-]{1,100}$",
                  description="The sender's id of this delivery: sent again, it runs nothing "
                  "new.")


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.get("/runbooks", response_model=Page[SavedRunbookRow], tags=["runbooks"])
    def list_runbooks(who: str = Depends(person)) -> Any:
        """Every runbook by name: its published version and the one waiting, if any."""
        return listing(uc.runbooks(who))

    @api.get("/runbooks/{name}", response_model=SavedRunbookOut, tags=["runbooks"])
    def get_runbook(name: str = NAME, who: str = Depends(person)) -> Any:
        """A runbook's published version (plan, parameters' schema) and the one waiting."""
        return uc.runbook(who, name)

    @api.post("/runbooks/{name}/runs", status_code=201, response_model=TaskView,
              tags=["runbooks"], responses=LOCATED)
    def run(body: RunbookRunIn, response: Response, name: str = NAME,
            who: str = Depends(person)) -> Any:
        """Run the published version: a task requested by you, its plan filled with the
        parameters, through the same gates as any request (you cannot approve its steps)."""
        task = uc.run_runbook(who, name, body.parameters, source="api")
        return located(response, f"/tasks/{task.id}", task)

    @api.post("/runbooks/{name}/retirement", response_model=SavedRunbookOut,
              tags=["runbooks"])
    def retire(name: str = NAME, who: str = Depends(person)) -> Any:
        """Retire the runbook (the role that publishes it): no more runs by hand or by a
        trigger (409). Runs waiting for approval keep their gates; a new version brings it
        back."""
        return uc.retire_runbook(who, name)

    @api.post("/triggers/{name}/pause", response_model=TriggerOut, tags=["runbooks"])
    def pause(name: str = NAME, who: str = Depends(person)) -> Any:
        """Pause the trigger (the role that adds triggers): it runs nothing, and firings
        due meanwhile are not run late."""
        return uc.change_trigger(who, name, "pause")

    @api.post("/triggers/{name}/resumption", response_model=TriggerOut, tags=["runbooks"])
    def resume(name: str = NAME, who: str = Depends(person)) -> Any:
        """Resume a paused trigger: a schedule next fires at its first time after now."""
        return uc.change_trigger(who, name, "resume")

    @api.post("/triggers/{name}/removal", response_model=TriggerOut, tags=["runbooks"])
    def remove(name: str = NAME, who: str = Depends(person)) -> Any:
        """Remove the trigger: it never runs again; its name and history stay."""
        return uc.change_trigger(who, name, "remove")

    @api.get("/triggers", response_model=Page[TriggerRow], tags=["runbooks"])
    def list_triggers(who: str = Depends(person)) -> Any:
        """Every trigger by name: what fires it, its next firing, firings and misses."""
        return listing(uc.triggers(who))

    @api.get("/triggers/{name}", response_model=TriggerOut, tags=["runbooks"])
    def get_trigger(name: str = NAME, who: str = Depends(person)) -> Any:
        """One trigger as recorded: its schedule, webhook or event, and its last run."""
        return uc.trigger(who, name)

    def webhook_sender(request: Request) -> str | None:
        return request.headers.get("authorization")

    @api.post("/triggers/{name}", status_code=201, response_model=DeliveryOut,
              tags=["runbooks"], responses={**LOCATED, 200: {
                  "model": DeliveryOut, "description": "This delivery id ran already"}})
    def deliver(response: Response, body: dict[str, Any] = BODY, delivery: str = DELIVERY,
                name: str = NAME, authorization: str | None = Depends(webhook_sender)) -> Any:
        """A webhook trigger's delivery, with the credential the policy gives the trigger
        (triggers.webhooks.NAME; a person's token is refused). Its body fills the runbook's
        parameters and a run is requested on the trigger owner's behalf."""
        try:
            task_id, replayed = uc.deliver(authorization, name, delivery, body)
        except UnknownSenderError as e:
            raise AuthError(401, e.code, str(e)) from None
        except PolicyUnavailableError as e:
            raise unavailable(e, "no delivery") from None
        if replayed:
            response.status_code = 200
        response.headers["Location"] = f"/tasks/{task_id}"
        return {"task_id": task_id, "delivery_id": delivery, "replayed": replayed}

    return api

