"""The relay: the event store's notification log is the outbox; this publishes it to Kafka.

At least once: a batch is read after the recorded position, produced, and only when the
broker has confirmed every message is the new position recorded. A crash in between
publishes the batch again, and consumers skip what they have already applied.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)

from application.history import EventHistory
from application.signal import AGAIN, IDLE, Outcome, Signal, follow
from domain.hashchain import GENESIS, running_hash
from projections.store import create_tables
from streams.broker import watch
from streams.cloudevents import CHECKPOINT_KEY, Checkpoint, encode, encode_checkpoint
from streams.errors import ERRORS
from streams.kafka import (
    DeliveryInterrupted,
    EventProducer,
    KafkaConfig,
    KafkaUnavailableError,
    ensure_topic,
)

log = logging.getLogger("altlas.relay")

# Kept beside the events, in the event store's own database.
relay_metadata = MetaData()
relay_positions = Table(
    "altlas_relay_positions", relay_metadata,
    Column("relay", String(200), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("running_hash", String(64), nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
relay_checkpoints = Table(
    "altlas_relay_checkpoints", relay_metadata,
    Column("relay", String(200), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("running_hash", String(64), nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class _Batch:
    count: int
    messages: list[tuple[bytes, bytes]]
    state: RelayState
    checkpoint: Checkpoint | None


@dataclass(frozen=True)
class RelayState:
    position: int
    running_hash: str
    events: int


class RelayStateStore:
    def __init__(self, engine: Engine, relay: str) -> None:
        self.engine = engine
        self.relay = relay
        create_tables(engine, relay_metadata)

    def load(self) -> RelayState:
        with self.engine.connect() as conn:
            row = conn.execute(select(relay_positions).where(
                relay_positions.c.relay == self.relay)).first()
        if row is None:
            return RelayState(0, GENESIS, 0)
        return RelayState(row.position, row.running_hash, row.events)

    def save(self, state: RelayState, checkpoint: Checkpoint | None) -> None:
        now = datetime.now(UTC)
        values = {"position": state.position, "running_hash": state.running_hash,
                  "events": state.events, "updated_at": now}
        with self.engine.begin() as conn:
            updated = conn.execute(update(relay_positions).where(
                relay_positions.c.relay == self.relay).values(**values)).rowcount
            if not updated:
                conn.execute(relay_positions.insert().values(relay=self.relay, **values))
            if checkpoint is not None:
                conn.execute(delete(relay_checkpoints).where(
                    relay_checkpoints.c.relay == self.relay,
                    relay_checkpoints.c.position == checkpoint.position))
                conn.execute(relay_checkpoints.insert().values(
                    relay=self.relay, position=checkpoint.position,
                    running_hash=checkpoint.running_hash, events=checkpoint.events,
                    recorded_at=now))

    def checkpoints(self) -> list[Checkpoint]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(relay_checkpoints).where(
                relay_checkpoints.c.relay == self.relay).order_by(relay_checkpoints.c.position))
            return [Checkpoint(r.position, r.running_hash, r.events, r.recorded_at.isoformat())
                    for r in rows]


class Relay:
    def __init__(self, history: EventHistory, state: RelayStateStore, producer: EventProducer,
                 *, batch_size: int = 500, checkpoint_every: int = 1000,
                 topic: KafkaConfig | None = None) -> None:
        self.history = history
        self.state = state
        self.producer = producer
        self.batch_size = batch_size
        self.checkpoint_every = checkpoint_every
        self._topic = topic  # created (if missing) before the first publish
        self._topic_ready = topic is None

    def ensure_topic(self, timeout: float = 30.0) -> None:
        """The events topic exists; raises KafkaUnavailableError if the broker is away."""
        if not self._topic_ready and self._topic is not None:
            ensure_topic(self._topic, timeout)
            self._topic_ready = True

    def lag(self) -> int:
        return max(self.history.last_position() - self.state.load().position, 0)

    def _prepare(self, after: RelayState) -> _Batch | None:
        """The next batch after ``after``, encoded, with the running hash carried on."""
        records = list(self.history.read(after=after.position, limit=self.batch_size))
        if not records:
            return None
        running, count = after.running_hash, after.events
        messages = []
        checkpoint = None
        for record in records:
            running = running_hash(running, record.hash)
            count += 1
            messages.append((str(record.aggregate_id).encode(), encode(record)))
            if count % self.checkpoint_every == 0:
                checkpoint = Checkpoint(record.position or 0, running, count,
                                        datetime.now(UTC).isoformat())
                messages.append((CHECKPOINT_KEY, encode_checkpoint(checkpoint)))
        state = RelayState(records[-1].position or 0, running, count)
        return _Batch(len(records), messages, state, checkpoint)

    def run_once(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Publish the next batch; returns how many events the broker confirmed."""
        self.ensure_topic()
        batch = self._prepare(self.state.load())
        if batch is None:
            return 0
        self.producer.send(batch.messages, stopping)
        self.state.save(batch.state, batch.checkpoint)
        return batch.count

    def drain(self, stopping: Callable[[], bool] = lambda: False) -> int:
        """Publish everything recorded so far, preparing each batch while the broker
        confirms the one before; positions are still recorded in order, after confirmation."""
        self.ensure_topic()
        batch = self._prepare(self.state.load())
        total = 0
        while batch is not None:
            self.producer.produce(batch.messages)
            following = self._prepare(batch.state)
            self.producer.confirm(stopping)
            self.state.save(batch.state, batch.checkpoint)
            total += batch.count
            batch = following
        return total

    def checkpoint_now(self) -> Checkpoint | None:
        """Publish a checkpoint at the current position, if anything was published."""
        state = self.state.load()
        if state.events == 0:
            return None
        checkpoint = Checkpoint(state.position, state.running_hash, state.events,
                                datetime.now(UTC).isoformat())
        self.producer.send([(CHECKPOINT_KEY, encode_checkpoint(checkpoint))])
        self.state.save(state, checkpoint)
        return checkpoint

    def run(self, stop: threading.Event, idle_seconds: float = 0.25,
            checkpoint_seconds: float = 60.0, wake: Signal | None = None) -> None:
        """Publish until ``stop`` is set; a checkpoint goes out after a quiet minute. When
        idle, wait for ``wake`` (something was recorded) or, at the latest, the next poll."""
        last_checkpoint = time.monotonic()
        published_since = 0
        backoff = 1.0

        def step() -> Outcome:
            nonlocal last_checkpoint, published_since, backoff
            try:
                self.ensure_topic(timeout=min(backoff * 5, 30.0))  # waits less while away
                sent = self.drain(stop.is_set)
            except DeliveryInterrupted:
                return None
            except KafkaUnavailableError as e:
                ERRORS.labels("relay").inc()
                if self._topic is not None and not self._topic_ready:
                    watch(self._topic.bootstrap_servers).went_away(str(e))
                else:
                    log.error("relay: %s; retrying in %.0f s", e, backoff)
                waited, backoff = backoff, min(backoff * 2, 30.0)
                return waited
            backoff = 1.0
            published_since += sent
            if sent:
                return AGAIN
            if published_since and time.monotonic() - last_checkpoint > checkpoint_seconds:
                self.checkpoint_now()
                last_checkpoint, published_since = time.monotonic(), 0
            return IDLE

        follow(stop, wake, step, idle_seconds)
