"""The dashboard's watcher of the views: an open page hears of what was recorded as soon as
the views hold it, however the recording and the views' catching up interleave."""

from __future__ import annotations

import asyncio
import threading
import time

from adapters.web.live import Changes, updates
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


class Session:
    """A stream's session check that counts itself; ``ended`` once signed out."""

    def __init__(self) -> None:
        self.asked = 0
        self.signed_out = False

    async def check(self) -> str | None:
        self.asked += 1
        return "signed out" if self.signed_out else None


async def _part(position: int) -> tuple[int, str]:
    return position, f"page at {position}"


def _moving() -> tuple[Store, Changes]:
    store = Store()
    return store, Changes(lambda: store.views, lambda: store.end, Signal(), idle_seconds=5)


def test_an_open_page_does_not_ask_its_session_at_every_change() -> None:
    store, changes = _moving()
    session = Session()

    async def twenty_changes() -> list[str | None]:
        stream = updates(changes, 0, _part, "now", session.check, session_seconds=60)
        sent = []
        for n in range(1, 21):
            store.views = store.end = n
            changes.current()
            sent.append((await anext(stream)).id)
        return sent

    assert asyncio.run(twenty_changes()) == [str(n) for n in range(1, 21)]
    assert session.asked == 1


def test_a_sign_out_in_this_process_ends_the_stream_at_once_even_amid_changes() -> None:
    store, changes = _moving()
    session = Session()

    async def scenario() -> list[str]:
        stream = updates(changes, 0, _part, "now", session.check, session_seconds=60)
        store.views = store.end = 1
        changes.current()
        first = await anext(stream)
        session.signed_out = True
        changes.recheck()
        store.views = store.end = 2  # a change comes with it
        changes.current()
        last = await anext(stream)
        rest = [event async for event in stream]
        return [str(first.data), str(last.data), *[str(e.data) for e in rest]]

    assert asyncio.run(scenario()) == ["page at 1", "signed out"]


def test_a_page_open_for_a_while_asks_its_session_again_at_the_next_change() -> None:
    store, changes = _moving()
    session = Session()

    async def scenario() -> None:
        stream = updates(changes, 0, _part, "now", session.check, session_seconds=0.05)
        for n in (1, 2):
            store.views = store.end = n
            changes.current()
            await anext(stream)
            await asyncio.sleep(0.06)

    asyncio.run(scenario())
    assert session.asked == 2


def test_a_change_that_leaves_the_page_as_it_was_sends_nothing() -> None:
    store, changes = _moving()
    session = Session()

    async def same_until_3(position: int) -> tuple[int, str]:
        return position, f"page at {1 if position < 3 else position}"

    async def scenario() -> list[tuple[str | None, str]]:
        stream = updates(changes, 0, same_until_3, "now", session.check, session_seconds=60)
        store.views = store.end = 1
        changes.current()
        first = await anext(stream)
        store.views = store.end = 2
        changes.current()
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "position 2 left the page as it was, yet it was sent"
        store.views = store.end = 3
        changes.current()
        last = await waiting
        return [(first.id, str(first.data)), (last.id, str(last.data))]

    assert asyncio.run(scenario()) == [("1", "page at 1"), ("3", "page at 3")]


def test_each_open_page_is_sent_the_shared_part_with_its_own_form_token() -> None:
    """The part is drawn with a slot for the token and encoded once; each stream sends
    it with its own session's token, and the sessions' bytes differ in nothing else."""
    store, changes = _moving()
    session = Session()

    async def with_form(position: int) -> tuple[int, str]:
        return position, f'<form><input name="csrf" value="SLOT">page at {position}</form>\n'

    async def scenario() -> list[bytes]:
        streams = [updates(changes, 0, with_form, "now", session.check, session_seconds=60,
                           fill=lambda wire, t=token: wire.replace(b"SLOT", t))
                   for token in (b"token-of-bob", b"token-of-carol")]
        store.views = store.end = 1
        changes.current()
        return [(await anext(stream)).encode() for stream in streams]

    bob, carol = asyncio.run(scenario())
    assert b'value="token-of-bob"' in bob and b"SLOT" not in bob
    assert carol == bob.replace(b"token-of-bob", b"token-of-carol")
    assert bob.startswith(b"id: 1\r\nevent: now\r\ndata: <form>")
