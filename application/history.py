"""The recorded history, read as it was stored: for listing, export and verification."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from domain.event_names import type_name_of
from domain.hashchain import ChainBreak, verify_chain
from domain.records import RecordedEvent

if TYPE_CHECKING:
    from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification

PAGE = 500


def _plain_object(obj: dict[str, Any]) -> Any:
    """The library's JSON transcodings (the only ones the application registers: ids, times,
    decimals), read straight into the string form records keep, without building the
    objects first: the relay reads every event this way (bench/streams.py)."""
    kind = obj.get("_type_")
    if kind is None or "_data_" not in obj or len(obj) != 2:
        return obj
    if kind == "uuid_hex":
        return str(UUID(hex=obj["_data_"]))
    if kind in ("datetime_iso", "decimal_str"):
        return obj["_data_"]
    msg = f"stored event uses transcoding {kind!r}, which altlas does not register"
    raise ValueError(msg)


_PLAIN = json.JSONDecoder(object_hook=_plain_object)


def _uuid(value: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


@dataclass(frozen=True)
class VerificationReport:
    events: int
    aggregates: int
    breaks: list[ChainBreak]

    @property
    def ok(self) -> bool:
        return not self.breaks


class Stored(Protocol):
    """Where the events are: the application's recorder and mapper, or the library's alone
    for a store in clear (the command line's reads, altlas/quick_reads.py)."""

    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def mapper(self) -> Mapper[UUID]: ...


class EventHistory:
    """Reads the event store's notification log without upcasting, exactly as recorded."""

    def __init__(self, app: Stored) -> None:
        self._app = app

    def read(self, after: int = 0, limit: int | None = None, *,
             unreadable: Callable[[UnreadableEventError], None] | None = None,
             stop: int | None = None, only: Callable[[UUID], bool] | None = None,
             ) -> Iterator[RecordedEvent]:
        """The events in order; one that cannot be read raises, or, given ``unreadable``,
        is handed to it and passed over (the audit names it and goes on). ``stop``: the
        last position to read; ``only``: the aggregates wanted, chosen before decoding (a
        rebuild's worker reads everything and decodes its share)."""
        position = after
        remaining = limit
        while remaining is None or remaining > 0:
            page = PAGE if remaining is None else min(PAGE, remaining)
            notifications = self._app.recorder.select_notifications(
                position, page, stop, inclusive_of_start=False
            )
            if not notifications:
                return
            for n in notifications:
                if only is not None and not only(_uuid(n.originator_id)):
                    continue
                try:
                    record = self.decode(n)
                except UnreadableEventError as e:
                    if unreadable is None:
                        raise
                    unreadable(e)
                    continue
                yield record
            position = notifications[-1].id
            if remaining is not None:
                remaining -= len(notifications)

    def last_position(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def last_at(self, moment: datetime) -> RecordedEvent | None:
        """The last event recorded at or before ``moment`` (None: none was), found by
        bisecting the positions: a few reads however long the history, since events are
        recorded in the order of their times."""
        low, high = 0, self.last_position()
        found = None
        while low < high:
            middle = (low + high) // 2
            first = next(self.read(after=middle, limit=1), None)
            if first is not None and first.timestamp <= moment:
                found, low = first, first.position or high
            else:
                high = middle
        return found

    def decode(self, n: Notification) -> RecordedEvent:
        mapper = self._app.mapper
        aggregate_id = _uuid(n.originator_id)
        raw = n.state
        try:
            if mapper.cipher:
                raw = mapper.cipher.decrypt(raw)
            if mapper.compressor:
                raw = mapper.compressor.decompress(raw)
            state: dict[str, Any] = _PLAIN.decode(raw.decode("utf-8"))
        except ValueError as e:  # the cipher's tag check, bad UTF-8 or JSON
            raise UnreadableEventError(aggregate_id, n.originator_version, n.id, e) from None
        state["originator_id"] = str(aggregate_id)
        state["originator_version"] = n.originator_version
        return RecordedEvent(n.id, aggregate_id, n.originator_version, type_name_of(n.topic),
                             state)

    def verify(self) -> VerificationReport:
        seen: set[UUID] = set()
        count = 0

        def records() -> Iterator[RecordedEvent]:
            nonlocal count
            for r in self.read():
                count += 1
                seen.add(r.aggregate_id)
                yield r

        breaks = verify_chain(records())
        return VerificationReport(count, len(seen), breaks)


class UnreadableEventError(ValueError):
    """A stored event that cannot be decrypted or decoded: changed where it is stored, or
    recorded with another key."""

    def __init__(self, aggregate_id: UUID, version: int, position: int, reason: Exception
                 ) -> None:
        super().__init__(f"aggregate {aggregate_id} version {version} (position {position}): "
                         f"the stored event cannot be read ({reason}): it was changed where it "
                         "is stored, or recorded with another key")
