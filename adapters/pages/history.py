"""What the auditors' history page shows: the timeline with each event's hash and the hash
before it, the moments the history spans, and the views as they were at one of them. Every
value comes from the use cases (the views and the store); the page keeps nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.use_cases import StateAt, UseCases
from domain.errors import InvalidInputError
from projections.cursors import decode_cursor, encode_cursor

PAGE_LIMIT = 500  # as the views' own listings: a page a browser renders at once


class MomentOutsideHistoryError(InvalidInputError):
    """An "as of" moment before the first event or after now: nothing to replay."""


@dataclass(frozen=True)
class TimelineFilter:
    """What the timeline may be narrowed to: the API's /timeline filters, the correlation,
    and ``after``, the cursor of the page before."""

    actor: str | None = None
    aggregate: str | None = None
    correlation: str | None = None
    type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    after: str | None = None


@dataclass(frozen=True)
class TimelinePage:
    rows: list[dict[str, Any]]
    next: str | None  # the cursor of the next page; None on the last


@dataclass(frozen=True)
class Span:
    """The moments the history spans: an "as of" outside them shows nothing true."""

    first: datetime | None
    last: datetime | None
    position: int  # the store's last


def timeline(uc: UseCases, who: str, f: TimelineFilter) -> TimelinePage:
    """One page of the timeline, oldest first, each event with its hash and prevhash as the
    store holds them (what `audit verify` recomputes)."""
    if not 1 <= f.limit <= PAGE_LIMIT:
        raise InvalidInputError(f"limit must be from 1 to {PAGE_LIMIT}")
    after = None
    if f.after:
        moment, key = decode_cursor(f.after)
        after = (moment, UUID(key).int)
    rows = uc.timeline(who, actor=f.actor or None, aggregate_id=f.aggregate or None,
                       correlation_id=f.correlation or None, type_name=f.type or None,
                       since=f.since, until=f.until, limit=f.limit + 1, after=after)
    more = len(rows) > f.limit
    rows = rows[:f.limit]
    shown = [{**row, **_hashes(uc, who, row["position"])} for row in rows]
    last = rows[-1] if more and rows else None
    cursor = None if last is None else encode_cursor(
        datetime.fromisoformat(last["time"]), str(UUID(int=last["position"])))
    return TimelinePage(shown, cursor)


def _hashes(uc: UseCases, who: str, position: int | None) -> dict[str, str | None]:
    """The recorded hash chain at ``position``, read from the store."""
    found = uc.events(who, (position or 1) - 1, 1) if position else []
    if not found or found[0].position != position:
        return {"hash": None, "prevhash": None}
    return {"hash": found[0].hash, "prevhash": found[0].prevhash}


def span(uc: UseCases, who: str) -> Span:
    """When the first and the last event were recorded, and how many positions lie between."""
    end = uc.position()
    first = uc.events(who, 0, 1)
    last = uc.events(who, end - 1, 1) if end else []
    return Span(first[0].timestamp if first else None, last[0].timestamp if last else None,
                end)


@dataclass(frozen=True)
class AsOf:
    """The views as they were at ``state.until``, and the history's span to say so."""

    state: StateAt
    span: Span


def as_of(uc: UseCases, who: str, moment: datetime) -> AsOf:
    """The open approvals and running runs at ``moment``; MomentOutsideHistoryError for a
    moment before the first event or after now, which no replay answers truly."""
    uc.access.check(who, "audit")  # before reading the span: an outsider learns nothing
    known = span(uc, who)
    if moment > uc.now():
        raise MomentOutsideHistoryError(
            f"{moment.isoformat()} is in the future: pick a moment up to now "
            f"({uc.now().isoformat(timespec='seconds')})")
    if known.first is None or moment < known.first:
        since = (f"the first event was recorded at {known.first.isoformat()}"
                 if known.first else "nothing is recorded yet")
        raise MomentOutsideHistoryError(
            f"nothing had happened by {moment.isoformat()}: {since}; pick a moment after it")
    return AsOf(uc.state_at(who, moment), known)
