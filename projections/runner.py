"""Applies delivered events to one projection, storing where it got to in the same
transaction as the rows, so every event takes effect exactly once."""

from __future__ import annotations

import contextlib
import logging
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, bindparam, delete, select, text, update

from domain.catalog import upcast
from domain.records import RecordedEvent
from projections.folding import Projection
from projections.schema import poisoned, positions

log = logging.getLogger("projections")

STORE = "store"


@dataclass(frozen=True)
class Delivery:
    """One message from a feed: a record, the reason it could not be read, or neither
    (a message for someone else, such as a relay checkpoint, which only moves the position)."""

    partition: int
    position: int  # store: notification id; Kafka: offset
    record: RecordedEvent | None
    raw: str = ""
    problem: str | None = None


# Built once: a feed reads and moves its positions with every batch.
_WHERE = (positions.c.projection == bindparam("p_name"),
          positions.c.source == bindparam("p_source"))
_POSITIONS = select(positions.c.partition, positions.c.position).where(*_WHERE)
_MOVE = (update(positions).where(*_WHERE, positions.c.partition == bindparam("p_part"))
         .values(position=bindparam("p_position")))

_LOCKS: dict[tuple[str, str, str], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class ProjectionRunner:
    def __init__(self, engine: Engine, projection: Projection, source: str) -> None:
        self.engine = engine
        self.projection = projection
        self.source = source
        key = (str(engine.url), projection.name, source)
        with _LOCKS_GUARD:
            self._lock = _LOCKS.setdefault(key, threading.Lock())

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One applier at a time per projection and feed: a lock in this process, and on
        PostgreSQL an advisory lock across processes."""
        with self._lock, self.engine.begin() as conn:
            self._turn(conn)
            yield conn

    def _turn(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            key = zlib.crc32(f"{self.name}|{self.source}".encode())
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    @property
    def name(self) -> str:
        return self.projection.name

    def positions(self) -> dict[int, int]:
        """The last applied position per partition."""
        with self.engine.connect() as conn:
            return self._positions(conn)

    def _positions(self, conn: Connection) -> dict[int, int]:
        rows = conn.execute(_POSITIONS, {"p_name": self.name, "p_source": self.source})
        return {row.partition: row.position for row in rows}

    def apply(self, deliveries: Sequence[Delivery]) -> int:
        """Apply a batch in one transaction; returns how many records took effect.

        If the batch fails, each delivery is retried in its own transaction and one that
        still fails is set aside, so a bad event never blocks the ones behind it.
        """
        try:
            with self._transaction() as conn:
                return self._apply(conn, deliveries)
        except Exception as e:
            if len(deliveries) == 1:
                self._set_aside_failed(deliveries[0], e)
                return 0
            log.warning("projection %s: a batch of %d failed; retrying one by one", self.name,
                        len(deliveries), exc_info=True)
            return sum(self.apply([d]) for d in deliveries)

    def _apply(self, conn: Connection, deliveries: Sequence[Delivery]) -> int:
        done = self._positions(conn)
        moved: dict[int, int] = {}
        records = []
        for d in deliveries:
            if d.position <= done.get(d.partition, -1):
                continue  # delivered again after a restart: already in the view
            if d.problem is not None:
                self._set_aside(conn, d, d.problem)
            elif d.record is not None:
                records.append(upcast(d.record))
            done[d.partition] = moved[d.partition] = d.position
        if records:
            self.projection.apply(conn, records)
        for partition, position in moved.items():
            self._save_position(conn, partition, position)
        return len(records)

    def _save_position(self, conn: Connection, partition: int, position: int) -> None:
        moved = conn.execute(_MOVE, {"p_name": self.name, "p_source": self.source,
                                     "p_part": partition, "p_position": position}).rowcount
        if not moved:
            conn.execute(positions.insert().values(projection=self.name, source=self.source,
                                                   partition=partition, position=position))

    def _set_aside(self, conn: Connection, d: Delivery, reason: str) -> None:
        log.error("projection %s: set aside %s partition %d offset %d: %s", self.name,
                  self.source, d.partition, d.position, reason)
        conn.execute(poisoned.insert().values(
            projection=self.name, source=self.source, partition=d.partition, offset=d.position,
            reason=reason, raw=d.raw[:100_000], set_aside_at=datetime.now(UTC)))

    def _set_aside_failed(self, d: Delivery, error: Exception) -> None:
        reason = f"projection failed: {type(error).__name__}: {error}"
        with self._transaction() as conn:
            if d.position > self._positions(conn).get(d.partition, -1):
                self._set_aside(conn, d, reason)
                self._save_position(conn, d.partition, d.position)

    @staticmethod
    def apply_together(work: Sequence[tuple[ProjectionRunner, Sequence[Delivery]]]) -> None:
        """Several projections of one database in one transaction (a feed's batch): one
        commit instead of one each. If it fails, each applies on its own, and what one
        cannot apply is set aside there."""
        runners = sorted((r for r, _ in work), key=lambda r: r.name)  # locks in one order
        try:
            with contextlib.ExitStack() as held:
                for runner in runners:
                    held.enter_context(runner._lock)
                conn = held.enter_context(runners[0].engine.begin())
                for runner in runners:
                    runner._turn(conn)
                for runner, deliveries in work:
                    runner._apply(conn, deliveries)
        except Exception:
            log.warning("projections %s: a batch failed together; applying each on its own",
                        ", ".join(r.name for r in runners), exc_info=True)
            for runner, deliveries in work:
                runner.apply(deliveries)

    def settle(self, sources: Sequence[str], position: int) -> None:
        """After a parallel rebuild: the workers' positions (each under a source of its
        own) give way to this runner's, every event up to ``position`` applied."""
        with self._transaction() as conn:
            conn.execute(delete(positions).where(positions.c.projection == self.name,
                                                 positions.c.source.in_(sources)))
            self._save_position(conn, 0, position)

    def reset(self) -> None:
        """Empty the projection's tables and forget its positions, ready for a rebuild."""
        with self._transaction() as conn:
            for table in reversed(self.projection.tables):
                conn.execute(delete(table))
            conn.execute(delete(positions).where(positions.c.projection == self.name))
