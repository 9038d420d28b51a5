"""Signed requests a chat front accepted, kept in the view database for a while, so every
process of altlas sees the same ones: a replay is refused, a platform's own retry handled
once. The dashboard keeps its signed-out sessions here the same way (adapters/web/session.py)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from projections.schema import seen_requests
from projections.times import utc

PRUNE_EVERY_SECONDS = 60.0


class SqlSeenRequests:
    """``first(front, key)`` records a key and says whether it is new, atomically across
    processes; keys older than ``keep`` are pruned (at most once a minute per process)."""

    def __init__(self, engine: Callable[[], Engine], keep: timedelta,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._engine = engine
        self._keep = keep
        self._clock = clock
        self._pruned_at: float | None = None
        self._pruning = threading.Lock()

    def first(self, front: str, key: str) -> bool:
        """Record ``key``; True if no process had recorded it (within ``keep``)."""
        return self.first_of(front, [key])[0]

    def first_of(self, front: str, keys: Sequence[str]) -> list[bool]:
        """Record ``keys`` in one transaction; for each, True if no process had recorded it
        (within ``keep``) and it is its first time in ``keys``."""
        now = self._clock()
        engine = self._engine()
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        unique = list(dict.fromkeys(keys))
        # RETURNING, as rowcount is not told reliably by every driver
        insert = dialect.insert(seen_requests).values(
            [{"front": front, "key": key, "seen_at": now} for key in unique]
        ).on_conflict_do_nothing().returning(seen_requests.c.key)
        with engine.begin() as conn:
            if self._prune_due():
                conn.execute(delete(seen_requests).where(
                    seen_requests.c.front == front, seen_requests.c.seen_at < now - self._keep))
            new = {row.key for row in conn.execute(insert)}
        firsts = []
        for key in keys:
            firsts.append(key in new)
            new.discard(key)  # the same key twice in one batch: the second is a replay
        return firsts

    def seen_or_since(self, front: str, key: str, prefix: str, since: float) -> bool:
        """Whether some process recorded ``key``, or a key starting with ``prefix`` at
        ``since`` (seconds since the epoch) or later (within ``keep``): one query."""
        kept = self._clock() - self._keep
        after = max(datetime.fromtimestamp(since, UTC), kept)
        with self._engine().connect() as conn:
            return conn.execute(select(seen_requests.c.seen_at).where(
                seen_requests.c.front == front, seen_requests.c.seen_at >= kept,
                or_(seen_requests.c.key == key,
                    and_(seen_requests.c.key.startswith(prefix, autoescape=True),
                         seen_requests.c.seen_at >= after))).limit(1)).first() is not None

    def recorded_since(self, front: str, since: float) -> dict[str, float]:
        """The keys of ``front`` recorded at ``since`` (seconds since the epoch) or later,
        within ``keep``, with when: one query."""
        after = max(datetime.fromtimestamp(since, UTC), self._clock() - self._keep)
        with self._engine().connect() as conn:
            return {row.key: utc(row.seen_at).timestamp() for row in conn.execute(
                select(seen_requests.c.key, seen_requests.c.seen_at).where(
                    seen_requests.c.front == front, seen_requests.c.seen_at >= after))}

    def forget(self, front: str, key: str) -> None:
        """Drop ``key``: what it stood for was not done after all."""
        with self._engine().begin() as conn:
            conn.execute(delete(seen_requests).where(seen_requests.c.front == front,
                                                     seen_requests.c.key == key))

    def _prune_due(self) -> bool:
        with self._pruning:
            now = time.monotonic()
            if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_SECONDS:
                return False
            self._pruned_at = now
            return True
