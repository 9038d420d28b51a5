"""What a hostile or broken sender can do to POST /slack/events, against the real bolt app
behind the real HTTP API (Slack's servers faked at the HTTP boundary): replays are refused
in every process, Slack's own retries handled once, malformed payloads get a 400 that says
what is wrong, bodies over the limit a 413, and a badly signed body is never logged."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from uuid import UUID

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt.async_app import AsyncBoltRequest

from altlas.bootstrap import System, bootstrap
from bots.slack_app import create_slack_app
from testkit.fakes import slack_payloads as p
from testkit.fakes.asgi import UvicornThread
from testkit.fakes.slack import BOT_TOKEN
from tests.e2e.test_slack import (
    ALICE,
    BOB,
    ERIN,
    Desk,
    approval_of,
    blocks,
    card_ts,
    ephemeral,
    open_desk,
    posted,
    start_gated,
    wait,
)

MARKER = "do-not-log-me-7f3a"
LIMIT = 1_048_576  # ALTLAS_MAX_BODY_BYTES by default


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with open_desk(tmp_path) as opened:
        yield opened


@pytest.fixture(scope="module")
def quiet_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """One desk for the requests that must change nothing."""
    with open_desk(tmp_path_factory.mktemp("quiet")) as opened:
        yield opened


def post(desk: Desk, body: str | bytes, headers: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{desk.url}/slack/events", content=body, headers=headers, timeout=10)


def delivery(body: str) -> dict[str, str]:
    """Slack's first delivery of an event, signed a minute ago (see retry)."""
    return p.headers(body, p.JSON, timestamp=int(time.time()) - 60)


def retry(body: str, n: int) -> dict[str, str]:
    """Slack's n-th retry of an event: the same body signed anew, n seconds after the
    first delivery, so each signature differs as when Slack signs them later."""
    return {**p.headers(body, p.JSON, timestamp=int(time.time()) - 60 + n),
            "X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"}


def events_of(system: System, type_name: str) -> list[Any]:
    return [r for r in system.history.read() if r.type_name == type_name]


@contextmanager
def nothing_happens(desk: Desk) -> Iterator[None]:
    """The block's requests record no event and call Slack for nothing."""
    position, calls = desk.system.history.last_position(), len(desk.slack.calls)
    yield
    time.sleep(0.05)
    assert desk.system.history.last_position() == position
    assert len(desk.slack.calls) == calls


@contextmanager
def second_process(desk: Desk) -> Iterator[str]:
    """Another altlas serving Slack on the same data (as a second `altlas serve` would):
    its own System, engines and bolt app; what they share is the databases."""
    other = bootstrap(desk.system.settings, clock=desk.clock)
    chat = other.chat(catch_up=False)
    found = other.slack(chat)
    assert found is not None
    try:
        with UvicornThread(other.api(chat=chat, slack=found[0], catch_up=False)) as server:
            yield server.url
    finally:
        other.close()


def click_body(desk: Desk, user: str, card: Any, action: str = "altlas_approve") -> str:
    message = {"ts": card_ts(card), "text": "", "blocks": blocks(card)}
    return p.block_actions(user, action, approval_of(card), message,
                           desk.slack.response_url(f"act/{user}"))


# -- replays and retries -------------------------------------------------------------------

def test_replayed_signed_click_is_refused_and_votes_once(desk: Desk) -> None:
    card = start_gated(desk)
    body = click_body(desk, ALICE, card)
    headers = p.headers(body, p.FORM)
    assert post(desk, body, headers).status_code == 200
    replay = post(desk, body, headers)
    assert replay.status_code == 409
    assert replay.json()["error"] == "replayed_request"
    assert wait(lambda: ephemeral(desk, ALICE)) == ["Vote counted: 1 of 2."]
    time.sleep(0.5)
    assert len(ephemeral(desk, ALICE)) == 1
    assert desk.system.app.get_approval(UUID(approval_of(card))).votes == ["alice"]
    assert len(events_of(desk.system, "ApprovalVoteCast")) == 1


def test_replayed_slash_command_is_refused_and_asks_once(desk: Desk) -> None:
    body = p.slash_command(ERIN, "do check disk and load on the altlas host",
                           desk.slack.response_url("cmd/erin"))
    headers = p.headers(body, p.FORM)
    assert post(desk, body, headers).status_code == 200
    assert [post(desk, body, headers).status_code for _ in range(3)] == [409, 409, 409]
    wait(lambda: events_of(desk.system, "TaskRequested"))
    time.sleep(0.5)
    assert len(events_of(desk.system, "TaskRequested")) == 1


def test_a_replay_sent_to_another_process_is_refused_too(desk: Desk) -> None:
    card = start_gated(desk)
    body = click_body(desk, ALICE, card)
    headers = p.headers(body, p.FORM)
    assert post(desk, body, headers).status_code == 200
    with second_process(desk) as other:
        replay = httpx.post(f"{other}/slack/events", content=body, headers=headers, timeout=10)
        assert (replay.status_code, replay.json()["error"]) == (409, "replayed_request")
        # and a fresh click there counts: the second process serves Slack as well
        fresh = click_body(desk, BOB, card)
        assert httpx.post(f"{other}/slack/events", content=fresh,
                          headers=p.headers(fresh, p.FORM), timeout=10).status_code == 200
        approval = wait(lambda: (a := desk.system.app.get_approval(UUID(approval_of(card))))
                        .status == "granted" and a)
    assert approval.votes == ["alice", "bob"]


def test_slacks_retry_of_an_event_is_answered_200_and_handled_once(desk: Desk) -> None:
    body = p.app_mention(ALICE, "approvals", ts="1700000200.000100", event_id="Ev0RETRY0001")
    first = post(desk, body, delivery(body))
    retries = [post(desk, body, retry(body, n)) for n in (1, 2, 3)]
    assert first.status_code == 200
    assert [r.status_code for r in retries] == [200, 200, 200]
    assert all(r.headers.get("X-Slack-No-Retry") == "1" for r in retries)
    wait(lambda: posted(desk))
    time.sleep(0.5)
    replies = posted(desk, lambda c: c.body.get("thread_ts") == "1700000200.000100")
    assert len(replies) == 1


def test_a_retry_reaching_another_process_is_handled_once(desk: Desk) -> None:
    body = p.app_mention(ALICE, "approvals", ts="1700000300.000100", event_id="Ev0RETRY0002")
    assert post(desk, body, delivery(body)).status_code == 200
    with second_process(desk) as other:
        again = httpx.post(f"{other}/slack/events", content=body, headers=retry(body, 1),
                           timeout=10)
        assert again.status_code == 200
    wait(lambda: posted(desk))
    time.sleep(0.5)
    assert len(posted(desk)) == 1


def test_a_retry_of_an_event_never_received_is_handled(desk: Desk) -> None:
    """The first delivery was lost (altlas was down): the retry is the one to handle."""
    body = p.app_mention(ALICE, "approvals", ts="1700000400.000100", event_id="Ev0RETRY0003")
    assert post(desk, body, retry(body, 2)).status_code == 200
    reply = wait(lambda: posted(desk))[0]
    assert reply.body["thread_ts"] == "1700000400.000100"


def test_distinct_events_in_the_same_second_are_each_handled(desk: Desk) -> None:
    for i in range(3):
        body = p.app_mention(ALICE, "approvals", ts=f"1700000500.00010{i}",
                             event_id=f"Ev0DISTINCT{i}")
        assert desk.send(body, p.JSON).status_code == 200
    assert len(wait(lambda: len(posted(desk)) == 3 and posted(desk))) == 3


def test_a_request_is_first_in_exactly_one_of_two_processes(views_url: str) -> None:
    """Two processes' engines racing on the same keys: each key is new to one of them."""
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from projections.seen_requests import SqlSeenRequests
    from projections.store import migrate, open_engine

    engines = [open_engine(views_url) for _ in range(2)]
    migrate(engines[0])
    stores = [SqlSeenRequests(lambda e=e: e, timedelta(minutes=15)) for e in engines]
    try:
        with ThreadPoolExecutor(8) as pool:
            firsts = list(pool.map(lambda i: stores[i % 2].first("slack", f"k{i // 8}"),
                                   range(64)))
        assert [sum(firsts[k * 8:(k + 1) * 8]) for k in range(8)] == [1] * 8
        stores[1].forget("slack", "k0")
        assert stores[0].first("slack", "k0") is True
        assert stores[1].first("discord", "k0") is True  # each front its own keys
    finally:
        for engine in engines:
            engine.dispose()


def test_a_request_twice_in_one_batch_of_checks_is_first_once(desk: Desk) -> None:
    """Requests arriving together are checked in one transaction: a replay among them, or
    of one seen before, is still refused."""
    from datetime import timedelta

    from projections.seen_requests import SqlSeenRequests

    seen = SqlSeenRequests(desk.system.views, timedelta(minutes=15))
    assert seen.first("slack", "signature:v0=earlier") is True
    assert seen.first_of("slack", ["signature:v0=a", "signature:v0=earlier", "signature:v0=a",
                                   "signature:v0=b"]) == [True, False, False, True]
    assert seen.first_of("slack", ["signature:v0=b"]) == [False]


def test_seen_requests_are_pruned_after_they_can_no_longer_verify(desk: Desk) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, select

    from projections.schema import seen_requests
    from projections.seen_requests import SqlSeenRequests

    old = datetime.now(UTC) - timedelta(hours=1)
    with desk.system.views().begin() as conn:
        conn.execute(insert(seen_requests), [{"front": "slack", "key": "signature:v0=old",
                                              "seen_at": old}])
    seen = SqlSeenRequests(desk.system.views, timedelta(minutes=15))
    assert seen.first("slack", "signature:v0=new") is True
    assert seen.first("slack", "signature:v0=new") is False
    with desk.system.views().connect() as conn:
        keys = set(conn.execute(select(seen_requests.c.key)).scalars())
    assert "signature:v0=old" not in keys and "signature:v0=new" in keys


# -- signatures ----------------------------------------------------------------------------

def _body() -> str:
    return p.slash_command(ERIN, f"do check disk on web-1 {MARKER}", "http://127.0.0.1:9/x")


def _raw_hmac(body: bytes, ts: str) -> str:
    digest = hmac.new(p.SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body,
                      hashlib.sha256)
    return f"v0={digest.hexdigest()}"


def _badly_signed() -> list[tuple[str, str | bytes, dict[str, Any]]]:
    body, now = _body(), int(time.time())
    good = p.headers(body, p.FORM)
    latin = body.encode() + b"\xff\xfe"
    return [
        ("unsigned", body, p.headers(body, p.FORM, signed=False)),
        ("wrong secret", body, p.headers(body, p.FORM, secret="not-the-secret")),
        ("six minutes old", body, p.headers(body, p.FORM, timestamp=now - 360)),
        ("six minutes ahead", body, p.headers(body, p.FORM, timestamp=now + 360)),
        ("another body's signature", body.replace("web-1", "web-2"), good),
        ("timestamp not a number", body, {**good, "X-Slack-Request-Timestamp": "soon"}),
        ("timestamp of forty digits", body, {**good, "X-Slack-Request-Timestamp": "9" * 40}),
        ("signature not ASCII", body, {**good, "X-Slack-Signature": b"v0=\xe9\xe9"}),
        ("signature empty", body, {**good, "X-Slack-Signature": ""}),
        ("another scheme", body, {**good, "X-Slack-Signature": good["X-Slack-Signature"]
                                  .replace("v0=", "v1=")}),
        ("body not UTF-8", latin, {**p.headers("", p.FORM), "X-Slack-Signature": _raw_hmac(
            latin, str(now)), "X-Slack-Request-Timestamp": str(now)}),
    ]


@pytest.mark.parametrize("case", range(len(_badly_signed())),
                         ids=[c[0] for c in _badly_signed()])
def test_badly_signed_requests_are_refused_with_401_and_change_nothing(
    quiet_desk: Desk, case: int
) -> None:
    _, body, headers = _badly_signed()[case]
    with nothing_happens(quiet_desk):
        r = post(quiet_desk, body, headers)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_signature"


def test_badly_signed_body_is_never_logged(quiet_desk: Desk,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    for _, body, headers in _badly_signed():
        post(quiet_desk, body, headers)
    assert caplog.records, "nothing was logged at all: the capture is not working"
    assert MARKER not in caplog.text
    assert not [r for r in caplog.records if "RequestVerification" in r.name]


def test_bolt_itself_does_not_log_a_badly_signed_body(
    quiet_desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """A signature that expires between the gate's check and bolt's reaches bolt's own
    check, which logs the whole body at INFO: that record is dropped."""
    caplog.set_level(logging.DEBUG)
    system = quiet_desk.system
    app = create_slack_app(system.chat(catch_up=False), system.chat_posts(), token=BOT_TOKEN,
                           signing_secret=p.SIGNING_SECRET, api_url=quiet_desk.slack.base_url)
    body = _body()
    stale = p.headers(body, p.FORM, timestamp=int(time.time()) - 301)
    response = asyncio.run(app.async_dispatch(AsyncBoltRequest(body=body, headers=stale)))
    assert response.status == 401
    assert MARKER not in caplog.text


# -- malformed, correctly signed -----------------------------------------------------------

def _form(payload: Any) -> str:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)})


def _click(action: str = "altlas_approve") -> dict[str, Any]:
    message = {"ts": "1700000000.000100", "text": "", "blocks": [
        {"type": "actions", "block_id": "b", "elements": [
            {"type": "button", "action_id": action, "value": "0123",
             "text": {"type": "plain_text", "text": "Approve"}}]}]}
    raw = p.block_actions(ALICE, action, "0123", message, "http://127.0.0.1:9/act")
    return dict(json.loads(dict(parse_qsl(raw))["payload"]))


def _submission() -> dict[str, Any]:
    view = {"callback_id": "altlas_deny_reason", "blocks": [], "private_metadata": json.dumps(
        {"approval_id": "0123", "channel": p.CHANNEL_ID, "ts": "1700000000.000100"})}
    return dict(json.loads(dict(parse_qsl(p.view_submission(ALICE, "no", view)))["payload"]))


def _mention() -> dict[str, Any]:
    return dict(json.loads(p.app_mention(ALICE, "approvals")))


def _slash() -> dict[str, str]:
    return dict(parse_qsl(p.slash_command(ALICE, "help", "http://127.0.0.1:9/cmd")))


def _edit(base: dict[str, Any], path: str, value: Any = ...) -> dict[str, Any]:
    """``base`` with the value at a dotted path replaced, or removed (no value)."""
    *parents, last = path.split(".")
    node = base
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return base


MALFORMED: list[tuple[str, str, Callable[[], str], str]] = [
    # (case, content type, body, what the message says)
    ("payload not JSON", p.FORM, lambda: _form("{not json"), "payload is not JSON"),
    ("payload a JSON list", p.FORM, lambda: _form([1, 2]), "a JSON list, not an object"),
    ("payload a JSON string", p.FORM, lambda: _form('"click"'), "a JSON string"),
    ("payload null", p.FORM, lambda: _form("null"), "a JSON null"),
    ("payload empty", p.FORM, lambda: _form(""), "payload is not JSON"),
    ("payload without type", p.FORM, lambda: _form(_edit(_click(), "type")),
     "neither a slash command"),
    ("payload type a number", p.FORM, lambda: _form(_edit(_click(), "type", 7)),
     "type must be text"),
    ("payload of an unknown type", p.FORM, lambda: _form(_edit(_click(), "type", "shortcut")),
     "no Slack request of type 'shortcut'"),
    ("click with empty actions", p.FORM, lambda: _form(_edit(_click(), "actions", [])),
     "actions must be a list of at least one action"),
    ("click without actions", p.FORM, lambda: _form(_edit(_click(), "actions")),
     "actions must be a list of at least one action"),
    ("click with actions an object", p.FORM,
     lambda: _form(_edit(_click(), "actions", {"action_id": "altlas_approve"})),
     "actions must be a list of objects"),
    ("click with an action a string", p.FORM,
     lambda: _form(_edit(_click(), "actions", ["altlas_approve"])),
     "actions must be a list of objects"),
    ("click without action_id", p.FORM,
     lambda: _form(_edit(_click(), "actions.0.action_id")), "actions[0].action_id"),
    ("approve without value", p.FORM, lambda: _form(_edit(_click(), "actions.0.value")),
     "actions[0].value is missing"),
    ("approve with a numeric value", p.FORM,
     lambda: _form(_edit(_click(), "actions.0.value", 123)), "actions[0].value"),
    ("click without user", p.FORM, lambda: _form(_edit(_click(), "user")),
     "user is missing or not an object"),
    ("click with user a list", p.FORM, lambda: _form(_edit(_click(), "user", ["U1"])),
     "user must be an id or an object"),
    ("click without user id", p.FORM, lambda: _form(_edit(_click(), "user.id")),
     "user.id is missing"),
    ("click with user id a number", p.FORM, lambda: _form(_edit(_click(), "user.id", 42)),
     "user.id is missing, empty or not text"),
    ("click without channel", p.FORM, lambda: _form(_edit(_click(), "channel")),
     "channel is missing or not an object"),
    ("click without channel id", p.FORM, lambda: _form(_edit(_click(), "channel.id")),
     "channel.id is missing"),
    ("click without response_url", p.FORM, lambda: _form(_edit(_click(), "response_url")),
     "response_url is missing"),
    ("deny without trigger_id", p.FORM,
     lambda: _form(_edit(_click("altlas_deny"), "trigger_id")), "trigger_id is missing"),
    ("deny without message", p.FORM, lambda: _form(_edit(_click("altlas_deny"), "message")),
     "message is missing or not an object"),
    ("deny with message a string", p.FORM,
     lambda: _form(_edit(_click("altlas_deny"), "message", "hi")), "message must be an object"),
    ("click with team a number", p.FORM, lambda: _form(_edit(_click(), "team", 5)),
     "team must be an id or an object"),
    ("click with authorizations a string", p.FORM,
     lambda: _form(_edit(_click(), "authorizations", "all")),
     "authorizations must be a list of objects"),
    ("click with container a list", p.FORM, lambda: _form(_edit(_click(), "container", [])),
     "container must be an object"),
    ("submission without view", p.FORM, lambda: _form(_edit(_submission(), "view")),
     "view is missing or not an object"),
    ("submission without callback_id", p.FORM,
     lambda: _form(_edit(_submission(), "view.callback_id")), "view.callback_id"),
    ("submission with metadata not JSON", p.FORM,
     lambda: _form(_edit(_submission(), "view.private_metadata", "{oops")),
     "private_metadata is not JSON"),
    ("submission with metadata a list", p.FORM,
     lambda: _form(_edit(_submission(), "view.private_metadata", "[]")),
     "private_metadata must be a JSON object"),
    ("submission with metadata lacking the approval", p.FORM,
     lambda: _form(_edit(_submission(), "view.private_metadata", '{"channel": "C"}')),
     "view.private_metadata.approval_id"),
    ("submission without the reason field", p.FORM,
     lambda: _form(_edit(_submission(), "view.state.values.reason")),
     "view.state.values.reason is missing"),
    ("submission with a numeric reason", p.FORM,
     lambda: _form(_edit(_submission(), "view.state.values.reason.value.value", 3)),
     "reason.value.value must be text"),
    ("submission without user", p.FORM, lambda: _form(_edit(_submission(), "user")),
     "user is missing"),
    ("event body a JSON list", p.JSON, lambda: "[]", "a JSON list, not an object"),
    ("event body a number", p.JSON, lambda: "42", "a JSON number"),
    ("event body null", p.JSON, lambda: "null", "a JSON null"),
    ("event body not JSON", p.JSON, lambda: "{type: event_callback", "not valid JSON"),
    ("event body an empty object", p.JSON, lambda: "{}", "neither a slash command"),
    ("event without event", p.JSON, lambda: json.dumps(_edit(_mention(), "event")),
     "event is missing or not an object"),
    ("event with event a string", p.JSON,
     lambda: json.dumps(_edit(_mention(), "event", "app_mention")), "event must be an object"),
    ("event without event_id", p.JSON, lambda: json.dumps(_edit(_mention(), "event_id")),
     "event_id is missing"),
    ("event with a huge event_id", p.JSON,
     lambda: json.dumps(_edit(_mention(), "event_id", "E" * 500)), "event_id is too long"),
    ("event without its type", p.JSON, lambda: json.dumps(_edit(_mention(), "event.type")),
     "event.type is missing"),
    ("mention without user", p.JSON, lambda: json.dumps(_edit(_mention(), "event.user")),
     "event.user is missing"),
    ("mention without channel", p.JSON,
     lambda: json.dumps(_edit(_mention(), "event.channel")), "event.channel is missing"),
    ("mention without ts", p.JSON, lambda: json.dumps(_edit(_mention(), "event.ts")),
     "event.ts is missing"),
    ("mention with numeric text", p.JSON,
     lambda: json.dumps(_edit(_mention(), "event.text", 1)), "event.text must be text"),
    ("mention with authorizations of strings", p.JSON,
     lambda: json.dumps(_edit(_mention(), "authorizations", ["T1"])),
     "authorizations must be a list of objects"),
    ("mention with an event message a string", p.JSON,
     lambda: json.dumps(_edit(_mention(), "event.message", "hi")),
     "event.message must be an object"),
    ("url verification without challenge", p.JSON,
     lambda: json.dumps({"type": "url_verification", "token": "t"}), "challenge is missing"),
    ("command without user_id", p.FORM, lambda: urlencode(_edit(_slash(), "user_id")),
     "user_id is missing"),
    ("command without channel_id", p.FORM, lambda: urlencode(_edit(_slash(), "channel_id")),
     "channel_id is missing"),
    ("command with an empty user_id", p.FORM,
     lambda: urlencode(_edit(_slash(), "user_id", "")), "user_id is missing, empty"),
    ("command without response_url", p.FORM,
     lambda: urlencode(_edit(_slash(), "response_url")), "response_url is missing"),
    ("command with authorizations", p.FORM,
     lambda: urlencode(_edit(_slash(), "authorizations", "x")),
     "authorizations must be a list of objects"),
    ("a form that is nothing Slack sends", p.FORM, lambda: "foo=bar", "neither a slash command"),
    ("an empty body", p.FORM, lambda: "", "neither a slash command"),
    ("multipart junk", "multipart/form-data; boundary=x",
     lambda: "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--",
     "neither a slash command"),
]


@pytest.mark.parametrize(("ctype", "make", "says"), [c[1:] for c in MALFORMED],
                         ids=[c[0] for c in MALFORMED])
def test_malformed_signed_request_is_a_400_saying_what_is_wrong(
    quiet_desk: Desk, ctype: str, make: Callable[[], str], says: str
) -> None:
    body = make()
    with nothing_happens(quiet_desk):
        r = post(quiet_desk, body, p.headers(body, ctype))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "malformed_request"
    assert says in r.json()["message"]


def test_a_signed_event_nested_too_deep_is_refused_before_it_is_parsed(
        quiet_desk: Desk) -> None:
    """The server's JSON guard answers for every route, Slack's included, before the body
    is parsed or its signature read: the same 400 an API client gets."""
    body = "[" * 100_000 + "]" * 100_000
    with nothing_happens(quiet_desk):
        r = post(quiet_desk, body, p.headers(body, p.JSON))
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_body"
    assert "deep" in r.json()["message"]


def test_a_malformed_request_is_not_remembered_so_it_can_be_sent_again(
        quiet_desk: Desk) -> None:
    body = _form([1])
    headers = p.headers(body, p.FORM)
    assert [post(quiet_desk, body, headers).status_code for _ in range(2)] == [400, 400]


# -- well-formed requests that are easy to get wrong ---------------------------------------

def test_slash_command_mentioning_payload_is_still_a_command(desk: Desk) -> None:
    """slack_bolt reads a form whose text contains "payload" as an empty interaction."""
    r = desk.command(ALICE, "status payload")
    assert r.status_code == 200
    said = wait(lambda: ephemeral(desk, ALICE))
    assert "payload" in said[0]


def test_url_verification_is_answered_with_its_challenge(quiet_desk: Desk) -> None:
    body = json.dumps({"token": p.VERIFICATION_TOKEN, "challenge": "c-123",
                       "type": "url_verification"})
    r = post(quiet_desk, body, p.headers(body, p.JSON))
    assert r.status_code == 200 and "c-123" in r.text


def test_an_event_altlas_does_not_listen_to_is_acknowledged_and_ignored(
        quiet_desk: Desk) -> None:
    body = json.dumps(_edit(_edit(_mention(), "event.type", "reaction_added"), "event_id",
                            "Ev0REACTION1"))
    with nothing_happens(quiet_desk):
        r = post(quiet_desk, body, p.headers(body, p.JSON))
    assert r.status_code == 200


# -- size ----------------------------------------------------------------------------------

def test_signed_body_over_the_limit_is_refused_with_413(quiet_desk: Desk) -> None:
    body = p.slash_command(ERIN, "do " + "x" * LIMIT, "http://127.0.0.1:9/x")
    with nothing_happens(quiet_desk):
        declared = post(quiet_desk, body, p.headers(body, p.FORM))
        chunks = [body[i:i + 65536].encode() for i in range(0, len(body), 65536)]
        streamed = post(quiet_desk, iter(chunks), p.headers(body, p.FORM))  # type: ignore[arg-type]
    for r in (declared, streamed):
        assert r.status_code == 413
        assert r.json()["error"] == "payload_too_large"


# -- fuzz ----------------------------------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=3),
    max_leaves=8)


def _paths(node: Any, prefix: str = "") -> list[str]:
    found = []
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, list) else [])
    for key, value in items:
        if "." in str(key) or not str(key):  # a generated key a dotted path cannot name
            continue
        path = f"{prefix}{key}"
        found.append(path)
        found += _paths(value, f"{path}.")
    return found


_BASES: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("click", _click), ("deny", lambda: _click("altlas_deny")), ("submission", _submission),
    ("mention", _mention), ("slash", _slash),
    ("verification", lambda: {"type": "url_verification", "challenge": "c"})]


@st.composite
def _mutated(draw: st.DrawFn) -> tuple[str, str]:
    name, make = draw(st.sampled_from(_BASES))
    body = make()
    if name == "mention":  # a new event each time, or all but the first are retries
        body["event_id"] = f"Ev0FUZZ{draw(st.integers(0, 10**9))}"
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(body)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        if draw(st.booleans()):
            _edit(body, path)
        else:
            _edit(body, path, draw(_json))
    if name == "slash":
        return p.FORM, urlencode({k: v if isinstance(v, str) else json.dumps(v)
                                  for k, v in body.items()})
    if name == "mention":
        return p.JSON, json.dumps(body)
    return p.FORM, _form(body)


def test_signed_mutations_of_real_payloads_never_get_a_5xx(tmp_path: Path) -> None:
    with open_desk(tmp_path) as desk:
        statuses: set[int] = set()

        @settings(derandomize=True, max_examples=300, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(_mutated())
        def probe(case: tuple[str, str]) -> None:
            ctype, body = case
            r = client.post(f"{desk.url}/slack/events", content=body,
                            headers=p.headers(body, ctype))
            statuses.add(r.status_code)
            assert r.status_code < 500, (r.status_code, r.text, body)

        with httpx.Client(timeout=10) as client:
            probe()
        assert {200, 400} <= statuses


def test_concurrent_replays_of_one_request_let_exactly_one_through(desk: Desk) -> None:
    body = p.slash_command(ERIN, "status 0123", desk.slack.response_url("cmd/erin"))
    headers = p.headers(body, p.FORM)
    statuses: list[int] = []
    lock = threading.Lock()

    def send() -> None:
        status = post(desk, body, headers).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * 19


def test_an_event_bolt_failed_on_is_handled_when_slack_retries_it() -> None:
    """Bolt answers 500 when Slack cannot be reached to authorize (auth.test): the event
    was not handled, so Slack's retry is, and only the once."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from slack_bolt import BoltResponse

    from bots.slack_gate import gate

    class Memory:
        def __init__(self) -> None:
            self.keys: set[str] = set()

        def first_of(self, front: str, keys: list[str]) -> list[bool]:
            firsts = [key not in self.keys for key in keys]
            self.keys.update(keys)
            return firsts

        def forget(self, front: str, key: str) -> None:
            self.keys.discard(key)

    class Bolt:
        def __init__(self) -> None:
            self.answers, self.handled = [500, 200, 200], 0

        async def async_dispatch(self, request: AsyncBoltRequest) -> BoltResponse:
            status = self.answers.pop(0)
            self.handled += status == 200
            return BoltResponse(status=status, body="")

    bolt = Bolt()
    api = FastAPI()
    api.add_api_route("/slack/events", gate(bolt, p.SIGNING_SECRET, Memory()),  # type: ignore[arg-type]
                      methods=["POST"])
    body = p.app_mention(ALICE, "approvals", event_id="Ev0FAILED001")
    with TestClient(api) as client:
        first = client.post("/slack/events", content=body, headers=delivery(body))
        retried = [client.post("/slack/events", content=body, headers=retry(body, n))
                   for n in (1, 2)]
    assert first.status_code == 500
    assert [r.status_code for r in retried] == [200, 200]
    assert bolt.handled == 1 and bolt.answers == [200]
