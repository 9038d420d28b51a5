"""Session-level advisory locks in PostgreSQL (application/ports.py's SessionLocks).

One connection holds them all; PostgreSQL releases them when that connection closes, so a
worker killed with -9 lets go of its lanes at once. Lock names are hashed with the store's
namespace (its schema), so stores sharing a database do not lock each other out.
"""

from __future__ import annotations

import hashlib
import logging
import threading

import psycopg

log = logging.getLogger("altlas.locks")


class PostgresSessionLocks:
    def __init__(self, conninfo: str, namespace: str) -> None:
        self._conninfo = conninfo
        self._namespace = namespace
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._held: set[str] = set()
        self._mutex = threading.Lock()

    def try_acquire(self, name: str) -> bool:
        with self._mutex:
            if name in self._held:
                return True  # PostgreSQL would stack a second hold, needing two releases
            got = self._ask("SELECT pg_try_advisory_lock(%s)", name)
            if got:
                self._held.add(name)
            return bool(got)

    def release(self, name: str) -> None:
        with self._mutex:
            if name in self._held:
                self._ask("SELECT pg_advisory_unlock(%s)", name)
                self._held.discard(name)

    def held(self) -> frozenset[str]:
        with self._mutex:
            if self._held and self._ask("SELECT 1", None) is None:
                self._held.clear()  # the session is gone, and its locks with it
            return frozenset(self._held)

    def close(self) -> None:
        with self._mutex:
            self._drop()

    def _ask(self, sql: str, name: str | None) -> object:
        """The query's one value; None if the store did not answer (the connection and the
        locks it held are dropped: they are gone on the server too)."""
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
            row = self._conn.execute(sql, () if name is None else (self._id(name),)).fetchone()
        except psycopg.Error as e:
            log.warning("the lock session with the event store failed (%s); the lanes it "
                        "held are free for other workers", " ".join(str(e).split()))
            self._drop()
            return None
        return row[0] if row else None

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._held.clear()

    def _id(self, name: str) -> int:
        """A signed 64-bit key, as pg_advisory_lock takes."""
        digest = hashlib.blake2b(f"{self._namespace}\0{name}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)
