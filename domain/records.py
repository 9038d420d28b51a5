"""An event as it was recorded, in plain JSON values: what audits, relays and views read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from domain.base import event_id

# Fields every event carries; the rest is the event's own data.
ENVELOPE = frozenset({
    "originator_id", "originator_version", "originator_topic", "timestamp", "actor",
    "correlation_id", "causation_id", "prevhash", "hash", "class_version",
})


@dataclass(frozen=True)
class RecordedEvent:
    """One stored event: its place in the global order and its fields as recorded.

    ``state`` holds every recorded field with ids and times as strings, exactly as the hash
    chain saw them, so the same record can be hashed, published and projected.
    """

    position: int | None
    aggregate_id: UUID
    version: int
    type_name: str
    state: Mapping[str, Any]

    @cached_property
    def id(self) -> str:
        return event_id(self.aggregate_id, self.version)

    @property
    def time(self) -> str:
        return str(self.state["timestamp"])

    @property
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(self.time)

    @property
    def actor(self) -> str:
        return str(self.state.get("actor", ""))

    @property
    def correlation_id(self) -> str:
        return str(self.state.get("correlation_id", ""))

    @property
    def causation_id(self) -> str:
        return str(self.state.get("causation_id", ""))

    @property
    def prevhash(self) -> str:
        return str(self.state.get("prevhash", ""))

    @property
    def hash(self) -> str:
        return str(self.state.get("hash", ""))

    @property
    def schema_version(self) -> int:
        return int(self.state.get("class_version", 1))

    @property
    def data(self) -> dict[str, Any]:
        """The event's own fields, without the envelope every event shares."""
        return {k: v for k, v in self.state.items() if k not in ENVELOPE}

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position, "id": self.id, "type": self.type_name,
            "aggregate_id": str(self.aggregate_id), "version": self.version,
            "time": self.time, "actor": self.actor, "correlation_id": self.correlation_id,
            "causation_id": self.causation_id, "prevhash": self.prevhash, "hash": self.hash,
            "schema_version": self.schema_version, "data": self.data,
        }

