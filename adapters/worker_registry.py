"""Which workers are alive, kept beside the events (application.ports.WorkerRegistry).

A worker renews its row every third of the lease. Another worker counts it as gone when the
row is older than the lease, when it is missing, or at once when the row names a process on
this same host that no longer exists (a `kill -9` is noticed without waiting for the lease).
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    select,
    update,
)

from application.ports import WorkerInfo

metadata = MetaData()
workers = Table(
    "altlas_workers", metadata,
    Column("worker", String(200), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SqlWorkerRegistry:
    """Its table (``metadata``) is created by the composition root before first use."""

    def __init__(self, engine: Engine, lease: timedelta) -> None:
        self.engine = engine
        self.lease = lease
        self.host = socket.gethostname()

    def beat(self, worker: WorkerInfo) -> None:
        values = {"host": worker.host, "pid": worker.pid, "started_at": worker.started_at,
                  "seen_at": _now()}
        with self.engine.begin() as conn:
            found = conn.execute(update(workers).where(workers.c.worker == worker.id)
                                 .values(**values)).rowcount
            if not found:
                conn.execute(workers.insert().values(worker=worker.id, **values))

    def leave(self, worker_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(workers).where(workers.c.worker == worker_id))

    def alive(self, worker_id: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(workers).where(workers.c.worker == worker_id)).first()
        return row is not None and self._alive(row.host, row.pid, _aware(row.seen_at))

    def live(self) -> list[WorkerInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(workers).order_by(workers.c.started_at)).all()
        return [WorkerInfo(r.worker, r.host, r.pid, _aware(r.started_at)) for r in rows
                if self._alive(r.host, r.pid, _aware(r.seen_at))]

    def _alive(self, host: str, pid: int, seen_at: datetime) -> bool:
        if _now() - seen_at > self.lease:
            return False
        return host != self.host or _process_exists(pid)
