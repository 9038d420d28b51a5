"""The history: timeline, events, verification jobs, replay and export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, StreamingResponse

from adapters.api.context import Context, aware, listing
from adapters.api.errors import ERRORS
from adapters.audit_jobs import start_verify
from adapters.http_models import (
    AuditJobOut,
    ErrorOut,
    EventOut,
    IsoTime,
    Page,
    ReplayIn,
    ReplayOut,
    TimelineEntry,
)


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    uc = ctx.uc
    person = ctx.person
    jobs = ctx.jobs

    @api.get("/timeline", response_model=Page[TimelineEntry], tags=["audit"])
    def audit_timeline(
        actor: str | None = None, aggregate_id: str | None = None,
        correlation_id: str | None = Query(None, description="everything done for one "
                                           "request"),
        type: str | None = Query(None, description="event type, e.g. ApprovalGranted"),
        since: IsoTime | None = None, until: IsoTime | None = None,
        limit: int = Query(100, ge=1, le=10_000), who: str = Depends(person),
    ) -> Any:
        """Every event with its actor, oldest first, filtered."""
        return listing(uc.timeline(who, actor=actor, aggregate_id=aggregate_id,
                                   correlation_id=correlation_id, type_name=type,
                                   since=aware(since), until=aware(until), limit=limit))

    @api.get("/events", response_model=Page[EventOut], tags=["audit"])
    def list_events(after: int = Query(0, ge=0, le=2**63 - 1),  # the store's largest id
                    limit: int = Query(100, ge=1, le=1000),
                    who: str = Depends(person)) -> Any:
        """Recorded events in global order, with their hashes."""
        return listing(r.to_dict() for r in uc.events(who, after, limit))

    @api.get("/audit/verify", response_model=AuditJobOut, status_code=202, tags=["audit"],
             responses={409: {"model": ErrorOut, "description": "Another audit job runs"}})
    def audit_verify(kafka: bool = False, who: str = Depends(person)) -> JSONResponse:
        """Start verifying every hash chain and checkpoint, from the store (and the topic
        with kafka=true), as a job: 202 with its id and a Location to ask; asked again while
        it runs, the same job. Its result (200 when done) is a VerifyOut."""
        job = start_verify(jobs, uc, who, kafka)
        return JSONResponse(job.to_dict(), status_code=202,
                            headers={"Location": f"/audit/jobs/{job.id}"})

    @api.get("/audit/jobs/{job_id}", response_model=AuditJobOut, tags=["audit"])
    def audit_job(job_id: str, who: str = Depends(person)) -> Any:
        """An audit job: running (with how many events it checked of how many), done (with
        its result: ok and one report per source) or failed (with why)."""
        uc.can_verify(who, starting=False)
        return jobs.get(job_id).to_dict()

    @api.post("/audit/replay", response_model=ReplayOut, tags=["audit"])
    def audit_replay(body: ReplayIn, who: str = Depends(person)) -> Any:
        """Rebuild the views as of a time into a separate database (admins): a fresh
        database or schema, an earlier replay or a new file in the data directory; the live
        views and the store are refused (422), whatever the URL looks like."""
        return uc.replay(who, aware(body.until) or body.until, body.into)

    @api.get("/audit/export", tags=["audit"], response_class=StreamingResponse,
             responses={200: {"content": {"application/x-ndjson": {}},
                              "description": "One CloudEvents JSON document per line"}})
    def audit_export(since: IsoTime | None = None, until: IsoTime | None = None,
                     who: str = Depends(person)) -> StreamingResponse:
        """The history (from ``since`` to ``until``) as CloudEvents JSON lines."""
        lines = (line + "\n" for line in uc.export(who, aware(until), aware(since)))
        return StreamingResponse(lines, media_type="application/x-ndjson")

    return api
