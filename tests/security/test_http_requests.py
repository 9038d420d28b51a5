"""What a hostile or careless client can do to the HTTP API, served by uvicorn as in
`altlas serve` (with Slack mounted): bodies over ALTLAS_MAX_BODY_BYTES are refused on every
route before they are read, tokens follow the policy file without a restart, a policy file
that became invalid fails closed, and no input makes the API answer 5xx."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from adapters.policy_watch import PolicyWatch
from altlas.settings import Settings, SettingsError, load_settings
from application.errors import PolicyUnavailableError
from testkit.fakes import slack_payloads as p
from testkit.helpers import TOKENS, auth, default_policy, token_policy
from tests.e2e.test_slack import Desk, open_desk

LIMIT = 1_048_576  # ALTLAS_MAX_BODY_BYTES by default
ALERTS = "/alerts/alertmanager"  # its own limit, ALTLAS_MAX_ALERT_BODY_BYTES: whole groups
VOICE = "/voice"  # its own limit, ALTLAS_SPEECH_MAX_BYTES: a clip


@dataclass
class Served:
    desk: Desk
    policy: Path

    @property
    def url(self) -> str:
        return self.desk.url

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.get(f"{self.url}{path}", headers=headers, timeout=10)

    def edit_policy(self, change: Any) -> None:
        data = yaml.safe_load(self.policy.read_text())
        change(data)
        self.policy.write_text(yaml.safe_dump(data, sort_keys=False))

    def routes(self) -> list[tuple[str, str]]:
        """Every method and path the app serves, Slack's included."""
        system = self.desk.system
        found = system.slack(system.chat(catch_up=False))
        assert found is not None
        api = system.api(catch_up=False, slack=found[0])
        return sorted((method, route.path) for route in api.routes
                      if isinstance(route, Route) for method in route.methods or ()
                      if method != "HEAD")

    def limited(self) -> list[tuple[str, str]]:
        """The routes ALTLAS_MAX_BODY_BYTES holds: all but Alertmanager's webhook and the
        voice clips (tests/integration/test_http_api.py and test_voice_http.py hold them to
        their own limits)."""
        return [(method, path) for method, path in self.routes()
                if path not in (ALERTS, VOICE)]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(token_policy())
    with open_desk(tmp_path / "data", policy) as desk:
        yield Served(desk, policy)


def concrete(path: str) -> str:
    return path.replace("{", "").replace("}", "")  # /tasks/{task_id} -> /tasks/task_id


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def task_requests(served: Served) -> int:
    return sum(1 for r in served.desk.system.history.read() if r.type_name == "TaskRequested")


# -- the body limit ------------------------------------------------------------------------

def test_the_body_limit_is_one_megabyte_by_default() -> None:
    assert Settings().max_body_bytes == LIMIT == 1024 * 1024


@pytest.mark.parametrize("value", ["12", "lots", "-1"])
def test_a_bad_body_limit_is_named_at_start_up(monkeypatch: pytest.MonkeyPatch,
                                               value: str) -> None:
    monkeypatch.setenv("ALTLAS_MAX_BODY_BYTES", value)
    with pytest.raises(SettingsError, match=r"^ALTLAS_MAX_BODY_BYTES: "):
        load_settings()


def test_every_route_refuses_a_declared_body_over_the_limit_with_413(served: Served) -> None:
    routes = served.limited()
    assert ("POST", "/slack/events") in routes and ("POST", "/commands") in routes
    assert ("POST", "/tasks") in routes and len(routes) >= 25
    body = b"{" + b" " * LIMIT + b"}"
    with httpx.Client(timeout=10) as client:
        for method, path in routes:
            r = client.request(method, f"{served.url}{concrete(path)}", content=body,
                               headers={**auth("alice"), "Content-Type": "application/json"})
            assert r.status_code == 413, (method, path, r.status_code)
            assert r.json()["error"] == "payload_too_large", (method, path)
            assert str(LIMIT) in r.json()["message"]


def test_every_route_refuses_a_streamed_body_over_the_limit_with_413(served: Served) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 65536 + 1):
            yield b"x" * 65536

    with httpx.Client(timeout=10) as client:
        for method, path in served.limited():
            r = client.request(method, f"{served.url}{concrete(path)}", content=chunks(),
                               headers=auth("alice"))
            assert r.status_code == 413, (method, path, r.status_code)
            assert r.json()["error"] == "payload_too_large", (method, path)


def test_a_body_at_the_limit_is_read_and_one_byte_more_is_refused(served: Served) -> None:
    def command(size: int) -> bytes:
        shell = json.dumps({"text": "help", "pad": ""})
        return json.dumps({"text": "help", "pad": "x" * (size - len(shell))}).encode()

    at, over = command(LIMIT), command(LIMIT + 1)
    assert (len(at), len(over)) == (LIMIT, LIMIT + 1)
    headers = {**auth("alice"), "Content-Type": "application/json"}
    ok = httpx.post(f"{served.url}/commands", content=at, headers=headers, timeout=10)
    refused = httpx.post(f"{served.url}/commands", content=over, headers=headers, timeout=10)
    assert ok.status_code == 200 and "help" in ok.json()["text"]
    assert refused.status_code == 413


def _raw(served: Served, head: bytes, body: bytes = b"") -> bytes:
    """Send raw bytes and read what the server answers (until it closes), on a socket that
    never sends more than given."""
    port = int(served.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head + body)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # closed with some of what we sent unread: the answer came first
    return answer


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
        served: Served) -> None:
    started = time.monotonic()
    answer = _raw(served, b"POST /commands HTTP/1.1\r\nHost: altlas\r\n"
                          b"Authorization: Bearer tok-alice\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 1000000000000\r\n\r\n")
    assert time.monotonic() - started < 3  # no gigabyte was waited for
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"] == "payload_too_large"


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(served: Served) -> None:
    """The client never finishes its body: the 413 comes when the limit is passed."""
    chunk = b"x" * 65536
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(LIMIT // 65536))
    chunks += b"1\r\nx\r\n"  # one byte over; no last chunk follows
    before = task_requests(served)
    answer = _raw(served, b"POST /tasks HTTP/1.1\r\nHost: altlas\r\n"
                          b"Authorization: Bearer tok-erin\r\nContent-Type: application/json\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n", chunks)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"] == "payload_too_large"
    assert task_requests(served) == before


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
def test_a_valid_request_padded_over_the_limit_records_nothing(served: Served,
                                                               streamed: bool) -> None:
    body = json.dumps({"request": "check disk on web-1", "pad": "x" * LIMIT}).encode()
    content: Any = iter([body[i:i + 50_000] for i in range(0, len(body), 50_000)]) \
        if streamed else body
    r = httpx.post(f"{served.url}/tasks", content=content, timeout=10,
                   headers={**auth("erin"), "Content-Type": "application/json"})
    assert r.status_code == 413
    time.sleep(0.2)
    assert task_requests(served) == 0


# -- tokens follow the policy file ---------------------------------------------------------

def test_revoked_token_is_refused_on_the_next_request(served: Served) -> None:
    assert served.get("/tasks", TOKENS["alice"]).status_code == 200
    served.edit_policy(lambda d: d["api_tokens"].pop(digest(TOKENS["alice"])))
    refused = served.get("/tasks", TOKENS["alice"])
    assert (refused.status_code, refused.json()["error"]) == (401, "unknown_token")
    assert served.get("/tasks", TOKENS["bob"]).status_code == 200
    body = {"text": "help"}
    command = httpx.post(f"{served.url}/commands", json=body, headers=auth("alice"), timeout=10)
    assert command.status_code == 401  # /commands follows the same file


def test_a_new_token_works_on_the_next_request(served: Served) -> None:
    assert served.get("/tasks", "tok-carol-new").status_code == 401
    served.edit_policy(lambda d: d["api_tokens"].update({digest("tok-carol-new"): "carol"}))
    assert served.get("/tasks", "tok-carol-new").status_code == 200


def test_rotating_a_token_is_noticed_even_when_size_and_time_stay_the_same(
        served: Served) -> None:
    """A rewrite within the same clock tick can leave size and mtime as they were."""
    assert served.get("/tasks", TOKENS["alice"]).status_code == 200
    text = served.policy.read_text()
    before = served.policy.stat()
    served.policy.write_text(text.replace(digest(TOKENS["alice"]), digest("tok-alice-2")))
    os.utime(served.policy, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert served.policy.stat().st_size == before.st_size
    assert served.get("/tasks", TOKENS["alice"]).status_code == 401
    assert served.get("/tasks", "tok-alice-2").status_code == 200


BREAKAGES = [
    ("not YAML", lambda path: path.write_text("people: [unclosed\n"), "not valid YAML"),
    ("an unknown key", lambda path: path.write_text(
        path.read_text() + "surprise: 1\n"), "surprise"),
    ("a token written in clear", lambda path: path.write_text(path.read_text().replace(
        digest(TOKENS["bob"]), "tok-bob")), "must be the sha256 of a token"),
    ("a token for nobody", lambda path: path.write_text(path.read_text().replace(
        f"{digest(TOKENS['bob'])}: bob", f"{digest(TOKENS['bob'])}: mallory")), "mallory"),
    ("deleted", lambda path: path.unlink(), "cannot read the policy file"),
    ("not UTF-8", lambda path: path.write_bytes(b"version: 1\n\xff\xfe\n"), "not UTF-8"),
    ("emptied", lambda path: path.write_text(""), "policy.yaml"),
]


@pytest.mark.parametrize(("breaks", "says"), [b[1:] for b in BREAKAGES],
                         ids=[b[0] for b in BREAKAGES])
def test_a_policy_file_that_becomes_invalid_fails_closed_with_503_until_fixed(
    served: Served, caplog: pytest.LogCaptureFixture, breaks: Any, says: str
) -> None:
    good = served.policy.read_text()
    assert served.get("/tasks", TOKENS["alice"]).status_code == 200
    breaks(served.policy)
    answers = [served.get("/tasks", TOKENS[who]) for who in ("alice", "bob", "alice")]
    for r in answers:
        assert r.status_code == 503
        assert r.json()["error"] == "policy_unavailable"
        assert says in r.json()["message"] and "policy.yaml" in r.json()["message"]
    command = httpx.post(f"{served.url}/commands", json={"text": "help"},
                         headers=auth("alice"), timeout=10)
    assert command.status_code == 503
    assert served.get("/healthz").status_code == 200  # needs no token
    assert served.get("/tasks").status_code == 401  # no token is still no token
    logged = [r for r in caplog.records
              if r.levelno == logging.ERROR and "policy file cannot be used" in r.message]
    assert len(logged) == 1 and says in logged[0].message
    served.policy.write_text(good)
    assert served.get("/tasks", TOKENS["alice"]).status_code == 200


def test_a_fixed_policy_takes_its_new_tokens_and_drops_the_old(served: Served) -> None:
    good = served.policy.read_text()
    served.policy.write_text("version: [")
    assert served.get("/tasks", TOKENS["alice"]).status_code == 503
    served.policy.write_text(good.replace(digest(TOKENS["alice"]), digest("tok-alice-2")))
    assert served.get("/tasks", TOKENS["alice"]).status_code == 401
    assert served.get("/tasks", "tok-alice-2").status_code == 200


def test_the_built_in_policy_is_never_read_again(tmp_path: Path) -> None:
    watch = PolicyWatch(default_policy(), None)
    assert watch.current() is watch.current()


def test_a_touched_but_unchanged_policy_file_is_not_parsed_again(tmp_path: Path,
                                                                 caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="altlas.policy")
    path = tmp_path / "policy.yaml"
    path.write_text(token_policy())
    watch = PolicyWatch(default_policy(), path)
    first = watch.current()
    os.utime(path, ns=(0, time.time_ns() - 10**10))  # older than the racy window, changed
    assert watch.current() is first
    assert len([r for r in caplog.records if "policy read from" in r.message]) == 1


def test_a_missing_policy_file_fails_closed_from_the_first_request(tmp_path: Path) -> None:
    watch = PolicyWatch(default_policy(), tmp_path / "gone.yaml")
    with pytest.raises(PolicyUnavailableError, match=r"gone\.yaml: cannot read"):
        watch.current()


# -- fuzz ----------------------------------------------------------------------------------

_printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _printable,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_printable, inner, max_size=3),
    max_leaves=10)
_bodies = st.one_of(
    st.binary(max_size=600),
    _json.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["request", "text", "reason", "plan", "until", "into",
                                     "mode", "note", "payload", "command"]),
                    _json, max_size=4).map(lambda v: json.dumps(v).encode()),
    st.dictionaries(_printable, _printable, max_size=4).map(
        lambda v: "&".join(f"{k}={x}" for k, x in v.items()).encode()),
)
_content_types = st.one_of(st.sampled_from([
    "application/json", "application/x-www-form-urlencoded", "text/plain", "",
    "multipart/form-data; boundary=x", "application/json; charset=latin-1",
    "application/octet-stream"]), _printable)
_authorizations = st.one_of(st.none(), st.sampled_from(
    [f"Bearer {t}" for t in TOKENS.values()]), _printable.map(lambda t: f"Bearer {t}"),
    _printable)
_ids = st.one_of(st.sampled_from(["x", "0", "00000000-0000-0000-0000-000000000000", "..",
                                  "%2e%2e", "a" * 300]), _printable.filter(
    lambda s: s and "/" not in s and "?" not in s and "#" not in s and "%" not in s))
_extra = st.dictionaries(
    st.sampled_from(["X-Slack-Signature", "X-Slack-Request-Timestamp", "X-Slack-Retry-Num",
                     "Content-Encoding", "Accept", "X-Forwarded-For", "Cookie"]),
    _printable.map(str.strip), max_size=3)


def test_random_requests_at_post_routes_never_get_a_5xx_but_the_deliberate_503(
        served: Served) -> None:
    posts = [path for method, path in served.routes() if method == "POST"]
    good = served.policy.read_text()
    broken = {"now": False}
    seen: set[int] = set()

    @settings(derandomize=True, max_examples=500, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(path=st.sampled_from(posts), ids=st.lists(_ids, min_size=2, max_size=2),
           body=_bodies, ctype=_content_types, authorization=_authorizations,
           extra=_extra, sign=st.booleans(), policy_broken=st.integers(0, 9).map(
               lambda n: n == 0))
    def probe(path: str, ids: list[str], body: bytes, ctype: str, authorization: str | None,
              extra: dict[str, str], sign: bool, policy_broken: bool) -> None:
        if policy_broken != broken["now"]:
            served.policy.write_text("version: [" if policy_broken else good)
            broken["now"] = policy_broken
        values = iter(ids)
        url = re.sub(r"\{[^}]+\}", lambda _: next(values), path)
        headers = {**extra, "Content-Type": ctype.strip()}
        if authorization is not None:
            headers["Authorization"] = authorization.strip()
        if sign and path == "/slack/events":
            text = body.decode("utf-8", "replace")
            body = text.encode()
            headers.update(p.headers(text, ctype.strip()))
        r = client.post(f"{served.url}{url}", content=body, headers=headers)
        seen.add(r.status_code)
        if r.status_code == 503:
            assert broken["now"] and r.json()["error"] == "policy_unavailable", r.text
        else:
            assert r.status_code < 500, (path, url, r.status_code, r.text[:300])

    with httpx.Client(timeout=10) as client:
        probe()
    served.policy.write_text(good)
    assert {401, 422, 503} <= seen
