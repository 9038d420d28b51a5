"""The recorded history, read as it was stored: for listing, export and verification."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from eventsourcing.utils import resolve_topic

from altlas.domain.base import event_id
from altlas.domain.hashchain import ChainBreak, RecordedEvent, verify_chain

PAGE = 500


@dataclass(frozen=True)
class EventRecord:
    position: int
    aggregate_id: UUID
    version: int
    type_name: str
    state: dict[str, Any]

    @property
    def id(self) -> str:
        return event_id(self.aggregate_id, self.version)

    @property
    def timestamp(self) -> datetime:
        value = self.state["timestamp"]
        assert isinstance(value, datetime)
        return value

    @property
    def actor(self) -> str:
        return str(self.state.get("actor", ""))

    @property
    def hash(self) -> str:
        return str(self.state.get("hash", ""))

    @property
    def payload(self) -> dict[str, Any]:
        """The event's own fields, without the envelope every event shares."""
        envelope = {"originator_id", "originator_version", "originator_topic", "timestamp",
                    "actor", "correlation_id", "causation_id", "prevhash", "hash",
                    "class_version"}
        return {k: v for k, v in self.state.items() if k not in envelope}


    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the envelope every event shares, and its own data."""
        return {
            "position": self.position, "id": self.id, "type": self.type_name,
            "aggregate_id": str(self.aggregate_id), "version": self.version,
            "time": self.timestamp.isoformat(), "actor": self.actor,
            "correlation_id": self.state.get("correlation_id"),
            "causation_id": self.state.get("causation_id"),
            "prevhash": self.state.get("prevhash"), "hash": self.hash,
            "data": _jsonable(self.payload),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class VerificationReport:
    events: int
    aggregates: int
    breaks: list[ChainBreak]

    @property
    def ok(self) -> bool:
        return not self.breaks


class EventHistory:
    """Reads the event store's notification log without upcasting, exactly as recorded."""

    def __init__(self, app: Application[UUID]) -> None:
        self._app = app

    def read(self, after: int = 0, limit: int | None = None) -> Iterator[EventRecord]:
        position = after
        remaining = limit
        while remaining is None or remaining > 0:
            page = PAGE if remaining is None else min(PAGE, remaining)
            notifications = self._app.recorder.select_notifications(
                position, page, inclusive_of_start=False
            )
            if not notifications:
                return
            for n in notifications:
                yield self.decode(n)
            position = notifications[-1].id
            if remaining is not None:
                remaining -= len(notifications)

    def last_position(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def decode(self, n: Notification) -> EventRecord:
        mapper = self._app.mapper
        raw = n.state
        if mapper.cipher:
            raw = mapper.cipher.decrypt(raw)
        if mapper.compressor:
            raw = mapper.compressor.decompress(raw)
        state: dict[str, Any] = mapper.transcoder.decode(raw)
        aggregate_id = n.originator_id if isinstance(n.originator_id, UUID) else UUID(
            str(n.originator_id))
        state["originator_id"] = aggregate_id
        state["originator_version"] = n.originator_version
        try:
            type_name = str(resolve_topic(n.topic).type_name)
        except Exception:  # an event class this release no longer knows
            type_name = n.topic
        return EventRecord(n.id, aggregate_id, n.originator_version, type_name, state)

    def verify(self) -> VerificationReport:
        seen: set[UUID] = set()
        count = 0

        def records() -> Iterator[RecordedEvent]:
            nonlocal count
            for r in self.read():
                count += 1
                seen.add(r.aggregate_id)
                yield RecordedEvent(r.aggregate_id, r.version, r.type_name, r.state, r.position)

        breaks = verify_chain(records())
        return VerificationReport(count, len(seen), breaks)
