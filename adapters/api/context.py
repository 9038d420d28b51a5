"""What every router of the API is given, and the small pieces they share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import Query
from fastapi.responses import Response
from prometheus_client import CollectorRegistry

from adapters.audit_jobs import AuditJobs
from adapters.http_models import IsoTime
from application.ports import WorkerRegistry
from application.snapshots import ApprovalView
from application.use_cases import Filters, UseCases
from projections.cursors import PATTERN as CURSOR

T = TypeVar("T")


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


def listing(items: Iterable[Any], next_cursor: str | None = None) -> dict[str, Any]:
    """Every list route's one envelope, so a client pages them all alike."""
    return {"items": list(items), "next": next_cursor}


LOCATED: dict[int | str, dict[str, Any]] = {201: {"headers": {"Location": {
    "description": "Where to read what was made.", "schema": {"type": "string"}}}}}


def located(response: Response, path: str, body: T) -> T:
    """A 201's answer: its body, and in Location where to read what it made."""
    response.headers["Location"] = path
    return body


def asked(response: Response, approval: ApprovalView) -> ApprovalView:
    """A 201 that made an approval: Location is where to follow its votes."""
    return located(response, f"/approvals/{approval.id}", approval)


def png(data: bytes) -> Response:
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})


def as_of(at: IsoTime | None = Query(
        None, alias="as_of", description="Answer from the views as they were at this "
        "time (replayed once, then kept).")) -> datetime | None:
    return aware(at)


def filters(requester: str | None = Query(None, description="Only this person's."),
            since: IsoTime | None = Query(None, description="Only from this time on."),
            limit: int = Query(20, ge=1, le=500),
            cursor: str | None = Query(None, json_schema_extra={"pattern": CURSOR},
                                       description="`next` of the page before."),
            ) -> Filters:
    """What narrows a listing of tasks or runs, but its status (each route has its own)."""
    return Filters(None, requester, aware(since), limit, cursor)
