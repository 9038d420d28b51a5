"""Thin, typed wrappers over confluent-kafka: topic set-up, a confirming producer, consumers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from streams.broker import on_error, watch

log = logging.getLogger("altlas.kafka")


@dataclass(frozen=True)
class KafkaConfig:
    bootstrap_servers: str
    topic: str
    partitions: int = 3
    replication: int = 1


class KafkaUnavailableError(Exception):
    """The broker cannot be reached or refused an operation; the message says which."""


class TopicMissingError(KafkaUnavailableError):
    """The broker answers, and has no such topic."""


class DeliveryInterrupted(Exception):
    """Stopped while waiting for the broker: nothing past the last confirmation counts."""


def ensure_topic(config: KafkaConfig, timeout: float = 30.0) -> None:
    """Create the events topic with infinite retention if it does not exist; raises
    KafkaUnavailableError when the broker cannot be reached in ``timeout`` seconds."""
    settings: dict[str, Any] = {"bootstrap.servers": config.bootstrap_servers, "logger": log,
                                "error_cb": on_error(config.bootstrap_servers, "admin")}
    admin = AdminClient(settings)
    topic = NewTopic(config.topic, num_partitions=config.partitions,
                     replication_factor=config.replication,
                     config={"retention.ms": "-1", "retention.bytes": "-1",
                             "cleanup.policy": "delete"})
    future = admin.create_topics([topic], request_timeout=timeout)[config.topic]
    try:
        future.result(timeout=timeout)
        log.info("created topic %s with %d partitions", config.topic, config.partitions)
    except KafkaException as e:
        if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise KafkaUnavailableError(f"cannot create topic {config.topic}: {e}") from None
    except TimeoutError:  # concurrent.futures': the broker never answered
        raise KafkaUnavailableError(
            f"cannot create topic {config.topic}: the broker at {config.bootstrap_servers} "
            f"did not answer in {timeout:g} s") from None
    watch(config.bootstrap_servers).answered()


# librdkafka waits up to 10 s between attempts to reach a broker that went away; a broker
# back from a restart is then used up to 10 s late. 1 s costs a connection attempt a second.
RECONNECT_MAX_MS = 1000


class EventProducer:
    """An idempotent producer (acks=all) whose ``send`` returns only once the broker
    has confirmed every message, however long the broker is away."""

    def __init__(self, config: KafkaConfig, **overrides: Any) -> None:
        self._topic = config.topic
        settings: dict[str, Any] = {
            "bootstrap.servers": config.bootstrap_servers,
            "enable.idempotence": True,  # librdkafka's default is false
            "acks": "all",
            "linger.ms": 5,
            "message.timeout.ms": 0,  # keep retrying while the broker is away
            "compression.type": "lz4",
            "reconnect.backoff.max.ms": RECONNECT_MAX_MS,
            "logger": log,
            "error_cb": on_error(config.bootstrap_servers, "producer"),
        }
        settings.update(overrides)
        self._producer = Producer(settings)
        self._broker = watch(config.bootstrap_servers)
        self._errors: list[str] = []

    def _on_delivery(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            self._errors.append(f"{err.name()}: {err.str()}")

    def send(self, messages: Sequence[tuple[bytes, bytes]],
             stopping: Callable[[], bool] = lambda: False) -> None:
        self.produce(messages)
        self.confirm(stopping)

    def produce(self, messages: Sequence[tuple[bytes, bytes]]) -> None:
        """Hand messages to the client; they go out in the background."""
        for key, value in messages:
            while True:
                try:
                    self._producer.produce(self._topic, value=value, key=key,
                                           on_delivery=self._on_delivery)
                    break
                except BufferError:
                    self._producer.poll(0.1)

    def confirm(self, stopping: Callable[[], bool] = lambda: False) -> None:
        """Wait until the broker has confirmed everything produced so far."""
        pending = len(self._producer)
        while self._producer.flush(1.0) > 0:
            if stopping():
                raise DeliveryInterrupted("stopped while waiting for the broker")
        if pending:
            self._broker.answered()
        if self._errors:
            first = self._errors[0]
            self._errors.clear()
            raise KafkaUnavailableError(f"the broker refused messages: {first}")

    def __len__(self) -> int:
        return len(self._producer)

    def close(self) -> None:
        self._producer.flush(5.0)


def make_consumer(config: KafkaConfig, group_id: str, **overrides: Any) -> Consumer:
    settings: dict[str, Any] = {
        "bootstrap.servers": config.bootstrap_servers,
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
        "isolation.level": "read_committed",
        "reconnect.backoff.max.ms": RECONNECT_MAX_MS,
        "logger": log,
        "error_cb": on_error(config.bootstrap_servers, f"consumer {group_id}"),
    }
    settings.update(overrides)
    return Consumer(settings)


def watermarks(config: KafkaConfig, timeout: float = 10.0) -> dict[int, tuple[int, int]]:
    """(low, high) offsets per partition of the events topic."""
    consumer = make_consumer(config, "altlas.watermarks")
    try:
        meta = consumer.list_topics(config.topic, timeout=timeout).topics.get(config.topic)
        if meta is None or meta.error is not None:
            raise TopicMissingError(f"topic {config.topic} does not exist")
        return {p: consumer.get_watermark_offsets(TopicPartition(config.topic, p),
                                                   timeout=timeout)
                for p in meta.partitions}
    except KafkaException as e:
        raise KafkaUnavailableError(f"cannot read {config.topic}: {e}") from None
    finally:
        consumer.close()
