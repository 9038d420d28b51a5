"""Tasks: ask for work, record or answer its plan, reject it, start its run."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from adapters.api.context import LOCATED, Context, as_of, filters, located
from adapters.api.downloads import alt_file
from adapters.api.errors import ERRORS
from adapters.http_models import (
    AnswerIn,
    Page,
    ReasonIn,
    SegmentationIn,
    TaskIn,
    TaskRow,
)
from application.snapshots import RunView, TaskView
from application.use_cases import Filters
from domain.statuses import TaskStatus


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person

    @api.post("/tasks", status_code=201, response_model=TaskView, tags=["tasks"],
              responses=LOCATED)
    def request_task(body: TaskIn, response: Response, who: str = Depends(person)) -> Any:
        """Ask for work. altlas plans it and runs what its gates allow; follow it at its
        Location (GET /tasks/{id}, whose run_id shows once its run started)."""
        task = uc.request_work(who, body.request, mode=body.mode, persona=body.persona,
                               environment=body.environment, chaos_level=body.chaos_level,
                               source="api")
        return located(response, f"/tasks/{task.id}", task)

    @api.get("/tasks", response_model=Page[TaskRow], tags=["tasks"])
    def list_tasks(status: TaskStatus | None = Query(None, description="Only this status."),
                   page: Filters = Depends(filters), at: datetime | None = Depends(as_of),
                   who: str = Depends(person)) -> Any:
        """Tasks, newest first, each with its run once it has one."""
        return asdict(uc.tasks(who, replace(page, status=status), at))

    @api.get("/tasks/{task_id}", response_model=TaskView, tags=["tasks"])
    def get_task(task_id: str, who: str = Depends(person)) -> Any:
        """A task, its plan and each step's gate."""
        return uc.task(who, task_id)

    @api.get("/tasks/{task_id}/alt", tags=["tasks"], response_class=Response,
             responses={200: {"content": {"application/json": {}},
                              "description": "The plan as an .alt document, to save"}})
    def task_alt(task_id: str, who: str = Depends(person)) -> Response:
        """The task's plan as an .alt document, with the gate the policy chose per step."""
        return alt_file(uc, who, task_id)

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

    @api.post("/tasks/{task_id}/runs", status_code=201, response_model=RunView, tags=["runs"],
              responses=LOCATED)
    def start_run(task_id: str, response: Response, who: str = Depends(person)) -> Any:
        """Start a planned task's run by hand (operators; altlas starts it by itself)."""
        run = uc.start_run(who, task_id)
        return located(response, f"/runs/{run.id}", run)

    return api
