"""Audit tools: verify the history (store and topic), replay views as of a time, export."""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import TopicPartition

from application.history import EventHistory
from domain.errors import InvalidInputError
from domain.hashchain import GENESIS, ChainBreak, running_hash, verify_chain
from domain.records import RecordedEvent
from projections.runner import Delivery, ProjectionRunner
from streams.checkpoints import GENESIS_HEAD, REPLAY, CheckpointLog, Head, read_marks
from streams.cloudevents import Checkpoint, PoisonError, cloudevent, decode
from streams.kafka import KafkaConfig, make_consumer, watermarks
from streams.relay import RelayStateStore
from streams.targets import ReplayTargets

Progress = Callable[[int], None]
# Events are recorded with their time, so once a moment is this far in the past no new event
# falls before it: views replayed up to it are kept for good.
SETTLED = timedelta(minutes=1)


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

    def summary(self) -> str:
        head = (f"{self.source}: {self.events} events in {self.aggregates} aggregates, "
                f"{self.checkpoints} checkpoint(s)")
        if self.ok:
            return f"{head}: every hash chain and checkpoint verified"
        return f"{head}: {len(self.problems)} problem(s)"


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
                 published_up_to: int = 0, progress: Progress | None = None) -> AuditReport:
    """The topic on its own (duplicates from relay retries are allowed if identical), and,
    given the store, that every event the relay says it published is on the topic."""
    report = AuditReport(f"topic {config.topic}")
    records, checkpoints, unreadable = read_topic(config)
    report.problems.extend(unreadable)
    unique: dict[str, RecordedEvent] = {}
    for r in records:
        seen = unique.get(r.id)
        if seen is None:
            unique[r.id] = r
        elif seen.state != r.state or seen.position != r.position:
            report.problems.append(f"event {r.id} ({r.type_name} of {r.aggregate_id} version "
                                   f"{r.version}) appears twice with different content")
    ordered = sorted(unique.values(), key=lambda r: r.position or 0)
    distinct = {(c.position, c.running_hash, c.events): c for c in checkpoints}
    _check(ordered, list(distinct.values()), report, progress)
    if store is not None:
        end = store.last_position()
        past = [r for r in ordered if (r.position or 0) > end]
        if past:
            report.problems.append(
                f"the topic holds {len(past)} event(s) past the store's end (position {end}), "
                f"up to position {past[-1].position}: the store lost them; restore it from a "
                'backup (see README "Recovering a store")')
        on_topic = set(unique)
        for r in store.read():
            if (r.position or 0) > published_up_to:
                break
            if r.id not in on_topic:
                report.problems.append(f"position {r.position}: {r.type_name} of "
                                       f"{r.aggregate_id} version {r.version} is in the store "
                                       "but missing from the topic")
    return report


def replay(history: EventHistory, runners: list[ProjectionRunner], until: datetime,
           batch_size: int = 500, progress: Progress | None = None) -> int:
    """Rebuild views as of ``until`` into the runners' (separate) database, and mark it as
    a replay: a checkpoint of the store as it was read (so a later replay may write there
    again, and nothing takes it for live views)."""
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

    for record in history.read():
        if progress is not None:
            progress(1)
        head = Head(record.position or 0, running_hash(head.running_hash, record.hash),
                    head.events + 1)
        if record.timestamp > until:
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
                 replay_dir: Path, checkpoints: Callable[[], CheckpointLog] | None = None,
                 integrity: Callable[[], str | None] | None = None) -> None:
        self.history = history
        self.relay_state = relay_state
        self.kafka = kafka
        self.runners_at = runners_at
        self.targets = targets
        self.replay_dir = replay_dir
        self.checkpoints = checkpoints  # the ones kept outside the store, beside the views
        self.integrity = integrity  # why the store cannot be what the views saw, if so

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
        """A views database as it was at ``until`` and how many events it holds: replayed
        the first time it is asked for, then kept. A moment that is not yet well past may
        still gain events, so its views are replayed again whenever the store has grown."""
        folder = self.replay_dir / "as-of"
        folder.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(until.isoformat().encode()).hexdigest()[:16]
        last = self.history.last_position()
        settled = datetime.now(UTC) - until > SETTLED
        name = key if settled else f"{key}-{last}"
        meta = folder / f"{name}.json"
        target = f"sqlite:///{folder / f'{name}.sqlite3'}"
        with open(folder / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one replay at a time, across processes
            if meta.exists():
                return target, int(json.loads(meta.read_text())["events"])
            for stale in folder.glob(f"{key}-*"):
                stale.unlink(missing_ok=True)
            applied = replay(self.history, self.runners_at(target), until)
            meta.write_text(json.dumps({"until": until.isoformat(), "events": applied,
                                        "position": last}))
        return target, applied

    def reports(self, *, kafka: bool = False, progress: Progress | None = None
                ) -> list[AuditReport]:
        """The store against its chains, the relay's checkpoints and those kept beside the
        views (a loss at the store's end is named first), and the topic if asked."""
        state = self.relay_state()
        checkpoints = state.checkpoints()
        book = self.checkpoints() if self.checkpoints is not None else None
        if book is not None:
            checkpoints += book.checkpoints()
        store = verify_store(self.history, checkpoints, progress)
        problem = self.integrity() if self.integrity is not None else None
        if problem is not None:
            store.problems.insert(0, problem)
        if book is not None:
            store.notes = list(dict.fromkeys(a.reason for a in book.set_aside()))
        reports = [store]
        if kafka:
            reports.append(verify_topic(self._topic(), self.history, state.load().position,
                                        progress))
        return reports

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
        set_aside = book.accept_loss(end, note)
        shutil.rmtree(self.replay_dir / "as-of", ignore_errors=True)  # views of the lost past
        return {"accepted": True, "store_end": end.position, "events": end.events,
                "set_aside": len(set_aside), "note": note}

    def export_lines(self, until: datetime | None = None) -> Iterator[str]:
        for record in self.history.read():
            if until is None or record.timestamp <= until:
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

