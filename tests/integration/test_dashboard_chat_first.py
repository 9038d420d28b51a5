"""Open dashboards let the requests being answered go first, as `altlas serve` serves them:
a change is told to the live pages once a request in flight is answered (or after
ALTLAS_UI_CHAT_FIRST_SECONDS), so 200 open pages do not hold back Slack's acknowledgements."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx
import pytest

from testkit.dashboard import Dashboard, serve_dashboard
from testkit.helpers import TOKENS
from tests.integration.test_dashboard import _event


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with serve_dashboard(tmp_path_factory.mktemp("chat-first"),
                         ui_chat_first_seconds=30) as served:
        yield served


@contextmanager
def in_flight(url: str) -> Iterator[Callable[[], int]]:
    """A request for work over the API whose body is still arriving until the call given
    is made, which sends the rest and says the answer's status."""
    where = urlsplit(url)
    body = json.dumps({"request": "check disk on the altlas host",
                       "environment": "dev"}).encode()
    with socket.create_connection((where.hostname, where.port), timeout=20) as sock:
        sock.sendall(b"POST /tasks HTTP/1.1\r\nHost: altlas\r\nContent-Type: application/json"
                     b"\r\nAuthorization: Bearer " + TOKENS["alice"].encode()
                     + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                     + body[:10])

        def rest() -> int:
            sock.sendall(body[10:])
            return int(sock.recv(4096).split(b" ", 2)[1])

        yield rest


def _heard(dash: Dashboard, events: queue.Queue[dict[str, str]]) -> None:
    """Bob's *Now* stream, each event put on ``events``, until the server stops."""
    with contextlib.suppress(httpx.HTTPError, AssertionError), dash.browser("bob") as bob, \
            bob.stream("GET", "/ui/now/stream", params={"after": 0}) as live:
        lines = live.iter_lines()
        while True:
            events.put(_event(lines))


def test_an_open_page_hears_of_a_change_once_the_request_in_flight_is_answered(
        dash: Dashboard) -> None:
    dash.approval_of(dash.request("alice"))  # something on the page as it opens
    events: queue.Queue[dict[str, str]] = queue.Queue()
    threading.Thread(target=_heard, args=(dash, events), daemon=True).start()
    first = events.get(timeout=20)
    with in_flight(dash.url) as answer:
        task = dash.request("alice")
        approval = dash.approval_of(task)["approval_id"]  # the views hold it
        time.sleep(1.0)
        assert events.empty(), "a change was told while a request was being answered"
        assert answer() == 201
        answered = time.monotonic()
    latest = events.get(timeout=10)
    while approval not in latest["data"]:  # a page drawn before the approval may come first
        latest = events.get(timeout=10)
    assert int(latest["id"]) > int(first["id"])
    assert time.monotonic() - answered < 10  # well before the 30 s bound
