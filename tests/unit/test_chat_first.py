"""Open dashboards let chat go first: a change is told to the live pages once the requests
being answered (Slack's acknowledgements, with their 3 s) are answered, or after a bound."""

from __future__ import annotations

import asyncio
import threading
import time

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from adapters.foreground import CountForeground, Foreground
from adapters.web.live import Changes
from application.signal import Signal


class Store:
    def __init__(self) -> None:
        self.views = self.end = 0


def _changes(foreground: Foreground, yield_seconds: float) -> tuple[Store, Signal, Changes]:
    store, wake = Store(), Signal()
    return store, wake, Changes(lambda: store.views, lambda: store.end, wake, idle_seconds=5,
                                quiet=foreground.quiet, yield_seconds=yield_seconds)


def _record(store: Store, wake: Signal, after: float) -> None:
    def later() -> None:
        time.sleep(after)
        store.views = store.end = store.end + 1
        wake.notify()
    threading.Thread(target=later).start()


def test_a_change_waits_for_the_request_being_answered() -> None:
    foreground = Foreground()
    store, wake, changes = _changes(foreground, yield_seconds=30)
    foreground.began()
    threading.Timer(0.6, foreground.ended).start()
    _record(store, wake, after=0.05)
    started = time.monotonic()
    assert asyncio.run(changes.after(0, timeout=10)) == 1
    assert 0.5 <= time.monotonic() - started < 5


def test_a_change_is_told_at_once_when_no_request_is_in_flight() -> None:
    store, wake, changes = _changes(Foreground(), yield_seconds=30)
    _record(store, wake, after=0.05)
    started = time.monotonic()
    assert asyncio.run(changes.after(0, timeout=10)) == 1
    assert time.monotonic() - started < 1


def test_a_change_is_told_after_the_bound_however_long_chat_stays_busy() -> None:
    foreground = Foreground()
    store, wake, changes = _changes(foreground, yield_seconds=0.3)
    foreground.began()  # never answered
    _record(store, wake, after=0.05)
    started = time.monotonic()
    assert asyncio.run(changes.after(0, timeout=10)) == 1
    assert 0.25 <= time.monotonic() - started < 5


def test_a_change_waiting_for_chat_is_told_with_what_was_recorded_meanwhile() -> None:
    """The position the pages hear is the one when chat is answered: one render, not two."""
    foreground = Foreground()
    store, wake, changes = _changes(foreground, yield_seconds=30)
    foreground.began()
    _record(store, wake, after=0.05)
    _record(store, wake, after=0.3)
    threading.Timer(0.6, foreground.ended).start()
    assert asyncio.run(changes.after(0, timeout=10)) == 2


def _app(foreground: Foreground, seen: list[int], after_answer: threading.Event) -> Starlette:
    async def during(request: Request) -> Response:
        seen.append(foreground.answering)
        return PlainTextResponse("ok")

    async def with_background(request: Request) -> Response:
        return PlainTextResponse("ok", background=BackgroundTask(
            lambda: (seen.append(foreground.answering), after_answer.set())))

    async def fails(request: Request) -> Response:
        raise RuntimeError("the route failed")

    app = Starlette(routes=[Route("/slack/events", during, methods=["POST"]),
                            Route("/ui/now", during), Route("/later", with_background),
                            Route("/fails", fails)])
    app.add_middleware(CountForeground, foreground=foreground)
    return app


def test_chat_is_counted_while_answered_and_the_dashboard_is_not() -> None:
    foreground, seen = Foreground(), []
    with TestClient(_app(foreground, seen, threading.Event())) as client:
        client.post("/slack/events")
        client.get("/ui/now")
    assert seen == [1, 0]
    assert foreground.answering == 0


def test_work_after_the_answer_is_sent_does_not_hold_the_pages_back() -> None:
    foreground, seen, done = Foreground(), [], threading.Event()
    with TestClient(_app(foreground, seen, done)) as client:
        assert client.get("/later").text == "ok"
    assert done.is_set() and seen == [0]


def test_a_request_that_fails_stops_being_counted() -> None:
    foreground = Foreground()
    with TestClient(_app(foreground, [], threading.Event()),
                    raise_server_exceptions=False) as client:
        assert client.get("/fails").status_code == 500
    assert foreground.answering == 0 and foreground.quiet(0)
