"""The topic speaks CloudEvents exactly: the official Python SDK reads every message in
structured mode, carries it through Kafka's binary mode and back, and altlas reads the result."""

from __future__ import annotations

import json
from pathlib import Path

from cloudevents.core.bindings.kafka import (
    KafkaMessage,
    from_binary,
    from_structured,
    to_binary,
    to_structured,
)
from cloudevents.core.formats.json import JSONFormat
from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from altlas.bootstrap import bootstrap
from domain.records import RecordedEvent
from streams.cloudevents import decode
from streams.kafka import KafkaConfig, make_consumer
from testkit.backends import SQLiteBackend
from testkit.journeys import journey
from tests.integration.test_streams import kafka_settings, publish_all


def test_every_message_on_the_topic_reads_with_the_sdk_in_both_modes(
    tmp_path: Path, kafka_bootstrap: str, topic_prefix: str
) -> None:
    system = bootstrap(kafka_settings(SQLiteBackend(tmp_path), kafka_bootstrap, topic_prefix))
    try:
        journey(system, tmp_path)
        publish_all(system.relay())
        config = system.kafka()
        raw = _raw_values(config, system.history.last_position())
        assert len(raw) == 15
        for key, value in raw:
            ours = json.loads(value)
            event = from_structured(KafkaMessage(headers={}, key=key, value=value),
                                    JSONFormat())
            attributes = event.get_attributes()
            assert attributes["id"] == ours["id"] and attributes["type"] == ours["type"]
            assert attributes["sequence"] == ours["sequence"]  # a string, as the extension says
            assert len(ours["sequence"]) == 19 and ours["sequence"].isdigit()
            assert event.get_data() == ours["data"]

            binary = to_binary(event, JSONFormat())
            assert binary.headers["ce_sequence"] == ours["sequence"].encode()
            assert binary.headers["ce_streamversion"] == ours["streamversion"].encode()
            back = from_binary(binary, JSONFormat())
            assert {k: back.get_attributes()[k] for k in ("streamversion", "schemaversion")} \
                == {k: ours[k] for k in ("streamversion", "schemaversion")}  # strings, kept
            assert back.get_data() == ours["data"]
            assert back.get_attributes()["sequence"] == ours["sequence"]

            # what the SDK makes of it, structured again, is still an altlas event
            again = decode(to_structured(back, JSONFormat()).value)
            assert isinstance(again, RecordedEvent)
            assert (again.id, again.position, again.version) == (
                ours["id"], int(ours["sequence"]), int(ours["streamversion"]))
    finally:
        system.close()


def _raw_values(config: KafkaConfig, count: int) -> list[tuple[bytes, bytes]]:
    consumer = make_consumer(config, "test.sdk")
    consumer.assign([TopicPartition(config.topic, p, OFFSET_BEGINNING)
                     for p in range(config.partitions)])
    out: list[tuple[bytes, bytes]] = []
    try:
        while len(out) < count:
            batch = consumer.consume(100, 5.0)
            assert batch, f"only {len(out)} of {count} messages on the topic"
            out += [(m.key(), m.value()) for m in batch if m.error() is None]
    finally:
        consumer.close()
    return out
