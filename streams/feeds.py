"""Two feeds for the same projection code: the event store's notification log (embedded)
and the Kafka topic (production)."""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition
from sqlalchemy import Connection

from application.history import EventHistory
from application.signal import AGAIN, IDLE, Outcome, Signal, follow
from projections.runner import Delivery, ProjectionRunner
from streams.broker import watch
from streams.checkpoints import CheckpointLog, Head
from streams.cloudevents import Checkpoint, PoisonError, decode
from streams.errors import ERRORS
from streams.kafka import KafkaConfig, make_consumer, watermarks
from streams.witness import Witness, WitnessUnavailableError

log = logging.getLogger("altlas.feeds")


def kafka_source(config: KafkaConfig) -> str:
    return f"kafka:{config.topic}"


def behind(config: KafkaConfig, runner: ProjectionRunner) -> int:
    """Events on the topic now that the runner's view has not applied yet."""
    done = runner.positions()
    return sum(max(high - done.get(p, -1) - 1, 0)
               for p, (_, high) in watermarks(config).items())


class StoreFeed:
    """Feeds projections straight from the notification log (the embedded default)."""

    def __init__(self, history: EventHistory, runners: Sequence[ProjectionRunner],
                 batch_size: int = 500, *, checkpoints: CheckpointLog | None = None,
                 witness: Witness | None = None) -> None:
        self.history = history
        self.runners = runners
        self.batch_size = batch_size
        self.checkpoints = checkpoints
        self.witness = witness  # told each head once the views hold it (streams/witness.py)
        self._after: dict[str, int] = {}  # where each projection was last seen to be
        self._head: Head | None = None  # the last checkpoint, as this feed last saw it

    def poll_once(self) -> int:
        """Apply the next batch to every projection, reading it once for all, and carry
        the checkpoint over the store's global order on with it, in the same transaction;
        returns how many records took a projection or the checkpoint further. Each
        projection skips, in its own transaction, what another feed applied meanwhile."""
        after = {r.name: self._after.get(r.name) for r in self.runners}
        for runner in self.runners:
            if after[runner.name] is None:
                after[runner.name] = runner.positions().get(0, 0)
        start = min((a or 0 for a in after.values()), default=0)
        book, seen = self.checkpoints, None
        if book is not None:
            seen = self._head = self._head or book.head()
            start = min(start, seen.position) if self.runners else seen.position
        records = list(self.history.read(after=start, limit=self.batch_size))
        work = []
        for runner in self.runners:
            deliveries = [Delivery(0, r.position or 0, r) for r in records
                          if (r.position or 0) > (after[runner.name] or 0)]
            if deliveries:
                work.append((runner, deliveries))
        folded = 0
        if book is not None and seen is not None and records and (
                records[-1].position or 0) > seen.position:
            head = _apply_with(work, book, functools.partial(
                book.extend, after=start, records=records, seen=seen))
            self._head = head  # None: read it again next time
            if head is not None:
                folded = sum(1 for r in records
                             if seen.position < (r.position or 0) <= head.position)
                if folded:
                    self._tell(head)
        elif len({runner.engine.url for runner, _ in work}) == 1:
            ProjectionRunner.apply_together(work)
        else:
            for runner, deliveries in work:
                runner.apply(deliveries)
        self._after.update({name: at or 0 for name, at in after.items()})
        for runner, deliveries in work:
            self._after[runner.name] = deliveries[-1].position
        return max(max((len(d) for _, d in work), default=0), folded)

    def _tell(self, head: Head) -> None:
        """The witness hears of the head after the views committed it, so it never says
        more than the store held; a witness that cannot be written is logged and told the
        next head, and the views go on."""
        if self.witness is None:
            return
        try:
            self.witness.saw(head)
        except WitnessUnavailableError as e:
            ERRORS.labels("witness").inc()
            log.error("%s could not be told (%s); the next batch tries again",
                      self.witness.name, e)

    def applied_through(self) -> int:
        """The position every projection of this feed has applied up to, as last seen."""
        return min((self._after.get(r.name) or 0 for r in self.runners), default=0)

    def catch_up(self) -> int:
        total = 0
        while n := self.poll_once():
            total += n
        return total

    def run(self, stop: threading.Event, idle_seconds: float = 0.25,
            wake: Signal | None = None, *, busy: Callable[[], bool] = lambda: False,
            quiet: float = 0.003, linger: float = 0.012,
            turn: Callable[[], bool] = lambda: True) -> None:
        """Until ``stop``: when idle, wait for ``wake`` (something was recorded) or, at the
        latest, the next poll. Woken, it waits until nothing was recorded for ``quiet``
        seconds and ``busy`` (reactions of this process at work) is false, at most
        ``linger`` seconds: a request's chain of reactions reaches the views in one batch,
        and never waits for a feed busy with each of its events. While ``turn`` is false
        another process keeps the views, and this one only stands by."""
        def step() -> Outcome:
            try:
                if not turn():
                    return IDLE
                return AGAIN if self.poll_once() else IDLE
            except Exception:
                ERRORS.labels("store_feed").inc()
                log.exception("store feed failed; retrying in 1 s")
                return 1.0

        settle = (functools.partial(_settle, wake, busy, quiet, linger) if wake is not None
                  else None)
        follow(stop, wake, step, idle_seconds, woken=settle)


def _apply_with(work: Sequence[tuple[ProjectionRunner, Sequence[Delivery]]],
                book: CheckpointLog, extend: Callable[[Connection], Head | None]
                ) -> Head | None:
    """The batch's projections and its checkpoint in one transaction of the views database
    (as ProjectionRunner.apply_together, with the checkpoint written last). If that fails,
    each projection applies on its own (setting aside what it cannot apply) and the
    checkpoint follows in a transaction of its own: it covers what the store holds, which a
    projection's trouble does not change."""
    runners = sorted((r for r, _ in work), key=lambda r: r.name)  # locks in one order
    if runners and {r.engine.url for r in runners} == {book.engine.url}:
        try:
            with contextlib.ExitStack() as held:
                for runner in runners:
                    held.enter_context(runner._lock)
                conn = held.enter_context(book.engine.begin())
                for runner in runners:
                    runner._turn(conn)
                for runner, deliveries in work:
                    runner._apply(conn, deliveries)
                return extend(conn)
        except Exception:
            log.warning("projections %s: a batch failed together with its checkpoint; "
                         "applying each on its own", ", ".join(r.name for r in runners),
                         exc_info=True)
    for runner, deliveries in work:
        runner.apply(deliveries)
    with book.engine.begin() as conn:
        return extend(conn)


def _settle(wake: Signal, busy: Callable[[], bool], quiet: float, linger: float) -> None:
    deadline = time.monotonic() + linger
    while time.monotonic() < deadline:
        if not wake.wait(wake.generation, quiet) and not busy():
            return


class KafkaFeed:
    """Feeds one projection from the topic.

    The view database, not a consumer group, says where to resume: the feed takes every
    partition of the topic itself, at the position stored with the rows. A restarted
    projector reads on at once — there is no group to rejoin and no dead member's session to
    wait out — and a crash between the database commit and the offset commit re-reads nothing
    twice into the view. Two projectors of one view both read everything; the view's lock
    lets each event take effect once. The group, named after the topic and the views
    database, only keeps offsets, so Kafka's tools can show the lag.
    """

    RECHECK_SECONDS = 30.0  # how often to look for partitions added to the topic

    def __init__(self, config: KafkaConfig, runner: ProjectionRunner,
                 batch_size: int = 500, *, checkpoints: CheckpointLog | None = None,
                 group: str | None = None) -> None:
        self.config = config
        self.runner = runner
        self.batch_size = batch_size
        self.checkpoints = checkpoints  # where the relay's checkpoints it receives are kept
        self.group = group or f"{config.topic}.views.{runner.name}"
        self.consumer: Consumer = make_consumer(config, self.group)
        self.partitions: set[int] = set()
        self._looked = -math.inf  # when the topic's partitions were last looked up
        self._broker = watch(config.bootstrap_servers)

    def assign(self, timeout: float = 5.0) -> bool:
        """Take the topic's partitions not taken yet, at the positions stored with the view;
        false while the topic cannot be read (the broker away, or the relay has not
        created it yet)."""
        self._looked = time.monotonic()
        try:
            topic = self.consumer.list_topics(self.config.topic, timeout=timeout).topics.get(
                self.config.topic)
        except KafkaException as e:
            self._broker.went_away(str(e.args[0].str() if e.args else e))
            return False
        if topic is None or topic.error is not None or not topic.partitions:
            return False
        self._broker.answered()
        new = sorted(set(topic.partitions) - self.partitions)
        if new:
            stored = self.runner.positions()
            self.consumer.incremental_assign([
                TopicPartition(self.config.topic, p,
                               stored[p] + 1 if p in stored else OFFSET_BEGINNING)
                for p in new])
            self.partitions.update(new)
        return True

    def poll_once(self, timeout: float = 0.1) -> int:
        """Wait up to ``timeout`` for one message, then take whatever else is already here:
        low latency when quiet, whole batches when busy."""
        due = time.monotonic() - self._looked > self.RECHECK_SECONDS or not self.partitions
        if due and not self.assign() and not self.partitions:
            time.sleep(timeout)
            return 0
        first = self.consumer.poll(timeout)
        if first is None:
            return 0
        messages = [first, *self.consumer.consume(self.batch_size - 1, 0)]
        deliveries = []
        received: list[Checkpoint] = []
        for msg in messages:
            partition, offset = msg.partition(), msg.offset()
            if msg.error() is not None or partition is None or offset is None:
                log.warning("kafka feed %s: %s", self.runner.name, msg.error())
                continue
            delivery, checkpoint = _delivery(partition, offset, msg.value())
            deliveries.append(delivery)
            if checkpoint is not None:
                received.append(checkpoint)
        if not deliveries:
            return 0
        self.runner.apply(deliveries)
        if received and self.checkpoints is not None:  # after the views: they never lead
            self.checkpoints.saw(max(received, key=lambda c: c.position))
        last: dict[int, int] = {}
        for d in deliveries:
            last[d.partition] = max(d.position, last.get(d.partition, -1))
        try:
            self.consumer.commit(offsets=[TopicPartition(self.config.topic, p, o + 1)
                                          for p, o in last.items()], asynchronous=True)
        except KafkaException as e:  # the view database has the truth; the group only lags
            log.warning("kafka feed %s: offset commit failed: %s", self.runner.name, e)
        return len(deliveries)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                if not self.partitions and not self.assign():
                    stop.wait(1.0)  # the broker away, or no topic yet: look again shortly
                    continue
                self.poll_once()
            except Exception:
                ERRORS.labels("kafka_feed").inc()
                log.exception("kafka feed %s failed; retrying in 1 s", self.runner.name)
                stop.wait(1.0)

    def close(self) -> None:
        self.consumer.close()


def _delivery(partition: int, offset: int, raw: bytes | None
              ) -> tuple[Delivery, Checkpoint | None]:
    try:
        decoded = decode(raw)
    except PoisonError as e:
        text = (raw or b"").decode("utf-8", errors="replace")
        return Delivery(partition, offset, None, text, str(e)), None
    if isinstance(decoded, Checkpoint):
        return Delivery(partition, offset, None), decoded
    return Delivery(partition, offset, decoded), None

