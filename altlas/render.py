"""The recorded events as a terminal table (the demo and `altlas events`)."""

from __future__ import annotations

from collections.abc import Iterable

from application.text import clip, short
from domain.records import RecordedEvent


def events_table(records: Iterable[RecordedEvent]) -> str:
    lines = [f"{'pos':>5}  {'time':<12} {'type':<22} {'aggregate':<9} {'v':>3}  "
             f"{'actor':<14} {'prevhash':<8} hash"]
    for r in records:
        lines.append(
            f"{r.position:>5}  {r.timestamp.strftime('%H:%M:%S.%f')[:12]:<12} "
            f"{r.type_name:<22} {short(str(r.aggregate_id)):<9} {r.version:>3}  "
            f"{clip(r.actor, 14):<14} {short(r.prevhash):<8} {short(r.hash)}"
        )
    return "\n".join(lines)
