"""What every router of the API is given, and the small pieces they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Query
from fastapi.responses import Response
from prometheus_client import CollectorRegistry

from adapters.audit_jobs import AuditJobs
from adapters.http_models import IsoTime
from application.ports import WorkerRegistry
from application.use_cases import Filters, UseCases


@dataclass(frozen=True)
class Context:
    """The use cases and the few things beside them that some routes read."""

    uc: UseCases
    person: Callable[..., str]  # the dependency that turns a bearer token into a person
    jobs: AuditJobs
    instance: str
    workers: WorkerRegistry | None
    store_check: Callable[[], str | None] | None
    metrics: CollectorRegistry | None


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC, the zone every event is recorded in."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def png(data: bytes) -> Response:
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})


def as_of(at: IsoTime | None = Query(
        None, alias="as_of", description="Answer from the views as they were at this "
        "time (replayed once, then kept).")) -> datetime | None:
    return aware(at)


def filters(status: str | None = Query(None, description="Only this status."),
            requester: str | None = Query(None, description="Only this person's."),
            since: IsoTime | None = Query(None, description="Only from this time on."),
            limit: int = Query(20, ge=1, le=500),
            cursor: str | None = Query(None, description="`next` of the page before."),
            ) -> Filters:
    return Filters(status, requester, aware(since), limit, cursor)
