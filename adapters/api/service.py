"""Health, workers and metrics: what runs, and whether the store can be read."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.api.context import Context, listing
from adapters.api.errors import ERRORS
from adapters.http_models import (
    HealthOut,
    Page,
    WorkerOut,
)


def router(ctx: Context) -> APIRouter:
    api = APIRouter(responses=ERRORS)
    person = ctx.person
    uc = ctx.uc
    workers = ctx.workers
    store_check = ctx.store_check
    metrics = ctx.metrics

    @api.get("/healthz", response_model=HealthOut, tags=["service"], responses={
        503: {"description": "The event store cannot be read, or is behind what the views "
              "and the checkpoints beside them saw (events were lost): `reason` says which"}})
    def healthz() -> Any:
        """Alive; how far the event store has got and how many workers are running. 503
        when the store is unreadable or lost events (checked at most every 1.5 s)."""
        problem = store_check() if store_check is not None else None
        if problem is not None:
            return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
        live = len(workers.live()) if workers is not None else 0
        return HealthOut(status="ok", last_position=uc.position(), workers=live)

    @api.get("/workers", response_model=Page[WorkerOut], tags=["service"])
    def list_workers(who: str = Depends(person)) -> Any:
        """The workers whose lease is current: they react to events and run steps."""
        return listing(asdict(w) for w in (workers.live() if workers is not None else []))

    if metrics is not None:
        @api.get("/metrics", include_in_schema=False)
        def prometheus_metrics() -> Response:
            return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    return api
