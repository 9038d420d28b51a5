from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from domain.hashchain import GENESIS, event_hash, verify_chain
from domain.records import RecordedEvent


def _chain(n: int) -> list[RecordedEvent]:
    agg = uuid4()
    events, prev = [], GENESIS
    for v in range(1, n + 1):
        state = {"originator_id": agg, "originator_version": v, "value": v, "prevhash": prev}
        state["hash"] = event_hash(prev, "Thing", state)
        events.append(RecordedEvent(v, agg, v, "Thing", state))
        prev = state["hash"]
    return events


def test_hash_is_independent_of_key_order() -> None:
    a = event_hash(GENESIS, "T", {"x": 1, "y": [1, 2]})
    b = event_hash(GENESIS, "T", {"y": [1, 2], "x": 1})
    assert a == b
    assert a != event_hash(GENESIS, "T", {"x": 2, "y": [1, 2]})


def test_intact_chain_verifies() -> None:
    assert verify_chain(_chain(5)) == []


def test_changed_event_is_named_by_version_and_position() -> None:
    events = _chain(4)
    changed = dict(events[2].state, value=99)
    events[2] = replace(events[2], state=changed)
    breaks = verify_chain(events)
    assert [(b.version, b.position) for b in breaks] == [(3, 3)]
    assert "changed" in breaks[0].problem


def test_removed_event_breaks_the_next_link() -> None:
    events = _chain(4)
    del events[1]
    breaks = verify_chain(events)
    assert {b.version for b in breaks} == {3}
    assert any("removed" in b.problem for b in breaks)


def test_reordered_events_are_detected() -> None:
    events = _chain(4)
    events[1], events[2] = events[2], events[1]
    assert verify_chain(events)


def test_aggregates_are_checked_independently_when_interleaved() -> None:
    a, b = _chain(3), _chain(3)
    interleaved = [a[0], b[0], a[1], b[1], b[2], a[2]]
    assert verify_chain(interleaved) == []
