"""Events on the wire: CloudEvents 1.0 in structured JSON mode (DESIGN.md §6)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.catalog import UnknownEventTypeError, aggregate_kind
from domain.records import RecordedEvent

SPECVERSION = "1.0"
SOURCE = "urn:altlas:events"
CHECKPOINT_TYPE = "altlas.audit.Checkpoint"
CHECKPOINT_KEY = b"altlas.checkpoint"
SEQUENCE_DIGITS = 19  # 2**63 - 1, the largest position, has 19 digits


@dataclass(frozen=True)
class Checkpoint:
    """The relay's claim: the first ``events`` events of the global order, up to
    ``position``, hash together to ``running_hash``."""

    position: int
    running_hash: str
    events: int
    time: str


class PoisonError(ValueError):
    """A message that is not an altlas event; the message says why."""


def cloudevent(record: RecordedEvent) -> dict[str, Any]:
    return {
        "specversion": SPECVERSION,
        "id": record.id,
        "source": SOURCE,
        "type": f"altlas.{aggregate_kind(record.type_name)}.{record.type_name}",
        "time": record.time,
        "subject": str(record.aggregate_id),
        "datacontenttype": "application/json",
        "data": record.data,
        "sequence": sequence(record.position),
        # extension attributes are strings: Kafka's and HTTP's binary modes carry nothing else
        "streamversion": str(record.version),
        "schemaversion": str(record.schema_version),
        "actor": record.actor,
        "correlationid": record.correlation_id,
        "causationid": record.causation_id,
        "prevhash": record.prevhash,
        "hash": record.hash,
    }


def sequence(position: int | None) -> str:
    """The CloudEvents Sequence extension: a string whose lexicographic order is the event
    order, so the store's position zero-padded to the 19 digits of its largest value."""
    return f"{position or 0:0{SEQUENCE_DIGITS}d}"


def position_of(value: Any) -> int:
    """The position a ``sequence`` carries: the padded string, or the JSON integer that
    topics and exports written before the Sequence extension was followed hold."""
    if isinstance(value, str) and value.isdigit() and value.isascii():
        return int(value)
    return _int(value)


def encode(record: RecordedEvent) -> bytes:
    return json.dumps(cloudevent(record), separators=(",", ":"), ensure_ascii=False).encode()


def encode_checkpoint(checkpoint: Checkpoint) -> bytes:
    return json.dumps({
        "specversion": SPECVERSION, "id": f"checkpoint-{checkpoint.position}",
        "source": SOURCE, "type": CHECKPOINT_TYPE, "time": checkpoint.time,
        "subject": "checkpoint", "datacontenttype": "application/json",
        "data": {"position": checkpoint.position, "running_hash": checkpoint.running_hash,
                 "events": checkpoint.events},
    }, separators=(",", ":")).encode()


def decode(raw: bytes | None) -> RecordedEvent | Checkpoint:
    """Read one message; raises PoisonError saying what is wrong with it."""
    if raw is None:
        raise PoisonError("empty message")
    try:
        ce = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PoisonError(f"not valid JSON: {e}") from None
    if not isinstance(ce, dict) or ce.get("specversion") != SPECVERSION:
        raise PoisonError("not a CloudEvents 1.0 structured message")
    kind = ce.get("type")
    if kind == CHECKPOINT_TYPE:
        return _checkpoint(ce)
    if not isinstance(kind, str) or not kind.startswith("altlas."):
        raise PoisonError(f"unknown event type {kind!r}")
    type_name = kind.rsplit(".", 1)[-1]
    try:
        if kind != f"altlas.{aggregate_kind(type_name)}.{type_name}":
            raise UnknownEventTypeError(kind)
    except UnknownEventTypeError:
        raise PoisonError(f"unknown event type {kind!r}") from None
    try:
        aggregate_id = UUID(ce["subject"])
        version = _number(ce["streamversion"])
        position = position_of(ce["sequence"])
        schema = _number(ce.get("schemaversion", 1))
        datetime.fromisoformat(ce["time"])
        data = ce["data"]
        if not isinstance(data, dict):
            raise TypeError("data is not an object")
        state: dict[str, Any] = {
            **data,
            "originator_id": str(aggregate_id), "originator_version": version,
            "timestamp": ce["time"], "actor": str(ce["actor"]),
            "correlation_id": str(ce["correlationid"]), "causation_id": str(ce["causationid"]),
            "prevhash": str(ce["prevhash"]), "hash": str(ce["hash"]),
        }
    except (KeyError, TypeError, ValueError) as e:
        raise PoisonError(f"malformed {kind}: {type(e).__name__}: {e}") from None
    if schema > 1:
        state["class_version"] = schema
    return RecordedEvent(position, aggregate_id, version, type_name, state)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value


def _number(value: Any) -> int:
    """An integer attribute: the digits altlas writes (every binary-mode header is a
    string), or the JSON integer that events published before carried."""
    return int(value) if isinstance(value, str) and value.isdigit() and value.isascii() \
        else _int(value)


def _checkpoint(ce: dict[str, Any]) -> Checkpoint:
    try:
        data = ce["data"]
        return Checkpoint(_int(data["position"]), str(data["running_hash"]),
                          _int(data["events"]), str(ce["time"]))
    except (KeyError, TypeError) as e:
        raise PoisonError(f"malformed checkpoint: {e}") from None
