"""The per-aggregate hash chain of ARCHITECTURE.md §6.

``hash = sha256(prevhash + canonical JSON of the event)``. The canonical form is
computed from the event's recorded attributes, so an auditor can recompute it from
the stored state alone, without our code's idea of the current event classes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from domain.records import RecordedEvent

GENESIS = "0" * 64

# Library plumbing that is not part of what happened: the aggregate class path may
# move between releases, and the class version changes when an event is upcast.
_EXCLUDED = frozenset({"hash", "originator_topic", "class_version"})


def _default(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    msg = f"cannot hash a value of type {type(value).__name__}"
    raise TypeError(msg)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              default=_default)


def canonical_json(type_name: str, state: Mapping[str, Any]) -> str:
    body = {k: _plain(v) for k, v in state.items() if k not in _EXCLUDED}
    body["type"] = type_name
    return _CANONICAL.encode(body)


def _plain(value: Any) -> Any:
    """The envelope's ids and times as the text the encoder would make of them, without a
    call back into Python for each (every command hashes its events)."""
    kind = type(value)
    if kind is UUID:
        return str(value)
    if kind is datetime:
        return value.isoformat()
    return value


def event_hash(prevhash: str, type_name: str, state: Mapping[str, Any]) -> str:
    payload = prevhash + canonical_json(type_name, state)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    aggregate_id: UUID
    version: int
    position: int | None
    problem: str

    def __str__(self) -> str:
        where = f"aggregate {self.aggregate_id} version {self.version}"
        if self.position is not None:
            where += f" (position {self.position})"
        return f"{where}: {self.problem}"


def verify_chain(events: Iterable[RecordedEvent]) -> list[ChainBreak]:
    """Check each aggregate's chain; events may interleave across aggregates."""
    last: dict[UUID, tuple[int, str]] = {}
    breaks: list[ChainBreak] = []
    for ev in events:
        expected_version, expected_prev = last.get(ev.aggregate_id, (0, GENESIS))
        expected_version += 1

        def fail(problem: str, ev: RecordedEvent = ev) -> None:
            breaks.append(ChainBreak(ev.aggregate_id, ev.version, ev.position, problem))

        if ev.version != expected_version:
            fail(f"expected version {expected_version}: an event was removed or reordered")
        prevhash = ev.state.get("prevhash")
        recorded = ev.state.get("hash")
        if prevhash != expected_prev:
            fail("prevhash does not match the previous event's hash: an event was removed, "
                 "reordered or changed before this one")
        computed = event_hash(str(prevhash), ev.type_name, ev.state)
        if recorded != computed:
            fail(f"hash mismatch: the recorded {ev.type_name} event was changed")
        last[ev.aggregate_id] = (ev.version, str(recorded))
    return breaks


def running_hash(previous: str, event_hash_value: str) -> str:
    """The hash over the global order: each event's chain hash folded in, in position order."""
    return hashlib.sha256((previous + event_hash_value).encode("ascii")).hexdigest()
