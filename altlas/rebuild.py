"""`altlas projections rebuild`: the views emptied and applied again from the store, every
view in one pass over the events and, when several processes are available, in parallel.

Each worker process takes a share of the aggregates. Every row of every view belongs to one
aggregate (the Kafka projector's partitions already rely on it), so the shares never touch
the same row; each worker keeps its positions under a source of its own, and when all are
done they give way to the store feed's single position, which then applies whatever was
recorded meanwhile.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import zlib
from collections.abc import Sequence
from multiprocessing.sharedctypes import Synchronized
from uuid import UUID

from altlas.bootstrap import System, bootstrap
from altlas.progress import Progress
from altlas.settings import load_settings
from projections.runner import Delivery, ProjectionRunner

BATCH = 500
MAX_WORKERS = 4


class RebuildError(RuntimeError):
    """A worker of a parallel rebuild failed: the views are incomplete."""


def share_of(aggregate_id: UUID, shares: int) -> int:
    return zlib.crc32(aggregate_id.bytes) % shares


def share_source(index: int, shares: int) -> str:
    return f"rebuild:{index}/{shares}"


def default_workers(system: System) -> int:
    """One per core (at most four) on PostgreSQL views; SQLite writes one at a time."""
    if system.views().dialect.name != "postgresql":
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def rebuild(system: System, names: Sequence[str] | None, workers: int,
            progress: Progress) -> int:
    """Empty the views and apply the history again; returns how many events it applied."""
    runners = system.runners(names=names)
    for runner in runners:
        runner.reset()
    total = reached = 0
    if workers > 1:
        reached = system.history.last_position()
        total = _in_parallel(list(names or []), workers, reached, progress)
        sources = [share_source(i, workers) for i in range(workers)]
        for runner in runners:
            runner.settle(sources, reached)
    # What came after, and the checkpoint over it all: on views that never had one, the
    # checkpoint is folded over the whole history again, which applies no event twice and
    # is not counted as if it did.
    feed = system.store_feed(names)
    while feed.poll_once():
        if (now := feed.applied_through()) > reached:
            total += now - reached
            progress(now - reached)
            reached = now
    return total


def _in_parallel(names: list[str], workers: int, end: int, progress: Progress) -> int:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited locks
    applied = context.Value("q", 0)
    processes = [context.Process(target=_share, args=(names, i, workers, end, applied),
                                 name=f"altlas-rebuild-{i}", daemon=True)
                 for i in range(workers)]
    for process in processes:
        process.start()
    reported = 0
    try:
        while any(p.is_alive() for p in processes):
            time.sleep(0.5)
            reported = _report(applied, reported, progress)
    finally:
        for process in processes:
            process.join()
    _report(applied, reported, progress)
    failed = [p for p in processes if p.exitcode != 0]
    if failed:
        raise RebuildError(
            f"{len(failed)} of {workers} rebuild workers failed (exit code "
            f"{failed[0].exitcode}; its error is above): the views are incomplete; run "
            "`altlas projections rebuild` again")
    return int(applied.value)


def _report(applied: Synchronized[int], reported: int, progress: Progress) -> int:
    now = int(applied.value)
    if now > reported:
        progress(now - reported)
    return now


def _share(names: list[str], index: int, shares: int, end: int,
           applied: Synchronized[int]) -> None:
    """One worker: its share of the aggregates, up to ``end``, in batches."""
    system = bootstrap(load_settings())
    try:
        runners = system.runners(share_source(index, shares), names or None)
        batch: list[Delivery] = []

        def flush() -> None:
            if batch:
                ProjectionRunner.apply_together([(runner, batch) for runner in runners])
                with applied.get_lock():
                    applied.value += len(batch)
                batch.clear()

        for record in system.history.read(stop=end,
                                          only=lambda a: share_of(a, shares) == index):
            batch.append(Delivery(0, record.position or 0, record))
            if len(batch) >= BATCH:
                flush()
        flush()
    finally:
        system.close()
