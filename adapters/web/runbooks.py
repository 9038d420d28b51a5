"""*Runbooks*: every runbook with a form for its parameters, and every trigger with what fires
it. Running, retiring, pausing, resuming and removing go to the same use cases as the CLI,
chat and the API, so their roles, gates and refusals are theirs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from adapters.http_models import RUNBOOK_NAME
from adapters.web.page import PREFIX, Viewer, Web
from adapters.web.text import t
from application.ids import run_id_of

NAV = ((f"{PREFIX}/runbooks", "nav.runbooks"),)
NAME = Path(pattern=RUNBOOK_NAME)
PARAM = "p."  # a parameter's field in the run form: never mistaken for csrf
CHANGES = {"pause": "pause", "resumption": "resume", "removal": "remove"}


def routes(web: Web) -> APIRouter:
    ui = web.router()

    def show(request: Request, viewer: Viewer, *, status: int = 200,
             notice: str | None = None, refused: str | None = None,
             ran: dict[str, str] | None = None) -> Response:
        return web.page(request, viewer, "runbooks.html", status=status,
                        runbooks=web.uc.runbooks(viewer.person),
                        triggers=web.uc.triggers(viewer.person),
                        choices=web.uc.parameter_choices(viewer.person),
                        may_run=web.may(viewer, "run_runbook"),
                        may_publish=web.may(viewer, "publish_runbook"),
                        may_schedule=web.may(viewer, "schedule_runbook"),
                        notice=notice, refused=refused, ran=ran,
                        run_of=lambda task_id: str(run_id_of(UUID(task_id))))

    def acted(request: Request, viewer: Viewer, act: Callable[[], Any],
              said: Callable[[Any], str]) -> Response:
        """The page again, saying what was done or why it was refused (nothing was)."""
        return web.acted(act, functools.partial(show, request, viewer), lambda done: {
            "notice": said(done),
            "ran": done if isinstance(done, dict) and "run" in done else None})

    @ui.get("/runbooks")
    def runbooks(request: Request, viewer: Viewer = Depends(web.viewer)) -> Response:
        return show(request, viewer)

    @ui.post("/runbooks/{name}/runs")
    async def run(request: Request, name: str = NAME,
                  viewer: Viewer = Depends(web.viewer)) -> Response:
        form = await web.checked_form(request, viewer)
        values = {k[len(PARAM):]: str(v).strip() for k, v in form.items()
                  if k.startswith(PARAM)}

        def requested() -> dict[str, str]:
            task = web.uc.run_runbook(viewer.person, name, values, source="ui")
            return {"task": task.id, "run": str(run_id_of(UUID(task.id)))}

        return acted(request, viewer, requested, lambda done: t(
            viewer.locale, "runbooks.ran", name=name, task=done["task"][:8]))

    @ui.post("/runbooks/{name}/retirement")
    async def retire(request: Request, name: str = NAME,
                     viewer: Viewer = Depends(web.viewer)) -> Response:
        await web.checked_form(request, viewer)
        return acted(request, viewer, lambda: web.uc.retire_runbook(viewer.person, name),
                     lambda _: t(viewer.locale, "runbooks.retired_now", name=name))

    @ui.post("/triggers/{name}/{change}")
    async def change(request: Request, change: str, name: str = NAME,
                     viewer: Viewer = Depends(web.viewer)) -> Response:
        await web.checked_form(request, viewer)
        if change not in CHANGES:
            return show(request, viewer, status=404,
                        refused=t(viewer.locale, "error.not_found"))
        return acted(request, viewer,
                     lambda: web.uc.change_trigger(viewer.person, name, CHANGES[change]),
                     lambda done: t(viewer.locale, f"triggers.{done['status']}", name=name))

    return ui
