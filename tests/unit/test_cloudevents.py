from __future__ import annotations

import json
from uuid import uuid4

import pytest

from domain.hashchain import GENESIS, event_hash, verify_chain
from domain.records import RecordedEvent
from streams.cloudevents import (
    CHECKPOINT_TYPE,
    Checkpoint,
    PoisonError,
    cloudevent,
    decode,
    encode,
    encode_checkpoint,
)


def _record(position: int = 7) -> RecordedEvent:
    agg = uuid4()
    state = {
        "originator_id": str(agg), "originator_version": 1,
        "timestamp": "2026-11-23T09:00:00.123456+00:00", "actor": "alice",
        "correlation_id": "c-1", "causation_id": "k-1", "prevhash": GENESIS,
        "approvers": ["alice", "bob"],
    }
    state["hash"] = event_hash(GENESIS, "ApprovalGranted", state)
    return RecordedEvent(position, agg, 1, "ApprovalGranted", state)


def test_envelope_has_the_design_attributes() -> None:
    ce = cloudevent(_record())
    assert ce["specversion"] == "1.0" and ce["type"] == "altlas.approval.ApprovalGranted"
    assert ce["sequence"] == "0000000000000000007"
    assert ce["streamversion"] == "1" and ce["schemaversion"] == "1"  # extensions: strings
    assert ce["data"] == {"approvers": ["alice", "bob"]}
    for attribute in ("id", "source", "time", "subject", "datacontenttype", "actor",
                      "correlationid", "causationid", "prevhash", "hash"):
        assert ce[attribute]


def test_an_event_published_with_integer_versions_still_reads() -> None:
    old = {**cloudevent(_record()), "streamversion": 1, "schemaversion": 1}
    decoded = decode(json.dumps(old).encode())
    assert isinstance(decoded, RecordedEvent) and decoded.version == 1
    assert verify_chain([decoded]) == []


def test_decoded_event_still_verifies_against_its_hash() -> None:
    original = _record()
    decoded = decode(encode(original))
    assert isinstance(decoded, RecordedEvent)
    assert decoded.id == original.id and decoded.position == 7
    assert verify_chain([decoded]) == []


def test_changed_data_on_the_wire_fails_verification() -> None:
    ce = cloudevent(_record())
    ce["data"]["approvers"] = ["mallory", "bob"]
    decoded = decode(json.dumps(ce).encode())
    assert isinstance(decoded, RecordedEvent)
    assert "changed" in verify_chain([decoded])[0].problem


def test_sequences_sort_as_text_in_event_order() -> None:
    sequences = [cloudevent(_record(n))["sequence"] for n in (9, 10, 100, 2**63 - 1)]
    assert sorted(sequences) == sequences


def test_an_event_written_with_an_integer_sequence_is_still_read() -> None:
    record = _record(42)
    old = {**cloudevent(record), "sequence": 42}  # as topics and exports held it before
    decoded = decode(json.dumps(old).encode())
    assert isinstance(decoded, RecordedEvent) and decoded.position == 42
    assert decoded.state == record.state


def test_checkpoint_round_trips() -> None:
    checkpoint = Checkpoint(42, "ab" * 32, 40, "2026-11-23T09:00:00+00:00")
    raw = encode_checkpoint(checkpoint)
    assert json.loads(raw)["type"] == CHECKPOINT_TYPE
    assert decode(raw) == checkpoint


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not json", "not valid JSON"),
        (b"[1, 2]", "not a CloudEvents 1.0"),
        (json.dumps({"specversion": "1.0", "type": "com.example.Thing"}).encode(),
         "unknown event type 'com.example.Thing'"),
        (json.dumps({"specversion": "1.0", "type": "altlas.run.ApprovalGranted"}).encode(),
         "unknown event type"),
        (json.dumps({"specversion": "1.0", "type": "altlas.run.RunCompleted",
                     "subject": "not-a-uuid"}).encode(), "malformed altlas.run.RunCompleted"),
        (None, "empty message"),
    ],
)
def test_poisoned_messages_say_what_is_wrong(raw: bytes | None, reason: str) -> None:
    with pytest.raises(PoisonError, match=reason):
        decode(raw)
