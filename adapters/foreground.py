"""Requests someone waits on with a deadline, counted while they are being answered, so that
work nobody waits on in the same process can let them go first: a pure ASGI middleware.

Slack gives an acknowledgement 3 s, and `serve` is one process whose Python threads share one
interpreter lock. Telling 200 open dashboards of a change while 50 slash commands wait for
their acknowledgements made those wait longer. The dashboard's live pages are told once the
requests in flight are answered (or after ``Foreground.quiet``'s bound), and they are not
counted themselves: everything under ``/ui`` is the dashboard's own.
"""

from __future__ import annotations

import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BACKGROUND_PREFIXES = ("/ui",)


class Foreground:
    """How many requests are being answered; ``quiet`` waits until none is."""

    def __init__(self) -> None:
        self._answering = 0
        self._idle = threading.Condition()

    @property
    def answering(self) -> int:
        return self._answering

    def quiet(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` s) until no request is being answered: whether none is."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._answering:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def began(self) -> None:
        with self._idle:
            self._answering += 1

    def ended(self) -> None:
        with self._idle:
            self._answering -= 1
            if not self._answering:
                self._idle.notify_all()


class CountForeground:
    """Counts each HTTP request outside the dashboard from its arrival until its answer's
    last byte is sent (not until background work after it ends: the caller has its answer)."""

    def __init__(self, app: ASGIApp, foreground: Foreground) -> None:
        self.app = app
        self.foreground = foreground

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(BACKGROUND_PREFIXES):
            await self.app(scope, receive, send)
            return
        counted = True
        self.foreground.began()

        async def answered(message: Message) -> None:
            nonlocal counted
            try:
                await send(message)
            finally:
                if counted and message["type"] == "http.response.body" \
                        and not message.get("more_body", False):
                    counted = False
                    self.foreground.ended()

        try:
            await self.app(scope, receive, answered)
        finally:
            if counted:
                counted = False
                self.foreground.ended()
