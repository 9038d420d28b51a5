"""A cap on request bodies, for every route of the HTTP API: a pure ASGI middleware.

A declared Content-Length over the cap is refused at once, before any of the body is read.
A body sent without one (chunked) is read here as it arrives, and refused as soon as it goes
over; under the cap it is handed on to the route as it came. Either way the answer is 413
with the API's usual error body, and the route never sees the body, whether or not it would
have read it. (The server holds a declared length to its word.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("altlas.http")


class BodyLimit:
    """Answers 413 ``{"error": "payload_too_large", …}`` to bodies over ``max_bytes``, or over
    the cap ``paths`` gives a path of its own, with the setting that sets it (Alertmanager's
    webhook carries whole groups, a voice clip megabytes)."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 paths: Mapping[str, tuple[int, str]] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = dict(paths or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap, setting = self.paths.get(scope.get("path", ""),
                                      (self.max_bytes, "ALTLAS_MAX_BODY_BYTES"))
        declared, chunked = _framing(scope)
        if declared is not None and declared > cap:
            await self._refuse(scope, send, cap, setting)
            return
        if not chunked:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away; the route hears it too
            size += len(message.get("body", b""))
            if size > cap:
                await self._refuse(scope, send, cap, setting)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(messages, receive), send)

    async def _refuse(self, scope: Scope, send: Send, cap: int, setting: str) -> None:
        log.warning("refused %s %s: its body is over %d bytes", scope.get("method"),
                    scope.get("path"), cap)
        await send_error(send, 413, "payload_too_large",
                         f"the request body is over the limit of {cap} bytes ({setting})",
                         close=True)


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """What the route receives after a middleware read ``messages``: those, then the rest."""
    buffered = iter(messages)

    async def replay() -> Message:
        return next(buffered, None) or await receive()

    return replay


async def send_error(send: Send, status: int, error: str, message: str, *,
                     close: bool = False) -> None:
    """Answer with the API's error body, from a middleware (before any route)."""
    body = json.dumps({"error": error, "message": message}).encode()
    headers = [(b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if close:  # the rest of the body is not read: the connection cannot carry another
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _framing(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length, and whether the body comes chunked."""
    declared, chunked = None, False
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    for name, value in headers:
        name, value = name.lower(), value.strip().lower()
        if name == b"content-length" and value.isdigit():
            declared = int(value) if len(value) <= 18 else 10**18
        elif name == b"transfer-encoding" and value:
            chunked = True
    return declared, chunked
