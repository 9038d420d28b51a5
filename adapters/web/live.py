"""What keeps open dashboards current: one watcher per process of how far the views have got,
and each page's server-sent event stream, which re-renders its live part when they move on.

The watcher is one thread, however many pages are open: it wakes when something is recorded
in this process (or, through LISTEN, in another), waits for the views to apply it, and tells
every stream. Each event's id is the views' position, so a browser that reconnects with
Last-Event-ID gets the page as it is now only if something happened since it last heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from sse_starlette import EventSourceResponse, ServerSentEvent

from application.signal import Signal

SETTLE_SECONDS = 2.0  # how long to keep looking while the views are behind the store
SETTLE_EVERY = 0.01
PING_SECONDS = 15  # a comment line now and then, so proxies keep the stream open
# how long a stream may go on sending changes before it asks its session again (a sign-out
# in this process, and the keep-alive, make it ask at once)
SESSION_SECONDS = 5.0


class Changes:
    """``position``: how far the views have applied the events; ``end``: how far the store
    has got; ``wake``: set when something is recorded; ``quiet(timeout)``: waits until no
    request the process answers is in flight, and says whether none is (the streams are told
    of a change after those are answered, ``yield_seconds`` later at most); ``rechecks``:
    how many times the streams were told to ask their sessions again."""

    def __init__(self, position: Callable[[], int], end: Callable[[], int],
                 wake: Signal | None, idle_seconds: float = 1.0,
                 quiet: Callable[[float], bool] | None = None,
                 yield_seconds: float = 1.0) -> None:
        self._position = position
        self._end = end
        self._wake = wake
        self._idle = idle_seconds
        self._quiet = quiet
        self._yield = yield_seconds
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._thread: threading.Thread | None = None
        self.position = position()
        self.rechecks = 0

    def current(self) -> int:
        """The views' position now, as a page drawn from them now shows."""
        self._moved()
        return self.position

    def reach(self, position: int, timeout: float = SETTLE_SECONDS) -> None:
        """Wait (at most ``timeout`` s) until the views hold ``position``: a page drawn
        after a person's own vote shows it."""
        deadline = time.monotonic() + timeout
        while self._position() < position and time.monotonic() < deadline:
            time.sleep(SETTLE_EVERY)

    async def after(self, seen: int, timeout: float) -> int:
        """The views' position once past ``seen`` (or as it is after ``timeout`` s)."""
        if self.position != seen:
            return self.position
        woken = asyncio.Event()
        me = (asyncio.get_running_loop(), woken)
        with self._lock:
            self._waiters.add(me)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="ui-changes",
                                                daemon=True)
                self._thread.start()
        try:
            if self.position == seen:
                with contextlib.suppress(TimeoutError):  # nothing new: the caller keeps alive
                    await asyncio.wait_for(woken.wait(), timeout)
        finally:
            with self._lock:
                self._waiters.discard(me)
        return self.position

    def _watch(self) -> None:
        """Until no page listens: while the views are behind the store, look again every
        few milliseconds (for a while); else wait for a wake-up, or ``idle`` seconds."""
        behind_since: float | None = None
        while True:
            with self._lock:
                if not self._waiters:
                    self._thread = None
                    return
            seen = self._wake.generation if self._wake is not None else 0
            self._moved(self._after_foreground(self._position()))
            if self.position < self._end():
                behind_since = behind_since or time.monotonic()
                if time.monotonic() - behind_since < SETTLE_SECONDS:
                    time.sleep(SETTLE_EVERY)
                    continue
            else:
                behind_since = None
            if self._wake is None:
                time.sleep(self._idle)
            else:
                self._wake.wait(seen, self._idle)

    def recheck(self) -> None:
        """Wake every stream without a change, so each checks its session again now."""
        with self._lock:
            self.rechecks += 1
        self._wake_all()

    def _wake_all(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, woken in waiters:
            loop.call_soon_threadsafe(woken.set)

    def _after_foreground(self, now: int) -> int:
        """``now``; or, if it is news while requests are being answered, the position once
        they are (or ``yield_seconds`` later): telling 200 open pages of a change in the
        middle of 50 slash commands slowed their acknowledgements."""
        if now == self.position or self._quiet is None or self._quiet(0):
            return now
        self._quiet(self._yield)
        return self._position()

    def _moved(self, now: int | None = None) -> bool:
        now = self._position() if now is None else now
        if now == self.position:
            return False
        self.position = now
        self._wake_all()
        return True


class Sent(ServerSentEvent):
    """An update as sent: its bytes encoded once for every stream that sends the same part
    (``wire``), then given this session's own form token."""

    def __init__(self, data: str, *, event: str, id: str, wire: bytes) -> None:
        super().__init__(data, event=event, id=id)
        self._wire = wire

    def encode(self) -> bytes:
        return self._wire


@functools.lru_cache(maxsize=256)
def _encoded(data: str, event: str, id: str) -> bytes:
    """Most open pages are sent the very same part: one encoding serves them all."""
    return ServerSentEvent(data, event=event, id=id).encode()


def stream(changes: Changes, since: int | None, part: Callable[[int], Awaitable[tuple[int, str]]],
           event: str, signed_in: Callable[[], Awaitable[str | None]],
           fill: Callable[[bytes], bytes]) -> EventSourceResponse:
    """A page's live part as server-sent events named ``event`` (see ``updates``)."""
    return EventSourceResponse(updates(changes, since, part, event, signed_in, fill=fill),
                               ping=PING_SECONDS, headers={"Cache-Control": "no-store"})


async def updates(changes: Changes, since: int | None,
                  part: Callable[[int], Awaitable[tuple[int, str]]], event: str,
                  signed_in: Callable[[], Awaitable[str | None]],
                  session_seconds: float = SESSION_SECONDS,
                  fill: Callable[[bytes], bytes] = bytes) -> AsyncIterator[ServerSentEvent]:
    """The live part now if the views moved on since ``since`` (Last-Event-ID, or the
    position the page was drawn at), then at each change; ``part(position)`` gives it as
    drawn at that position or later, and the position it shows, as every session sees it
    (``fill`` puts this session's form token into its bytes). The session is asked
    again (``signed_in`` gives the page saying it ended, the last thing sent) after a
    sign-out in this process, at each keep-alive, and at a change when it was last asked
    ``session_seconds`` ago: not once per change per open page, which cost chat its speed.
    A part the change left as it was is not sent again: most events move nothing on most
    open pages, and 200 pages re-sent at each one slowed chat's answers."""
    seen = since if since is not None else -1
    asked_at, asked_after = float("-inf"), -1
    shown: str | None = None
    while True:
        position = await changes.after(seen, PING_SECONDS)
        if position == seen or changes.rechecks != asked_after \
                or time.monotonic() - asked_at >= session_seconds:
            asked_at, asked_after = time.monotonic(), changes.rechecks
            ended = await signed_in()
            if ended is not None:
                yield ServerSentEvent(ended, event=event)
                return
        if position != seen:
            seen, html = await part(position)
            if html != shown:
                shown = html
                yield Sent(html, event=event, id=str(seen),
                           wire=fill(_encoded(html, event, str(seen))))
