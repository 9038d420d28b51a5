"""The dashboard's watcher of the views: an open page hears of what was recorded as soon as
the views hold it, however the recording and the views' catching up interleave."""

from __future__ import annotations

import asyncio
import threading
import time

from adapters.web.live import Changes
from application.signal import Signal


class Store:
    def __init__(self) -> None:
        self.end = 0  # what the store holds
        self.views = 0  # what the views applied


def test_a_waiting_page_hears_of_an_event_once_the_views_apply_it() -> None:
    store, wake = Store(), Signal()
    changes = Changes(lambda: store.views, lambda: store.end, wake, idle_seconds=5)

    def record_then_apply() -> None:
        time.sleep(0.05)
        store.end = 1
        wake.notify()  # recorded: the views apply it a little later
        time.sleep(0.03)
        store.views = 1

    threading.Thread(target=record_then_apply).start()
    started = time.monotonic()
    assert asyncio.run(changes.after(0, timeout=5)) == 1
    assert time.monotonic() - started < 1  # not the idle five seconds


def test_events_recorded_while_the_views_catch_up_are_not_left_for_the_idle_wait() -> None:
    """The wake-up of the second event comes while the first is being applied: the watcher
    keeps looking while the views are behind the store, rather than sleeping past it."""
    store, wake = Store(), Signal()
    changes = Changes(lambda: store.views, lambda: store.end, wake, idle_seconds=5)

    async def scenario() -> tuple[int, float]:
        store.end = 1
        wake.notify()
        store.views = 1
        first = await changes.after(0, timeout=5)
        store.end = 2
        wake.notify()  # heard before the views hold it
        threading.Timer(0.05, lambda: setattr(store, "views", 2)).start()
        started = time.monotonic()
        second = await changes.after(first, timeout=5)
        return second, time.monotonic() - started

    second, took = asyncio.run(scenario())
    assert second == 2 and took < 1


def test_a_page_that_already_saw_the_last_position_waits_until_something_new() -> None:
    store, wake = Store(), Signal()
    store.end = store.views = 7
    changes = Changes(lambda: store.views, lambda: store.end, wake, idle_seconds=0.05)
    started = time.monotonic()
    assert asyncio.run(changes.after(7, timeout=0.3)) == 7
    assert time.monotonic() - started >= 0.25
