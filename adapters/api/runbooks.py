"""Runbooks: list and read them, run one with parameters (publishing is the CLI's and chat's:
its rules are more than a JSON Schema can say)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from adapters.api.context import LOCATED, Context, located
from adapters.api.errors import ERRORS
from adapters.http_models import (
    RUNBOOK_NAME,
    RunbookRunIn,
    SavedRunbookOut,
    SavedRunbookRow,
)
from application.snapshots import TaskView

NAME = Path(pattern=RUNBOOK_NAME, description="The runbook's name.")


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.get("/runbooks", response_model=list[SavedRunbookRow], tags=["runbooks"])
    def list_runbooks(who: str = Depends(person)) -> Any:
        """Every runbook by name: its published version and the one waiting, if any."""
        return uc.runbooks(who)

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

    return api
