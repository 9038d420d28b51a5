"""The loop every follower of the events runs: idle followers wake when something is
recorded, a back-off is waited out whole, and a follower that is done stops."""

from __future__ import annotations

import threading
import time

from application.signal import AGAIN, IDLE, Outcome, Signal, follow


def test_an_idle_follower_wakes_as_soon_as_something_is_recorded() -> None:
    wake, stop, steps = Signal(), threading.Event(), []

    def step() -> Outcome:
        steps.append(time.monotonic())
        return None if len(steps) == 2 else IDLE

    threading.Timer(0.05, wake.notify).start()
    started = time.monotonic()
    follow(stop, wake, step, idle_seconds=10)
    assert len(steps) == 2 and steps[1] - started < 2  # not the 10 s of its idle time


def test_a_back_off_is_waited_out_whole_whatever_is_recorded_meanwhile() -> None:
    wake, stop, steps = Signal(), threading.Event(), []

    def step() -> Outcome:
        steps.append(time.monotonic())
        return 0.3 if len(steps) == 1 else None

    threading.Timer(0.02, wake.notify).start()
    follow(stop, wake, step, idle_seconds=0.01)
    assert steps[1] - steps[0] >= 0.3


def test_work_found_is_looked_for_again_at_once_and_stop_ends_it() -> None:
    stop, calls = threading.Event(), []

    def step() -> Outcome:
        calls.append(1)
        if len(calls) == 5:
            stop.set()
        return AGAIN

    started = time.monotonic()
    follow(stop, None, step, idle_seconds=10)
    assert len(calls) == 5 and time.monotonic() - started < 2
