"""The embedded feed with and without the checkpoints it keeps beside the views.

With checkpoints, every batch the store feed applies also carries the running hash over the
store's global order on (a sha256 per event) and writes the head checkpoint in the same
transaction as the views (one UPDATE, or an INSERT and a DELETE every
ALTLAS_CHECKPOINT_EVERY events). The baseline is the same feed without them, in the same
run, on the same stored events: every view rebuilt from the store, the two alternating (and
which goes first), the median of --repeat runs each. Big batches are a rebuild or a feed
catching up; small ones (10 events) are `altlas serve` following a request's chain of events
as it is recorded.

    python bench/checkpoints.py [--journeys 500] [--repeat 5] [--backends sqlite,postgres]

PostgreSQL (store and views) needs the services of scripts/services.sh.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import psycopg
from journeys import EVENTS_PER_JOURNEY, journey, timed
from sqlalchemy import delete

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.history import EventHistory
from domain.records import RecordedEvent
from projections.runner import ProjectionRunner
from projections.schema import store_checkpoints
from streams.checkpoints import STORE, CheckpointLog
from streams.feeds import StoreFeed

PG = os.environ.get("ALTLAS_TEST_DATABASE_URL",
                    "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test")


def emptied(system: System) -> tuple[list[ProjectionRunner], CheckpointLog]:
    """Every view, and the store feed's checkpoints, as before the first event."""
    runners = system.runners()
    for runner in runners:
        runner.reset()
    book = system.checkpoint_log()
    with book.engine.begin() as conn:
        conn.execute(delete(store_checkpoints).where(store_checkpoints.c.source == STORE))
    return runners, book


def rebuild(system: System, history: EventHistory, batch: int, checkpoints: bool) -> float:
    runners, book = emptied(system)
    feed = StoreFeed(history, runners, batch, checkpoints=book if checkpoints else None)
    seconds = timed(feed.catch_up)
    if checkpoints:
        assert book.head().position == history.last_position()
    return seconds


def measure(system: System, history: EventHistory, batch: int, repeat: int
            ) -> tuple[float, float]:
    plain, kept = [], []
    rebuild(system, history, batch, True)  # warm: statements built, pages cached
    for i in range(repeat):  # alternating which goes first
        for checkpoints in ((False, True) if i % 2 == 0 else (True, False)):
            (kept if checkpoints else plain).append(
                rebuild(system, history, batch, checkpoints))
    return statistics.median(plain), statistics.median(kept)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    rows = []
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as root:
            schema = f"bench_cp_{uuid4().hex[:8]}"
            if backend == "sqlite":
                settings = Settings(data_dir=Path(root), database_url=None,
                                    views_database_url=None)
            else:
                settings = Settings(data_dir=Path(root), database_url=f"{PG}?schema={schema}",
                                    views_database_url=f"{PG}?schema={schema}v")
                with psycopg.connect(PG, autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
            system = bootstrap(settings)
            try:
                for i in range(args.journeys):
                    journey(system.app, i)
                events = system.history.last_position()
                assert events == args.journeys * EVENTS_PER_JOURNEY
                for batch, upto in ((500, events), (10, min(events, 2000))):
                    history = _Prefix(system.history, upto)  # small batches: a slice
                    plain, kept = measure(system, history, batch, args.repeat)
                    rows.append((backend, batch, upto, plain, kept))
            finally:
                system.close()
                if backend != "sqlite":
                    with psycopg.connect(PG, autocommit=True) as conn:
                        for name in (schema, f"{schema}v"):
                            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    print(f"\n{'backend':<9} {'batch':>5} {'events':>7} {'without s':>9} {'with s':>7} "
          f"{'without ev/s':>12} {'with ev/s':>9} {'with/without':>12}")
    for backend, batch, events, plain, kept in rows:
        print(f"{backend:<9} {batch:>5} {events:>7} {plain:>9.2f} {kept:>7.2f} "
              f"{events / plain:>12.0f} {events / kept:>9.0f} {plain / kept:>12.0%}")
    return 0


class _Prefix(EventHistory):
    """The first ``events`` of a history: a rebuild of that much."""

    def __init__(self, history: EventHistory, events: int) -> None:
        self._whole, self._events = history, events

    def read(self, after: int = 0, limit: int | None = None) -> Iterator[RecordedEvent]:
        room = max(self._events - after, 0)
        return self._whole.read(after, room if limit is None else min(limit, room))

    def last_position(self) -> int:
        return min(self._events, self._whole.last_position())


if __name__ == "__main__":
    sys.exit(main())
