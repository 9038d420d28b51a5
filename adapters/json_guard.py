"""JSON bodies checked before any route parses them: a pure ASGI middleware.

A body sent as JSON (no Content-Type, ``application/json`` or ``…+json``) is read whole (the
body limit, outside this, bounds it) and read with ``domain.json_input``: nested past its
depth, it is refused with 400 before the parser recurses; with a lone surrogate or a
non-finite number, with 422 naming the field. Anything else goes to the route as it came,
a body that is not JSON included (the route says so in its own words).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.body_limit import replaying, send_error
from domain.json_input import TooDeepError, UnsafeJsonError, loads

_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


class JsonGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in _BODILESS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away; the route hears it too
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:
            loads(body)
        except TooDeepError as e:
            await send_error(send, 400, "bad_body", str(e))
            return
        except UnsafeJsonError as e:
            await send_error(send, 422, "invalid_input", str(e))
            return
        except ValueError:
            pass  # not JSON: the route answers that
        await self.app(scope, replaying(messages, receive), send)


def _is_json(scope: Scope) -> bool:
    """Whether the route would read the body as JSON, as FastAPI decides it."""
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    media = kind.split(b";")[0].strip().lower()
    return not media or media == b"application/json" or media.endswith(b"+json")
