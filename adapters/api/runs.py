"""Runs: their steps, steps reported from outside altlas, confirmations, completion."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from adapters.api.context import Context, as_of, filters
from adapters.api.downloads import cloudevents_file, last_file
from adapters.api.errors import ERRORS
from adapters.http_models import (
    NoteIn,
    Page,
    RunRow,
    StepFailedIn,
    StepSkippedIn,
    StepSucceededIn,
)
from application.snapshots import RunView
from application.use_cases import Filters
from domain.statuses import RunStatus


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.get("/runs", response_model=Page[RunRow], tags=["runs"])
    def list_runs(status: RunStatus | None = Query(None, description="Where a run is "
                                                   "(running, completed) or how it ended."),
                  page: Filters = Depends(filters), at: datetime | None = Depends(as_of),
                  who: str = Depends(person)) -> Any:
        """Runs, newest first."""
        return asdict(uc.runs(who, replace(page, status=status), at))

    @api.get("/runs/{run_id}", response_model=RunView, tags=["runs"])
    def get_run(run_id: str, who: str = Depends(person)) -> Any:
        """A run and each step's status, output and facts."""
        return uc.run(who, run_id)

    @api.get("/runs/{run_id}/last", tags=["runs"], response_class=Response,
             responses={200: {"content": {"application/json": {}},
                              "description": "The run as a .last document, to save"}})
    def run_last(run_id: str, who: str = Depends(person)) -> Response:
        """What the run did, step by step, as its .last document."""
        return last_file(uc, who, run_id)

    @api.get("/runs/{run_id}/cloudevents", tags=["runs"], response_class=Response,
             responses={200: {"content": {"application/x-ndjson": {}},
                              "description": "One CloudEvents JSON document per line"}})
    def run_cloudevents(run_id: str, who: str = Depends(person)) -> Response:
        """The events of the run, its task and its approvals, as CloudEvents JSON lines."""
        return cloudevents_file(uc, who, run_id)

    @api.post("/runs/{run_id}/steps/{step_id}/started", response_model=RunView, tags=["runs"])
    def step_started(run_id: str, step_id: str, who: str = Depends(person)) -> Any:
        """Report that a step is being run outside altlas (operators)."""
        return uc.report_step(who, run_id, step_id, "started")

    @api.post("/runs/{run_id}/steps/{step_id}/succeeded", response_model=RunView,
              tags=["runs"])
    def step_succeeded(run_id: str, step_id: str, body: StepSucceededIn,
                       who: str = Depends(person)) -> Any:
        """Report a step run outside altlas as succeeded (operators)."""
        return uc.report_step(who, run_id, step_id, "succeeded", **body.model_dump())

    @api.post("/runs/{run_id}/steps/{step_id}/failed", response_model=RunView, tags=["runs"])
    def step_failed(run_id: str, step_id: str, body: StepFailedIn,
                    who: str = Depends(person)) -> Any:
        """Report a step run outside altlas as failed (operators)."""
        return uc.report_step(who, run_id, step_id, "failed", **body.model_dump())

    @api.post("/runs/{run_id}/steps/{step_id}/skipped", response_model=RunView, tags=["runs"])
    def step_skipped(run_id: str, step_id: str, body: StepSkippedIn,
                     who: str = Depends(person)) -> Any:
        """Report a step as skipped (operators)."""
        return uc.report_step(who, run_id, step_id, "skipped", reason=body.reason,
                              cancelled=body.cancelled)

    @api.post("/runs/{run_id}/steps/{step_id}/confirmation", response_model=RunView,
              tags=["runs"])
    def confirm_step(run_id: str, step_id: str, body: NoteIn,
                     who: str = Depends(person)) -> Any:
        """Say you did a step altlas left to a person (CRITICAL or manual) by hand
        (approvers); the run succeeds once none is left."""
        return uc.confirm_step(who, run_id, step_id, body.note)

    @api.post("/runs/{run_id}/completion", response_model=RunView, tags=["runs"])
    def complete_run(run_id: str, who: str = Depends(person)) -> Any:
        """Complete a run whose steps are all decided (operators)."""
        return uc.complete_run(who, run_id)

    return api
