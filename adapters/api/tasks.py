"""Tasks: ask for work, record or answer its plan, reject it, start its run."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends

from adapters.api.context import Context, as_of, filters
from adapters.api.errors import ERRORS
from adapters.http_models import (
    AnswerIn,
    ReasonIn,
    SegmentationIn,
    TaskIn,
    TaskPage,
)
from application.snapshots import RunView, TaskView
from application.use_cases import Filters


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.post("/tasks", status_code=201, response_model=TaskView, tags=["tasks"])
    def request_task(body: TaskIn, who: str = Depends(person)) -> Any:
        """Ask for work. altlas plans it and runs what its gates allow; follow it with
        GET /tasks/{id} and GET /runs?requester=…"""
        return uc.request_work(who, body.request, mode=body.mode, persona=body.persona,
                               environment=body.environment, chaos_level=body.chaos_level,
                               source="api")

    @api.get("/tasks", response_model=TaskPage, tags=["tasks"])
    def list_tasks(page: Filters = Depends(filters), at: datetime | None = Depends(as_of),
                   who: str = Depends(person)) -> Any:
        """Tasks, newest first; status is requested, segmented or rejected."""
        return asdict(uc.tasks(who, page, at))

    @api.get("/tasks/{task_id}", response_model=TaskView, tags=["tasks"])
    def get_task(task_id: str, who: str = Depends(person)) -> Any:
        """A task, its plan and each step's gate."""
        return uc.task(who, task_id)

    @api.post("/tasks/{task_id}/segmentation", response_model=TaskView, tags=["tasks"])
    def record_segmentation(task_id: str, body: SegmentationIn,
                            who: str = Depends(person)) -> Any:
        """Record a hand-written plan for one's own task, before altlas plans it."""
        return uc.record_plan(who, task_id, body.plan)

    @api.post("/tasks/{task_id}/answer", response_model=TaskView, tags=["tasks"])
    def answer_task(task_id: str, body: AnswerIn, who: str = Depends(person)) -> Any:
        """Answer what altlas asked about one's own task (its status is asking): the task
        is planned again with the answer."""
        return uc.answer(who, task_id, body.answer)

    @api.post("/tasks/{task_id}/rejection", response_model=TaskView, tags=["tasks"])
    def reject_task(task_id: str, body: ReasonIn, who: str = Depends(person)) -> Any:
        """Reject a task that is not planned yet (operators)."""
        return uc.reject_task(who, task_id, body.reason)

    @api.post("/tasks/{task_id}/runs", status_code=201, response_model=RunView, tags=["runs"])
    def start_run(task_id: str, who: str = Depends(person)) -> Any:
        """Start a planned task's run by hand (operators; altlas starts it by itself)."""
        return uc.start_run(who, task_id)

    return api
