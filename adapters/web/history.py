"""*History*, for auditors: the timeline of any aggregate or correlation with each event's
hashes, `audit verify` as a job whose progress the page shows, the views as of a moment,
and a range of the history as CloudEvents JSON Lines. Every route needs the auditor role."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from adapters.api.context import aware
from adapters.audit_jobs import start_verify
from adapters.pages import history
from adapters.web.page import PREFIX, Viewer, Web
from domain.errors import InvalidInputError

NAV = ((f"{PREFIX}/history", "nav.history", "audit"),)
FILTERS = ("actor", "aggregate", "correlation", "type", "since", "until", "limit")


def moment(text: str | None, name: str) -> datetime | None:
    """A time from a form (empty: none given), without a zone taken as UTC."""
    if not text or not text.strip():
        return None
    try:
        return aware(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise InvalidInputError(f"{name} must be a time like 2026-12-01T14:00:00Z, not "
                                f"{text.strip()[:40]!r}") from None


def routes(web: Web) -> APIRouter:
    ui = web.router()

    def auditor(viewer: Viewer = Depends(web.viewer)) -> Viewer:
        web.uc.access.check(viewer.person, "audit")  # AccessDeniedError: the 403 page
        return viewer

    @ui.get("/history")
    def timeline(request: Request, viewer: Viewer = Depends(auditor),
                 actor: str | None = Query(None, max_length=100),
                 aggregate: str | None = Query(None, max_length=100),
                 correlation: str | None = Query(None, max_length=100),
                 type: str | None = Query(None, max_length=60),
                 since: str | None = Query(None, max_length=40),
                 until: str | None = Query(None, max_length=40),
                 limit: int = Query(50, ge=1, le=history.PAGE_LIMIT),
                 after: str | None = Query(None, max_length=60)) -> Response:
        shown = history.TimelineFilter(actor, aggregate, correlation, type,
                                       moment(since, "since"), moment(until, "until"),
                                       limit, after or None)
        page = history.timeline(web.uc, viewer.person, shown)
        given = {k: v for k, v in request.query_params.items() if k in FILTERS and v}
        more = (f"{PREFIX}/history?{urlencode({**given, 'after': page.next})}"
                if page.next else None)
        return web.page(request, viewer, "history.html", page=page, given=given, more=more,
                        span=history.span(web.uc, viewer.person))

    @ui.post("/history/verify")
    async def verify(request: Request, viewer: Viewer = Depends(auditor)) -> Response:
        await web.checked_form(request, viewer)
        job = start_verify(web.jobs, web.uc, viewer.person)
        return RedirectResponse(f"{PREFIX}/history/jobs/{job.id}", 303)

    @ui.get("/history/jobs/{job_id}")
    def job(job_id: str, request: Request, viewer: Viewer = Depends(auditor)) -> Response:
        return web.page(request, viewer, "audit_job.html", job=web.jobs.get(job_id))

    @ui.get("/history/as-of")
    def as_of(request: Request, viewer: Viewer = Depends(auditor),
              at: str | None = Query(None, max_length=40)) -> Response:
        when = moment(at, "as of")
        if when is None:
            raise InvalidInputError("give the moment to see, like 2026-12-01T14:00:00Z")
        return web.page(request, viewer, "history_as_of.html",
                        then=history.as_of(web.uc, viewer.person, when))

    @ui.get("/history/export")
    def export(viewer: Viewer = Depends(auditor),
               since: str | None = Query(None, max_length=40),
               until: str | None = Query(None, max_length=40)) -> Response:
        lines = web.uc.export(viewer.person, moment(until, "until"), moment(since, "since"))
        return StreamingResponse((line + "\n" for line in lines),
                                 media_type="application/x-ndjson", headers={
                                     "Content-Disposition":
                                     'attachment; filename="altlas-history.jsonl"'})

    return ui
