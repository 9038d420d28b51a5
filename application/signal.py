"""Wakes followers of the events when something was recorded, so they need not poll fast;
and the loop every follower runs."""

from __future__ import annotations

import threading
from collections.abc import Callable


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


# What a follower's step says about what comes next.
AGAIN = True  # it found work: step again at once
IDLE = False  # nothing now: rest until something is recorded, or the idle time passes
Outcome = bool | float | None  # a number: back off that long; None: done following


def follow(stop: threading.Event, wake: Signal | None, step: Callable[[], Outcome],
           idle_seconds: float, *, woken: Callable[[], None] | None = None) -> None:
    """The loop every follower of the events runs, until ``stop`` is set or ``step`` returns
    None. After an IDLE step it rests until ``wake`` says something was recorded (then
    ``woken`` runs) or ``idle_seconds`` pass; without ``wake`` it polls every
    ``idle_seconds``. A number is a back-off (after a failure, or when the other side asked
    to wait): it is waited out whole, not cut short by what is recorded meanwhile."""
    while not stop.is_set():
        seen = wake.generation if wake is not None else 0
        outcome = step()
        if outcome is None:
            return
        if outcome is AGAIN:
            continue
        if outcome is IDLE:
            if wake is None:
                stop.wait(idle_seconds)
            elif wake.wait(seen, idle_seconds) and woken is not None:
                woken()
        else:
            stop.wait(outcome)
