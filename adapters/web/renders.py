"""One render of a page's live part per key, however many open streams wait for it.

Every change of the views used to render every open page, queued in the event loop's default
executor ahead of the chat front's own work in the same process: 200 open *Now* pages were 200
renders per change (Approve-click acknowledgement p99 178 → 958 ms). Here the streams of one
key (a page and what of the person it shows: roles, language, which approvals are theirs)
share one render, started by the first that asks and awaited by the others; a key renders at
most once per ``interval``, so a burst of changes makes one render at its end, at the position
of the moment it starts; and renders run on a pool of their own, off the event loop. The
streams waiting for one render wait on one event of the event loop: each wrapping the
render's thread future itself cost the loop a hand-off per open page, per change.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

INTERVAL = 0.1  # seconds between two renders of one key
KEEP = 60.0  # seconds an entry no stream asked for is kept


@dataclass
class _Entry:
    position: int = -1
    value: Any = None
    job: Future[None] | None = None  # the render in progress
    # set on the loop its streams wait on when the job is done
    waited: tuple[asyncio.AbstractEventLoop, Future[None], asyncio.Event] | None = None
    started: float = float("-inf")
    used: float = field(default_factory=time.monotonic)


class Renders:
    """Shared renders by key, each labelled with the views' position it shows."""

    def __init__(self, *, interval: float = INTERVAL, workers: int = 1,
                 keep: float = KEEP) -> None:
        self._interval = interval
        self._keep = keep
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="ui-render")
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry] = {}
        self._swept = time.monotonic()

    async def latest(self, key: Hashable, wanted: int, render: Callable[[], tuple[int, T]],
                     *, coalesce: bool = True) -> tuple[int, T]:
        """``key``'s render at a position of at least ``wanted``: the last one if it is far
        enough, else the one in progress, else a new one (``render`` gives the position it
        drew and what it drew). Renders that end short of ``wanted`` are followed by
        another, so a waiting stream always ends on the latest position. Without
        ``coalesce``, no interval is kept (what is drawn from a render that kept it)."""
        interval = self._interval if coalesce else 0.0
        while True:
            wait = 0.0
            with self._lock:
                entry = self._entry(key)
                if entry.position >= wanted:
                    return entry.position, entry.value
                if entry.job is None:
                    wait = entry.started + interval - time.monotonic()
                    if wait <= 0:
                        entry.job = self._start(entry, render)
                job = entry.job
                done = None if job is None else self._waited(entry, job)
            if job is None or done is None:
                await asyncio.sleep(wait)
                continue
            await done.wait()  # a stream that closes stops waiting; the others' render goes on
            error = job.exception()
            if error is not None:
                raise error

    async def run(self, work: Callable[[], T]) -> T:
        """``work`` on the renders' pool, so that no stream's work waits in the event
        loop's default executor ahead of other requests."""
        return await asyncio.wrap_future(self._pool.submit(work))

    def keys(self) -> int:
        """How many keys are kept now."""
        with self._lock:
            return len(self._entries)

    def _start(self, entry: _Entry, render: Callable[[], tuple[int, T]]) -> Future[None]:
        entry.started = time.monotonic()

        def job() -> None:
            try:
                position, value = render()
                with self._lock:
                    if position >= entry.position:
                        entry.position, entry.value = position, value
            finally:
                with self._lock:
                    entry.job = None

        return self._pool.submit(job)

    @staticmethod
    def _waited(entry: _Entry, job: Future[None]) -> asyncio.Event:
        """The running loop's one event for ``job`` (made by the first stream to wait)."""
        loop = asyncio.get_running_loop()
        if entry.waited is None or entry.waited[0] is not loop or entry.waited[1] is not job:
            done = asyncio.Event()

            def finished(_: Future[None]) -> None:
                if not loop.is_closed():
                    loop.call_soon_threadsafe(done.set)

            job.add_done_callback(finished)
            entry.waited = loop, job, done
        return entry.waited[2]

    def _entry(self, key: Hashable) -> _Entry:
        """The key's entry (made if new), after dropping those nobody asked for a while."""
        now = time.monotonic()
        if now - self._swept > self._keep:
            self._swept = now
            for old in [k for k, e in self._entries.items()
                        if e.job is None and now - e.used > self._keep]:
                del self._entries[old]
        entry = self._entries.setdefault(key, _Entry())
        entry.used = now
        return entry
