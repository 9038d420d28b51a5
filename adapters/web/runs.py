"""Tasks and runs: the listings with the API's filters and pages, and a run with its plan
drawn as a graph, its approvals, its timeline and its documents to save; the graph is live."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response

from adapters.api.context import filters
from adapters.api.downloads import alt_file, cloudevents_file, last_file
from adapters.pages.runs import run_page
from adapters.web.page import PREFIX, Viewer, Web, fragment
from application.use_cases import Filters, Page
from domain.statuses import RUN_STATUSES, TASK_STATUSES, RunStatus, TaskStatus

NAV = ((f"{PREFIX}/runs", "nav.runs"), (f"{PREFIX}/tasks", "nav.tasks"))
LIVE = "run"


def routes(web: Web) -> APIRouter:
    ui = web.router()

    def listing(request: Request, viewer: Viewer, template: str, found: Page,
                statuses: tuple[str, ...]) -> Response:
        return web.page(request, viewer, template, items=found.items,
                        next=_next(request, found.next), statuses=statuses,
                        chosen=_chosen(request))

    @ui.get("/tasks")
    def task_list(request: Request, status: TaskStatus | None = Query(None),
                  page: Filters = Depends(filters),
                  viewer: Viewer = Depends(web.viewer)) -> Response:
        return listing(request, viewer, "tasks.html",
                       web.uc.tasks(viewer.person, replace(page, status=status)), TASK_STATUSES)

    @ui.get("/runs")
    def run_list(request: Request, status: RunStatus | None = Query(None),
                 page: Filters = Depends(filters),
                 viewer: Viewer = Depends(web.viewer)) -> Response:
        return listing(request, viewer, "runs.html",
                       web.uc.runs(viewer.person, replace(page, status=status)), RUN_STATUSES)

    @ui.get("/runs/{run_id}")
    def run(request: Request, run_id: str, viewer: Viewer = Depends(web.viewer)) -> Response:
        position = web.live.current() if web.live is not None else 0
        return web.page(request, viewer, "run.html", page=run_page(web.uc, viewer.person,
                                                                   run_id), position=position)

    @ui.get("/runs/{run_id}/stream")
    def run_stream(request: Request, run_id: str, viewer: Viewer = Depends(web.viewer),
                   after: int | None = Query(None, ge=0, le=2**63 - 1),
                   last_event_id: str | None = Header(None)) -> Response:
        """The run's graph and steps as they change."""
        whole = web.uc.run(viewer.person, run_id).id  # a 404 page before any stream

        def part(wanted: int) -> Awaitable[tuple[int, str]]:
            """Drawn once for everyone of these roles and language: nothing else of the
            viewer is on it."""
            return web.shared(("run", whole, viewer.roles, viewer.locale), wanted,
                              lambda: fragment("run_live.html", viewer,
                                               page=run_page(web.uc, viewer.person, whole)))

        return web.stream(request, viewer, part, LIVE, after, last_event_id)

    @ui.get("/runs/{run_id}/last")
    def run_last(run_id: str, viewer: Viewer = Depends(web.viewer)) -> Response:
        return last_file(web.uc, viewer.person, run_id)

    @ui.get("/runs/{run_id}/cloudevents")
    def run_cloudevents(run_id: str, viewer: Viewer = Depends(web.viewer)) -> Response:
        return cloudevents_file(web.uc, viewer.person, run_id)

    @ui.get("/tasks/{task_id}/alt")
    def task_alt(task_id: str, viewer: Viewer = Depends(web.viewer)) -> Response:
        return alt_file(web.uc, viewer.person, task_id)

    return ui


def _chosen(request: Request) -> dict[str, str]:
    """The filters as asked, to show them in the form again."""
    return {k: v for k, v in request.query_params.items() if k != "cursor"}


def _next(request: Request, cursor: str | None) -> str | None:
    """The next page's address: the same filters, from where this page ended."""
    if cursor is None:
        return None
    return f"{request.url.path}?{urlencode({**_chosen(request), 'cursor': cursor})}"
