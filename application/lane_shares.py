"""Which worker follows which lane, when several workers share a store.

Exactly-once does not depend on this: a reaction is recorded with its tracking record, so
two workers deciding the same event still record it once. But both would load, decide and
try to record every event, and the loser would do it all for nothing, under a conflict
that sends it back to the store. So each lane is followed by one worker at a time, holding a
lock on the lane through its session with the store; the lanes are shared out evenly among
the live workers, and a lane whose worker died is taken over by another within ``retry``
seconds.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence

from application.ports import SessionLocks

log = logging.getLogger("altlas.worker")


class LaneShares:
    def __init__(self, locks: SessionLocks, lanes: Sequence[str], *, retry: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._locks = locks
        self._lanes = tuple(lanes)
        self._retry = retry
        self._clock = clock
        self._held: set[str] = set()
        self._next_try: dict[str, float] = {}
        self._quota = len(self._lanes)  # alone until the registry says otherwise
        self._mutex = threading.Lock()

    def owns(self, lane: str) -> bool:
        """This worker is the one to follow ``lane`` now. Asking the store is throttled to
        once per ``retry`` seconds per lane, so an idle worker woken by every event stays
        cheap."""
        with self._mutex:
            if lane in self._held:
                return True
            now = self._clock()
            if now < self._next_try.get(lane, 0.0) or len(self._held) >= self._quota:
                return False
            self._next_try[lane] = now + self._retry
            if self._locks.try_acquire(self._key(lane)):
                self._held.add(lane)
                log.info("following the %s lane (%d of %d lanes here)", lane,
                         len(self._held), len(self._lanes))
                return True
            return False

    def share(self, workers: int) -> None:
        """With ``workers`` live workers, hold at most an even share of the lanes: the
        ones over it, last in the lanes' order, are let go for the others to take (the
        first to start took them all)."""
        with self._mutex:
            self._held &= {self._lane(key) for key in self._locks.held()}
            self._quota = math.ceil(len(self._lanes) / max(workers, 1))
            for lane in [lane for lane in self._lanes if lane in self._held][self._quota:]:
                self._locks.release(self._key(lane))
                self._held.discard(lane)
                self._next_try[lane] = self._clock() + 2 * self._retry  # others go first
                log.info("left the %s lane to the other %d worker(s)", lane, workers - 1)

    def release_all(self) -> None:
        with self._mutex:
            for lane in self._held:
                self._locks.release(self._key(lane))
            self._held.clear()

    def held(self) -> frozenset[str]:
        with self._mutex:
            return frozenset(self._held)

    @staticmethod
    def _key(lane: str) -> str:
        return f"lane:{lane}"

    @staticmethod
    def _lane(key: str) -> str:
        return key.removeprefix("lane:")
