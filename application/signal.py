"""Wakes followers of the events when something was recorded, so they need not poll fast."""

from __future__ import annotations

import threading


class Signal:
    """A counter that followers wait on. Read ``generation`` before looking for new events,
    then ``wait`` with it: a notification that came in between is not missed."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    def notify(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        """Until something is recorded after ``seen``, or ``timeout`` seconds; True if woken."""
        with self._condition:
            return self._condition.wait_for(lambda: self._generation != seen, timeout)
