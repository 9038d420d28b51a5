"""The gate in front of the Slack app: what reaches POST /slack/events is checked in this
order, and only then handed to bolt.

1. The signature, with slack_sdk's own ``SignatureVerifier`` (bolt's mechanism): unsigned,
   badly signed or older than five minutes is 401, and its body is never logged.
2. The shape: a body that is not what Slack sends for a request altlas handles (a payload
   that is not JSON, a list, a click without its action, a command without its user…) is
   400 with a JSON error saying what is wrong, never a crash inside a listener.
3. Replays: the same signed request again is 409, in whichever process of altlas it
   arrives (the signatures are kept in the view database). Slack's own retries of an
   event are signed anew but keep the event's id: they are answered 200 and the event is
   handled once.

A replay is 409, not 401: the signature is genuine, what is wrong is that it was already
used. 409 is also what the HTTP API answers to a vote cast twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import parse_qsl

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.request.async_internals import build_async_context
from slack_sdk.signature import SignatureVerifier

from bots.blocks import HEARING

log = logging.getLogger("altlas.slack")

# A signature verifies for five minutes either side of its timestamp, so its replay can
# come up to ten minutes after it was first seen; Slack retries an event for about six.
SEEN_FOR = timedelta(minutes=15)
APPROVE, DENY, DENY_REASON = "altlas_approve", "altlas_deny", "altlas_deny_reason"
ANSWER = "altlas_answer"  # a question's buttons: altlas_answer:N
ARENA = "altlas_arena"  # a duel's buttons: altlas_arena:a, :b, :tie, :both_bad
HANDLED_EVENTS = frozenset({"app_mention", "message"})


class SeenRequests(Protocol):
    def first_of(self, front: str, keys: Sequence[str]) -> list[bool]:
        """Record ``keys`` at once; for each, True if it had not been seen (nor earlier in
        ``keys``)."""

    def forget(self, front: str, key: str) -> None:
        """Drop ``key``, so that it counts as new again."""


class MalformedRequestError(Exception):
    """A signed request that is not shaped as Slack sends what altlas handles."""


class Firsts:
    """Requests arriving together are checked for replays in one transaction: while one
    batch is written, the next gathers. Fifty people clicking at once cost a few commits,
    not fifty, and no acknowledgement queues behind the others' writes.

    The writes run on a thread of their own: in the event loop's default executor they
    queued behind the chat commands of the requests acknowledged just before, so each
    acknowledgement waited for the work of the ones ahead of it."""

    def __init__(self, seen: SeenRequests, front: str) -> None:
        self._seen = seen
        self._front = front
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"{front}-acks")
        self._waiting: list[tuple[str, asyncio.Future[bool]]] = []
        self._writing = False
        self._task: asyncio.Task[None] | None = None  # held: the loop keeps only weak ones

    async def first(self, key: str) -> bool:
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, answer))
        if not self._writing:
            self._writing = True
            self._task = asyncio.create_task(self._write())
        return await answer

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    firsts = await asyncio.get_running_loop().run_in_executor(
                        self._thread, self._seen.first_of, self._front,
                        [key for key, _ in batch])
                except Exception as e:
                    for _, answer in batch:
                        answer.set_exception(e)
                    continue
                for (_, answer), first in zip(batch, firsts, strict=True):
                    answer.set_result(first)
        finally:
            self._writing = False


def gate(app: AsyncApp, signing_secret: str, seen: SeenRequests
         ) -> Callable[[Request], Awaitable[Response]]:
    verifier = SignatureVerifier(signing_secret)
    firsts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Firsts] = (
        weakref.WeakKeyDictionary())

    def batched() -> Firsts:
        """One batcher per event loop (a server runs one; tests may run several)."""
        return firsts.setdefault(asyncio.get_running_loop(), Firsts(seen, "slack"))

    async def slack_events(request: Request) -> Response:
        raw = await request.body()
        text = _verified(verifier, raw, request.headers)
        if text is None:
            log.warning("refused a Slack request from %s: its signature does not verify",
                        request.client.host if request.client else "?")
            return _error(401, "invalid_signature", "the request is not signed with this "
                          "app's signing secret, or its timestamp is over 5 minutes off")
        try:
            body = parse(text, request.headers.get("content-type"))
            check(body)
            bolt_request = _bolt_request(text, body, request)
        except MalformedRequestError as e:
            log.warning("refused a signed Slack request: %s", e)
            return _error(400, "malformed_request", str(e))
        signature = request.headers["x-slack-signature"]
        if not await batched().first(f"signature:{signature}"):
            log.warning("refused a replayed Slack request (signed at %s)",
                        request.headers["x-slack-request-timestamp"])
            return _error(409, "replayed_request", "this signed request was already "
                          "received; Slack signs every delivery anew")
        event = f"event:{body['event_id']}" if body.get("type") == "event_callback" else None
        if event is not None:
            if not await batched().first(event):
                log.info("Slack delivered %s again (retry %s, %s): already handled", event,
                         request.headers.get("x-slack-retry-num", "-"),
                         request.headers.get("x-slack-retry-reason", "-"))
                return Response(status_code=200, headers={"X-Slack-No-Retry": "1"})
            if not _handled(body["event"]):
                return Response(status_code=200)  # subscribed to, not listened to
        answer = await app.async_dispatch(bolt_request)
        if event is not None and answer.status >= 500:
            # not handled (Slack unreachable, say): Slack's retry is the one to handle it
            await asyncio.to_thread(seen.forget, "slack", event)
        return to_starlette_response(answer)

    return slack_events


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _verified(verifier: SignatureVerifier, raw: bytes, headers: Mapping[str, str]
              ) -> str | None:
    """The body as text if Slack signed it within the last five minutes, else None."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return None  # the verifier would crash on it
    if not signature.isascii() or len(signature) > 100:
        return None  # hmac.compare_digest refuses non-ASCII text
    try:
        text = raw.decode("utf-8")  # Slack signs UTF-8 text; anything else is not its
    except UnicodeDecodeError:
        return None
    return text if verifier.is_valid(text, timestamp, signature) else None


def parse(text: str, content_type: str | None) -> Any:
    """The body as bolt reads it: JSON (events), a form's ``payload`` JSON
    (interactions), or the form itself (slash commands)."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    try:
        if ctype == "application/json" or text.startswith("{"):
            return json.loads(text) if text else {}
        form = dict(parse_qsl(text, keep_blank_values=True))
        if "payload" in form:
            try:
                return json.loads(form["payload"])
            except ValueError:
                raise MalformedRequestError("the form's payload is not JSON") from None
        return form
    except ValueError:
        raise MalformedRequestError("the body is not valid JSON") from None
    except RecursionError:
        raise MalformedRequestError("the body is nested too deeply") from None


def check(body: Any) -> None:
    """Raise MalformedRequestError unless ``body`` has what its kind needs."""
    if not isinstance(body, dict):
        raise MalformedRequestError(f"the body is a JSON {_kind(body)}, not an object")
    _envelope(body, "")
    kind = body.get("type")
    if kind is None:
        if "ssl_check" in body:
            return
        if "command" not in body:
            raise MalformedRequestError("the body is neither a slash command, an "
                                        "interaction payload nor an event")
        for key in ("command", "user_id", "channel_id", "response_url"):
            _text(body, key)
        return
    if not isinstance(kind, str):
        raise MalformedRequestError("type must be text")
    checks = _CHECKS.get(kind)
    if checks is None:
        raise MalformedRequestError(f"altlas handles no Slack request of type "
                                    f"{kind[:40]!r}")
    checks(body)


def _block_actions(body: dict[str, Any]) -> None:
    _text(_object(body, "user"), "id", "user")
    _text(_object(body, "channel"), "id", "channel")
    _text(body, "response_url")
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise MalformedRequestError("actions must be a list of at least one action")
    for i, action in enumerate(actions):
        if not isinstance(action, dict):
            raise MalformedRequestError(f"actions[{i}] must be an object")
        _text(action, "action_id", f"actions[{i}]")
    first = actions[0]
    if first["action_id"] in (APPROVE, DENY):
        _text(first, "value", "actions[0]")
    if first["action_id"].startswith(f"{ANSWER}:"):
        value = _text(first, "value", "actions[0]")
        if not re.fullmatch(r"[0-9a-f-]{36}:\d{1,2}", value):
            raise MalformedRequestError("actions[0].value must be TASK-ID:NUMBER")
    if first["action_id"].startswith(f"{ARENA}:"):
        value = _text(first, "value", "actions[0]")
        if not re.fullmatch(r"[0-9a-f-]{36}", value):
            raise MalformedRequestError("actions[0].value must be a duel's id")
    if first["action_id"] in (f"{HEARING}:yes", f"{HEARING}:no"):
        value = _text(first, "value", "actions[0]")
        if not re.fullmatch(r"[0-9a-f-]{36}", value):
            raise MalformedRequestError("actions[0].value must be a hearing's id")
    if first["action_id"] == DENY:
        _text(body, "trigger_id")
        _text(_object(body, "message"), "ts", "message")


def _view_submission(body: dict[str, Any]) -> None:
    _text(_object(body, "user"), "id", "user")
    view = _object(body, "view")
    _text(view, "callback_id", "view")
    _text(view, "type", "view")
    if view["callback_id"] != DENY_REASON:
        return
    try:
        where = json.loads(_text(view, "private_metadata", "view"))
    except ValueError:
        raise MalformedRequestError("view.private_metadata is not JSON") from None
    if not isinstance(where, dict):
        raise MalformedRequestError("view.private_metadata must be a JSON object")
    for key in ("approval_id", "channel", "ts"):
        _text(where, key, "view.private_metadata")
    values = _object(_object(view, "state", "view"), "values", "view.state")
    field = _object(_object(values, "reason", "view.state.values"), "value",
                    "view.state.values.reason")
    if not isinstance(field.get("value"), str | None):
        raise MalformedRequestError("view.state.values.reason.value.value must be text")


def _event_callback(body: dict[str, Any]) -> None:
    if len(_text(body, "event_id")) > 100:
        raise MalformedRequestError("event_id is too long")
    event = _object(body, "event")
    kind = _text(event, "type", "event")
    if kind == "message" and event.get("subtype") == "file_share":
        _file_share(event)
    if kind == "app_mention":
        for key in ("user", "channel", "ts"):
            _text(event, key, "event")
        for key in ("text", "thread_ts"):
            if key in event and not isinstance(event[key], str):
                raise MalformedRequestError(f"event.{key} must be text")


def _handled(event: dict[str, Any]) -> bool:
    """A mention, or a file shared (the Slack app hears the clips among its files); not
    the rest of a channel's talk."""
    return event["type"] in HANDLED_EVENTS and (
        event["type"] != "message" or event.get("subtype") == "file_share")


def _file_share(event: dict[str, Any]) -> None:
    for key in ("user", "channel", "ts"):
        _text(event, key, "event")
    if "thread_ts" in event and not isinstance(event["thread_ts"], str):
        raise MalformedRequestError("event.thread_ts must be text")
    files = event.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise MalformedRequestError("event.files must be a list of objects")
    for i, file in enumerate(files):
        _text(file, "id", f"event.files[{i}]")
        for key in ("mimetype", "subtype", "url_private", "url_private_download"):
            if key in file and not isinstance(file[key], str):
                raise MalformedRequestError(f"event.files[{i}].{key} must be text")
        if "size" in file and (not isinstance(file["size"], int)
                               or isinstance(file["size"], bool)):
            raise MalformedRequestError(f"event.files[{i}].size must be a number")


def _url_verification(body: dict[str, Any]) -> None:
    _text(body, "challenge")


_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "block_actions": _block_actions, "view_submission": _view_submission,
    "event_callback": _event_callback, "url_verification": _url_verification}

# What bolt reads from every request to build its context, and the types it assumes.
_ID_OR_OBJECT = ("team", "enterprise", "user", "channel")
_OBJECTS = ("event", "view", "message", "previous_message", "item", "assistant_thread",
            "function_data", "container", "state")
_LISTS_OF_OBJECTS = ("authorizations", "actions", "response_urls")


def _envelope(body: dict[str, Any], where: str, depth: int = 0) -> None:
    for key in _ID_OR_OBJECT:
        if not isinstance(body.get(key), str | dict | None):
            raise MalformedRequestError(f"{where}{key} must be an id or an object")
    nested: list[tuple[str, dict[str, Any]]] = []
    for key in _OBJECTS:
        value = body.get(key)
        if isinstance(value, dict):
            nested.append((key, value))
        elif value is not None:
            raise MalformedRequestError(f"{where}{key} must be an object")
    for key in _LISTS_OF_OBJECTS:
        value = body.get(key)
        if value is not None and not (isinstance(value, list)
                                      and all(isinstance(v, dict) for v in value)):
            raise MalformedRequestError(f"{where}{key} must be a list of objects")
    if depth < 3:
        for key, value in nested:
            _envelope(value, f"{where}{key}.", depth + 1)
        for item in body.get("authorizations") or []:
            _envelope(item, f"{where}authorizations[].", depth + 1)


def _object(parent: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise MalformedRequestError(f"{_path(where, key)} is missing or not an object")
    return value


def _text(parent: dict[str, Any], key: str, where: str = "") -> str:
    value = parent.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedRequestError(f"{_path(where, key)} is missing, empty or not text")
    return value


def _path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)


def _bolt_request(text: str, body: dict[str, Any], request: Request) -> AsyncBoltRequest:
    """The request for bolt, with the body as checked here: bolt does not parse it again
    (slack_bolt 1.30 reads a slash command whose text merely contains "payload" as an
    empty interaction). Its own signature check still reads the raw text."""
    made = AsyncBoltRequest(body="", query=request.query_params,  # type: ignore[arg-type]
                            headers=request.headers)  # type: ignore[arg-type]
    made.raw_body, made.body = text, body
    try:
        made.context = build_async_context(made.context, body)
    except (TypeError, AttributeError, KeyError, IndexError, ValueError) as e:
        raise MalformedRequestError(
            f"a field is not of the type Slack sends ({str(e)[:100]})") from None
    return made
