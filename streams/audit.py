"""Audit tools: verify the history (store and topic), replay views as of a time, export.
One module: the three read the same chains and checkpoints, in the same order."""

from __future__ import annotations

import bisect
import heapq
import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from confluent_kafka import TopicPartition

from application.history import EventHistory
from domain.errors import InvalidInputError
from domain.hashchain import GENESIS, ChainBreak, event_hash, running_hash, verify_chain
from domain.records import RecordedEvent
from projections.runner import Delivery, ProjectionRunner
from streams.checkpoints import (
    GENESIS_HEAD,
    RECOVERING,
    REPLAY,
    CheckpointLog,
    Head,
    read_marks,
)
from streams.cloudevents import Checkpoint, PoisonError, cloudevent, decode
from streams.kafka import KafkaConfig, make_consumer, watermarks
from streams.relay import RelayStateStore
from streams.replay_cache import ReplayCache
from streams.targets import ReplayTargets
from streams.witness import Testimony, Witness, WitnessUnavailableError

Progress = Callable[[int], None]


@dataclass
class AuditReport:
    source: str
    events: int = 0
    aggregates: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # losses an operator accepted

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "ok": self.ok, "events": self.events,
                "aggregates": self.aggregates, "checkpoints": self.checkpoints,
                "problems": self.problems, "notes": self.notes}


def _check(records: Iterable[RecordedEvent], checkpoints: list[Checkpoint],
           report: AuditReport, progress: Progress | None) -> None:
    """Per-aggregate chains, then the running hash over the global order at each checkpoint."""
    pending = sorted(checkpoints, key=lambda c: c.position)
    running, count = GENESIS, 0
    aggregates: set[object] = set()

    def walk() -> Iterator[RecordedEvent]:
        nonlocal running, count
        for r in records:
            while pending and (r.position or 0) > pending[0].position:
                _compare(pending.pop(0), running, count, report)
            running = running_hash(running, r.hash)
            count += 1
            aggregates.add(r.aggregate_id)
            if progress is not None:
                progress(1)
            yield r

    breaks: list[ChainBreak] = verify_chain(walk())
    for checkpoint in pending:
        _compare(checkpoint, running, count, report)
    report.events, report.aggregates = count, len(aggregates)
    report.checkpoints = len(checkpoints)
    report.problems[:0] = [str(b) for b in breaks]


def _compare(c: Checkpoint, running: str, count: int, report: AuditReport) -> None:
    if c.running_hash != running or c.events != count:
        report.problems.append(
            f"checkpoint at position {c.position} does not match: it covers {c.events} events "
            f"with running hash {c.running_hash[:12]}, the history up to there has {count} "
            f"with {running[:12]}: an event up to position {c.position} was changed, removed "
            "or reordered")


def verify_store(history: EventHistory, checkpoints: list[Checkpoint],
                 progress: Progress | None = None) -> AuditReport:
    report = AuditReport("event store")
    unreadable: list[str] = []  # named first: the breaks after them follow from them
    _check(history.read(unreadable=lambda e: unreadable.append(str(e))), checkpoints, report,
           progress)
    report.problems[:0] = unreadable
    return report


def read_topic(config: KafkaConfig, progress: Progress | None = None,
               timeout: float = 30.0) -> tuple[list[RecordedEvent], list[Checkpoint], list[str]]:
    """Everything on the topic now: records, checkpoints, and what could not be read."""
    marks = watermarks(config)
    consumer = make_consumer(config, "altlas.audit")
    records: list[RecordedEvent] = []
    checkpoints: list[Checkpoint] = []
    problems: list[str] = []
    try:
        consumer.assign([TopicPartition(config.topic, p, low) for p, (low, _) in marks.items()])
        remaining = {p: high for p, (low, high) in marks.items() if high > low}
        deadline = time.monotonic() + timeout
        while remaining:
            batch = consumer.consume(1000, 0.2)
            if batch:
                deadline = time.monotonic() + timeout
            elif time.monotonic() > deadline:
                problems.append(f"topic {config.topic}: timed out reading partitions "
                                f"{sorted(remaining)}")
                break
            for msg in batch:
                if msg.error() is not None:
                    continue
                p, offset = msg.partition(), msg.offset()
                if p in remaining and offset is not None and offset + 1 >= remaining[p]:
                    del remaining[p]
                try:
                    item = decode(msg.value())
                except PoisonError as e:
                    problems.append(f"partition {p} offset {offset}: not an altlas event: {e}")
                    continue
                if isinstance(item, Checkpoint):
                    checkpoints.append(item)
                else:
                    records.append(item)
                if progress is not None:
                    progress(1)
    finally:
        consumer.close()
    return records, checkpoints, problems


def verify_topic(config: KafkaConfig, store: EventHistory | None = None,
                 published_up_to: int = 0, progress: Progress | None = None,
                 timeout: float = 30.0) -> AuditReport:
    """The topic on its own (duplicates from relay retries are allowed if identical), and,
    given the store, that every event the relay says it published is on the topic.

    Streamed: the partitions are merged into the store's order as they are read, so memory
    does not grow with the topic — only the per-aggregate chain heads do, as for the store."""
    report = AuditReport(f"topic {config.topic}")
    merged = _TopicInOrder(config, report.problems, timeout)
    matched = _StoreMatch(store, published_up_to, report.problems)
    running, count = GENESIS, 0
    trail: deque[tuple[int, str, int]] = deque(maxlen=_WINDOW)  # (position, running, count)
    aggregates: set[UUID] = set()
    checkpoints = 0

    def events() -> Iterator[RecordedEvent]:
        nonlocal running, count, checkpoints
        for item in merged:
            if isinstance(item, Checkpoint):
                checkpoints += 1
                _compare_late(item, running, count, trail, report)
                continue
            running = running_hash(running, item.hash)
            count += 1
            trail.append((item.position or 0, running, count))
            aggregates.add(item.aggregate_id)
            matched.saw(item)
            if progress is not None:
                progress(1)
            yield item

    breaks = verify_chain(events())
    report.problems[:0] = [str(b) for b in breaks]
    matched.finish()
    report.events, report.aggregates, report.checkpoints = count, len(aggregates), checkpoints
    return report


# How many recent events a late checkpoint or a re-published event is compared with.
_WINDOW = 10_000  # a relay re-publishes at most a batch or two (ALTLAS_RELAY_BATCH_SIZE)


def _compare_late(c: Checkpoint, running: str, count: int,
                  trail: deque[tuple[int, str, int]], report: AuditReport) -> None:
    """A checkpoint arrives after the events it covers: compare it with the running hash as
    it was at its position (the last one, or a recent one for a checkpoint published again)."""
    if not trail or c.position >= trail[-1][0]:
        _compare(c, running, count, report)
        return
    at = bisect.bisect_right(trail, c.position, key=lambda t: t[0]) - 1
    if at >= 0 and trail[at][0] <= c.position:
        _compare(c, trail[at][1], trail[at][2], report)
    elif c.position > 0:
        report.notes.append(f"checkpoint at position {c.position} came too late to compare")


class _TopicInOrder:
    """The topic's events in the store's order: each partition is read in offset order (in
    which its positions rise, but for a batch the relay published again after a crash,
    compared with what came first and skipped), and the partitions are merged by position.
    A checkpoint follows the event at its position."""

    def __init__(self, config: KafkaConfig, problems: list[str], timeout: float) -> None:
        self.config = config
        self.problems = problems
        self.timeout = timeout

    def __iter__(self) -> Iterator[RecordedEvent | Checkpoint]:
        marks = watermarks(self.config)
        readers = [_PartitionReader(self.config, p, low, high, self.problems, self.timeout)
                   for p, (low, high) in sorted(marks.items()) if high > low]
        try:
            heap: list[tuple[float, int, RecordedEvent | Checkpoint]] = []
            for i, reader in enumerate(readers):
                item = reader.next()
                if item is not None:
                    heapq.heappush(heap, (_key(item), i, item))
            while heap:
                _, i, item = heapq.heappop(heap)
                yield item
                following = readers[i].next()
                if following is not None:
                    heapq.heappush(heap, (_key(following), i, following))
        finally:
            for reader in readers:
                reader.close()


def _key(item: RecordedEvent | Checkpoint) -> float:
    return item.position + 0.5 if isinstance(item, Checkpoint) else float(item.position or 0)


class _PartitionReader:
    def __init__(self, config: KafkaConfig, partition: int, low: int, high: int,
                 problems: list[str], timeout: float) -> None:
        self.partition, self.high = partition, high
        self.problems, self.timeout = problems, timeout
        # a small prefetch per partition: memory stays flat however long the topic
        self.consumer = make_consumer(config, "altlas.audit",
                                      **{"queued.max.messages.kbytes": 4096})
        self.consumer.assign([TopicPartition(config.topic, partition, low)])
        self.buffer: deque[Any] = deque()
        self.done = False
        self.last = -1.0  # the key of the last item given
        self.seen: OrderedDict[float, str] = OrderedDict()  # key → hash, the last _WINDOW

    def next(self) -> RecordedEvent | Checkpoint | None:
        while True:
            msg = self._message()
            if msg is None:
                return None
            try:
                item = decode(msg.value())
            except PoisonError as e:
                self.problems.append(f"partition {self.partition} offset {msg.offset()}: not "
                                     f"an altlas event: {e}")
                continue
            key, digest = _key(item), _digest(item)
            if key <= self.last:  # published again after a crash: the same, or a forgery
                if self.seen.get(key, digest) != digest:
                    what = (f"event {item.id} ({item.type_name} of {item.aggregate_id} version "
                            f"{item.version})" if isinstance(item, RecordedEvent)
                            else f"checkpoint at position {item.position}")
                    self.problems.append(f"{what} appears twice with different content")
                continue
            self.last = key
            self.seen[key] = digest
            if len(self.seen) > _WINDOW:
                self.seen.popitem(last=False)
            return item

    def _message(self) -> Any:
        deadline = time.monotonic() + self.timeout
        while not self.buffer:
            if self.done:
                return None
            for msg in self.consumer.consume(500, 0.2):
                if msg.error() is None:
                    self.buffer.append(msg)
            if self.buffer:
                if (self.buffer[-1].offset() or 0) + 1 >= self.high:
                    self.done = True
            elif time.monotonic() > deadline:
                self.problems.append(f"topic {self.consumer.assignment()[0].topic}: timed out "
                                     f"reading partition {self.partition}")
                self.done = True
        msg = self.buffer.popleft()
        if (msg.offset() or 0) + 1 >= self.high:
            self.done = True
            self.buffer.clear()
        return msg

    def close(self) -> None:
        self.consumer.close()


def _digest(item: RecordedEvent | Checkpoint) -> str:
    if isinstance(item, Checkpoint):
        return f"{item.running_hash}:{item.events}"
    return f"{item.id}:{item.hash}:{event_hash(item.prevhash, item.type_name, item.state)}"


class _StoreMatch:
    """Walks the store beside the topic, both in position order: what the relay says it
    published must be on the topic, and nothing on the topic may lie past the store's end."""

    def __init__(self, store: EventHistory | None, published_up_to: int,
                 problems: list[str]) -> None:
        self.problems = problems
        self.published_up_to = published_up_to
        self.records = iter(store.read()) if store is not None else None
        self.end = store.last_position() if store is not None else 0
        self.pending: RecordedEvent | None = self._next()
        self.past_count, self.past_last = 0, 0  # events past the store's end

    def _next(self) -> RecordedEvent | None:
        return next(self.records, None) if self.records is not None else None

    def saw(self, record: RecordedEvent) -> None:
        if self.records is None:
            return
        position = record.position or 0
        if position > self.end:
            self.past_count, self.past_last = self.past_count + 1, position
            return
        while self.pending is not None and (self.pending.position or 0) < position:
            self._missing(self.pending)
            self.pending = self._next()
        if self.pending is not None and self.pending.position == position:
            self.pending = self._next()

    def finish(self) -> None:
        while self.pending is not None:
            self._missing(self.pending)
            self.pending = self._next()
        if self.past_count:
            self.problems.append(
                f"the topic holds {self.past_count} event(s) past the store's end (position "
                f"{self.end}), up to position {self.past_last}: the store lost them; restore it "
                'from a backup (see README "Recovering a store")')

    def _missing(self, r: RecordedEvent) -> None:
        if (r.position or 0) <= self.published_up_to:
            self.problems.append(f"position {r.position}: {r.type_name} of {r.aggregate_id} "
                                 f"version {r.version} is in the store but missing from the "
                                 "topic")


def replay(history: EventHistory, runners: list[ProjectionRunner], until: datetime,
           batch_size: int = 500, progress: Progress | None = None,
           through: int | None = None) -> int:
    """Rebuild views as of ``until`` into the runners' (separate) database, and mark it as
    a replay: a checkpoint of the store as it was read (so a later replay may write there
    again, and nothing takes it for live views). ``through``: the history up to that
    position instead, read no further (what ``until`` resolves to, history.last_at)."""
    for runner in runners:
        runner.reset()
    applied = 0
    batch: list[Delivery] = []
    head = GENESIS_HEAD

    def flush() -> None:  # every view in one transaction: one pass, one commit per batch
        if batch and len({str(r.engine.url) for r in runners}) == 1:
            ProjectionRunner.apply_together([(runner, list(batch)) for runner in runners])
        else:
            for runner in runners:
                runner.apply(batch)
        batch.clear()

    records: Iterable[RecordedEvent] = history.read(stop=through) if through else ()
    if through is None:
        records = history.read()
    for record in records:
        if progress is not None:
            progress(1)
        head = Head(record.position or 0, running_hash(head.running_hash, record.hash),
                    head.events + 1)
        if through is None and record.timestamp > until:
            continue
        batch.append(Delivery(0, record.position or 0, record))
        applied += 1
        if len(batch) >= batch_size:
            flush()
    flush()
    if runners:
        CheckpointLog(runners[0].engine, REPLAY).record(
            head, note=f"replayed as of {until.isoformat()}: {applied} event(s)")
    return applied


class AuditService:
    """The audit tools behind the CLI and the HTTP API (application.ports.Auditor)."""

    def __init__(self, history: EventHistory, relay_state: Callable[[], RelayStateStore],
                 kafka: KafkaConfig | None, *,
                 runners_at: Callable[[str], list[ProjectionRunner]], targets: ReplayTargets,
                 replay_dir: Path, as_of: ReplayCache,
                 checkpoints: Callable[[], CheckpointLog] | None = None,
                 integrity: Callable[[], str | None] | None = None,
                 witness: Witness | None = None) -> None:
        self.history = history
        self.relay_state = relay_state
        self.kafka = kafka
        self.runners_at = runners_at
        self.targets = targets
        self.replay_dir = replay_dir
        self.as_of = as_of
        self.checkpoints = checkpoints  # the ones kept outside the store, beside the views
        self.integrity = integrity  # why the store cannot be what the views saw, if so
        self.witness = witness  # how far the history went, told outside the store

    def replay(self, until: datetime, into: str | None = None,
               progress: Progress | None = None) -> dict[str, Any]:
        """Views as of ``until`` in a separate database (a new SQLite file by default):
        a fresh one, an earlier replay or a new file in the data directory, never the live
        views or the store (streams/targets.py)."""
        target = self.replay_target(until, into)
        applied = replay(self.history, self.runners_at(target), until, progress=progress)
        return {"replayed": applied, "until": until.isoformat(), "into": target.split("@")[-1]}

    def replay_target(self, until: datetime, into: str | None = None) -> str:
        """Where a replay as of ``until`` goes, checked (ReplayTargetError if refused)."""
        stamp = until.strftime("%Y%m%dT%H%M%S")
        target = into or f"sqlite:///{self.replay_dir / f'replay-{stamp}.sqlite3'}"
        self.targets.check(target)
        return target

    def views_as_of(self, until: datetime) -> tuple[str, int]:
        """A views database as it was at ``until`` and how many events it holds: the
        history up to the last event recorded by then, replayed the first time that event
        is the last, then kept within the replays' bound (streams/replay_cache.py)."""
        last = self.history.last_at(until)
        position, tip = (0, GENESIS) if last is None else (last.position or 0, last.hash)
        return self.as_of.get(position, tip, lambda target: replay(
            self.history, self.runners_at(target), until, through=position))

    def reports(self, *, kafka: bool = False, progress: Progress | None = None
                ) -> list[AuditReport]:
        """The store against its chains, the relay's checkpoints, those kept beside the
        views and the witness's (a loss at the store's end is named first), and the topic
        if asked."""
        told = self.witness.testimony() if self.witness is not None else Testimony()
        end = self.history.last_position()  # after the witness: it never leads the store
        state = self.relay_state()
        checkpoints = state.checkpoints()
        book = self.checkpoints() if self.checkpoints is not None else None
        if book is not None:
            checkpoints += book.checkpoints()
        checkpoints += [c for c in told.checkpoints if c.running_hash and c.position <= end]
        store = verify_store(self.history, checkpoints, progress)
        store.problems[:0] = told.problems
        cut = self._cut_short(told, end, store.events)
        if cut is not None:
            store.problems.insert(0, cut)
        problem = self.integrity() if self.integrity is not None else None
        if problem is not None:
            store.problems.insert(0, problem)
        if book is not None:
            store.notes = list(dict.fromkeys(a.reason for a in book.set_aside()))
        store.notes += [n for n in told.accepted if n not in store.notes]
        reports = [store]
        if kafka:
            reports.append(verify_topic(self._topic(), self.history, state.load().position,
                                        progress))
        return reports

    def _cut_short(self, told: Testimony, end: int, events: int | None) -> str | None:
        """Why the store cannot be what the witness saw, naming the missing range."""
        last = told.last
        if self.witness is None or last is None or last.position <= end:
            return None
        count = (f" ({last.events - events} events)"
                 if last.events and events is not None and last.events > events else "")
        return (f"the {self.witness.name} saw the history up to position {last.position} but "
                f"the event store ends at position {end}: the events after position {end} up "
                f"to {last.position}{count} are missing, whatever the views and checkpoints "
                f"say; restore the store from a backup ({RECOVERING})")

    def witness_problem(self) -> str | None:
        """A loss at the store's end only the witness saw (the views and checkpoints beside
        them were cut with it), in one line; None if there is none or no witness."""
        if self.witness is None:
            return None
        told = self.witness.testimony()
        return (self._cut_short(told, self.history.last_position(), None)
                or next(iter(told.problems), None))

    def require_kafka(self) -> None:
        self._topic()

    def _topic(self) -> KafkaConfig:
        if self.kafka is None:
            raise KafkaNotConfiguredError(
                "Kafka is not configured: set ALTLAS_KAFKA_BOOTSTRAP_SERVERS, or verify the "
                "store alone (without kafka)")
        return self.kafka

    def verify(self, *, kafka: bool = False, progress: Progress | None = None
               ) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.reports(kafka=kafka, progress=progress)]

    def accept_loss(self, who: str, reason: str | None = None) -> dict[str, Any]:
        """Accept that the store lost what the views and checkpoints saw beyond its end,
        after restoring what could be restored: the checkpoints past the end are set aside
        (kept, with who accepted what and when, for every later audit to show), and a
        record of the acceptance is kept beside them with the store's own checkpoint at
        its end. The caller rebuilds the views from the store."""
        if self.checkpoints is None:
            raise NoCheckpointsError("this auditor keeps no checkpoints beside the views")
        book = self.checkpoints()
        with book.engine.connect() as conn:
            marks = read_marks(conn)
        end = GENESIS_HEAD
        for record in self.history.read():
            end = Head(record.position or 0, running_hash(end.running_hash, record.hash),
                       end.events + 1)
        lost = []
        testimony = self.witness.testimony() if self.witness is not None else Testimony()
        if testimony.problems:
            raise WitnessUnavailableError(f"{testimony.problems[0]}; nothing was accepted")
        told = testimony.last
        if told is not None and told.position > end.position and self.witness is not None:
            lost.append(f"the {self.witness.name} saw up to {told.position}")
        if marks.views_position > end.position:
            lost.append(f"the views had applied up to {marks.views_position}")
        if marks.checkpoint is not None and marks.checkpoint.position > end.position:
            lost.append(f"the last checkpoint covered {marks.checkpoint.position} "
                        f"({marks.checkpoint.events} events)")
        if not lost:
            return {"accepted": False, "store_end": end.position, "events": end.events}
        now = datetime.now(UTC).isoformat(timespec="seconds")
        note = (f"loss accepted {now} by {who}: the event store ended at position "
                f"{end.position} ({end.events} events, running hash {end.running_hash[:12]}) "
                f"but {' and '.join(lost)}" + (f"; reason: {reason}" if reason else ""))
        if self.witness is not None:  # first: a witness that cannot be told changes nothing
            try:
                self.witness.accepted(end, note)
            except WitnessUnavailableError as e:
                raise WitnessUnavailableError(
                    f"the {self.witness.name} cannot be told of the acceptance, so nothing "
                    f"was accepted: {e}") from None
        set_aside = book.accept_loss(end, note)
        self.as_of.clear()  # views of the lost past
        return {"accepted": True, "store_end": end.position, "events": end.events,
                "set_aside": len(set_aside), "note": note}

    def export_lines(self, until: datetime | None = None,
                     since: datetime | None = None) -> Iterator[str]:
        """The events from ``since`` to ``until``: read on from the last one before
        ``since`` (found by bisecting), as events are recorded in the order of their times."""
        before = (self.history.last_at(since - timedelta(microseconds=1))
                  if since is not None else None)
        after = before.position or 0 if before is not None else 0
        for record in self.history.read(after=after):
            if (until is None or record.timestamp <= until) and (
                    since is None or record.timestamp >= since):
                yield json.dumps(cloudevent(record), ensure_ascii=False, separators=(",", ":"))


class KafkaNotConfiguredError(InvalidInputError):
    """Asked to verify the topic where no broker is configured (HTTP 422, CLI exit 2)."""


class NoCheckpointsError(Exception):
    pass


class StoreGuard:
    """A check of the store against the marks outside it, answered from a cache for
    ``ttl`` seconds: /healthz may be asked often, and the check reads two databases."""

    def __init__(self, check: Callable[[], str | None], ttl: float = 1.5) -> None:
        self._check = check
        self.ttl = ttl
        self._lock = threading.Lock()
        self._at = -ttl
        self._last: str | None = None

    def problem(self) -> str | None:
        with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                self._last = self._check()
                self._at = time.monotonic()
            return self._last

