"""Ways around the dashboard's gates, tried as an attacker would: forged, expired and
borrowed session cookies, cookies copied before their session signed out (on every route,
stream and `serve` process, however re-encoded), forms without this session's CSRF token or
with someone else's, a bearer token where a cookie belongs and a cookie where a bearer token
belongs, redirects to other sites, votes by someone without the role, and markup in what
people wrote. Each is refused with a page, never a 5xx, and records no vote."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from adapters.web.session import COOKIE, Sessions, SignOuts
from altlas.bootstrap import bootstrap
from projections.schema import seen_requests
from projections.seen_requests import SqlSeenRequests
from projections.store import migrate, open_engine
from testkit.dashboard import (
    SECRET,
    Dashboard,
    KeptKeys,
    csrf_of,
    serve_dashboard,
    sign_in,
    until,
)
from testkit.fakes.asgi import UvicornThread
from testkit.helpers import TOKENS


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with serve_dashboard(tmp_path_factory.mktemp("dashboard-gates")) as served:
        yield served


@pytest.fixture(scope="module")
def approval(dash: Dashboard) -> str:
    return str(dash.approval_of(dash.request("alice"))["approval_id"])


def votes(dash: Dashboard, approval_id: str) -> list[str]:
    r = httpx.get(f"{dash.url}/approvals/{approval_id}", timeout=10,
                  headers={"Authorization": f"Bearer {TOKENS['erin']}"})
    return list(r.json()["votes"])


def cookie_for(person: str, token: str, *, expires_in: int = 3600,
               secret: str = SECRET) -> str:
    sessions = Sessions(secret.encode(), expires_in, KeptKeys(), clock=time.time)
    return sessions.open(person, token)[1]


def first_event(lines: Iterator[str]) -> str:
    """The data of the next server-sent event, its lines joined."""
    data: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            data.append(line[5:])
        elif not line and data:
            return "\n".join(data)
    raise AssertionError("the stream ended before its first event")


def page_with(dash: Dashboard, cookie: str, path: str = "/ui/") -> httpx.Response:
    """The page asked for with exactly this cookie, as raw bytes a client may send."""
    return httpx.get(f"{dash.url}{path}", timeout=10,
                     headers={"Cookie": f"{COOKIE}={cookie}".encode()})


class TestSessionCookies:
    def test_a_cookie_signed_with_another_secret_is_sent_to_sign_in(
            self, dash: Dashboard) -> None:
        forged = cookie_for("bob", TOKENS["bob"], secret="x" * 40)
        r = page_with(dash, forged)
        assert r.status_code == 303 and "why=signin.ended" in r.headers["location"]

    def test_a_cookie_whose_person_was_changed_keeps_no_signature(
            self, dash: Dashboard) -> None:
        body, signature = cookie_for("ivy", TOKENS["ivy"]).split(".")
        fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        fields[0] = "bob"
        swapped = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
        assert page_with(dash, f"{swapped}.{signature}").status_code == 303

    def test_an_expired_cookie_is_sent_to_sign_in_saying_it_ended(
            self, dash: Dashboard) -> None:
        expired = Sessions(SECRET.encode(), 60, KeptKeys(), clock=lambda: time.time() - 3600)
        r = page_with(dash, expired.open("bob", TOKENS["bob"])[1])
        assert r.status_code == 303 and "why=signin.ended" in r.headers["location"]

    def test_a_well_signed_cookie_for_a_token_the_person_does_not_hold_is_refused(
            self, dash: Dashboard) -> None:
        """Whoever knows the secret still needs the person's current token: a session is
        checked against the policy's token hashes at every request."""
        r = page_with(dash, cookie_for("bob", TOKENS["carol"]))
        assert r.status_code == 303

    @pytest.mark.parametrize("garbage", ["", ".", "a.b.c", "%%%.%%%", "é.é", "x" * 5000,
                                         "W10.AAAA", "bnVsbA.AAAA"])
    def test_garbage_cookies_get_the_sign_in_page_never_a_5xx(
            self, dash: Dashboard, garbage: str) -> None:
        r = page_with(dash, garbage)
        assert r.status_code == 303

    def test_a_dead_session_on_the_live_stream_is_a_401_page_not_a_stream(
            self, dash: Dashboard) -> None:
        r = httpx.get(f"{dash.url}/ui/now/stream", timeout=10,
                      headers={"Accept": "text/event-stream"})
        assert r.status_code == 401 and "Sign in" in r.text


class TestFronts:
    def test_a_bearer_token_does_not_open_the_pages(self, dash: Dashboard) -> None:
        r = httpx.get(f"{dash.url}/ui/", timeout=10,
                      headers={"Authorization": f"Bearer {TOKENS['bob']}"})
        assert r.status_code == 303

    def test_a_session_cookie_does_not_open_the_api(self, dash: Dashboard) -> None:
        with dash.browser("bob") as bob:
            cookie = bob.cookies[COOKIE]
        r = httpx.get(f"{dash.url}/approvals", cookies={COOKIE: cookie}, timeout=10)
        assert r.status_code == 401

    @pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/",
                                        "/\\evil.example", "/ui/\r\nLocation: //evil",
                                        "javascript:alert(1)"])
    def test_sign_in_never_sends_the_person_to_another_site(
            self, dash: Dashboard, target: str) -> None:
        with dash.browser() as client:
            r = sign_in(client, TOKENS["bob"], next_page=target)
        assert r.status_code == 303 and r.headers["location"] == "/ui/"

    def test_signing_in_without_the_forms_own_token_is_refused(self, dash: Dashboard) -> None:
        with dash.browser() as client:
            r = client.post("/ui/signin", data={"csrf": "x", "token": TOKENS["bob"]})
        assert r.status_code == 403 and COOKIE not in r.headers.get("set-cookie", "")


class TestForgedVotes:
    def test_a_vote_without_a_csrf_token_is_refused_and_not_counted(
            self, dash: Dashboard, approval: str) -> None:
        with dash.browser("bob") as bob:
            r = bob.post(f"/ui/approvals/{approval}/approve")
        assert r.status_code == 403 and "CSRF" in r.text
        assert votes(dash, approval) == []

    def test_a_vote_carrying_another_sessions_csrf_token_is_refused(
            self, dash: Dashboard, approval: str) -> None:
        with dash.browser("carol") as carol, dash.browser("bob") as bob:
            theirs = csrf_of(carol.get("/ui/").text)
            r = bob.post(f"/ui/approvals/{approval}/approve", data={"csrf": theirs})
        assert r.status_code == 403
        assert votes(dash, approval) == []

    def test_a_csrf_token_of_a_signed_out_session_does_not_work_in_a_new_one(
            self, dash: Dashboard, approval: str) -> None:
        with dash.browser("bob") as first:
            old = csrf_of(first.get("/ui/").text)
        with dash.browser("bob") as second:
            r = second.post(f"/ui/approvals/{approval}/approve", data={"csrf": old})
        assert r.status_code == 403
        assert votes(dash, approval) == []

    def test_a_live_part_drawn_once_for_several_sessions_carries_each_its_own_csrf_token(
            self, dash: Dashboard, approval: str) -> None:
        """Open streams of people who see *Now* alike share one render: the form tokens
        in it must still be each session's own, never the session that drew it first."""
        with dash.browser("bob") as laptop, dash.browser("bob") as phone, \
                dash.browser("carol") as carol:
            sessions = [laptop, phone, carol]
            own = [csrf_of(s.get("/ui/").text) for s in sessions]
            streams = [s.stream("GET", "/ui/now/stream", headers={
                "Accept": "text/event-stream"}) for s in sessions]
            shown = [first_event(opened.__enter__().iter_lines()) for opened in streams]
            for opened in streams:
                opened.__exit__(None, None, None)
        assert len(set(own)) == 3
        for token, data in zip(own, shown, strict=True):
            assert approval in data
            assert set(re.findall(r'name="csrf" value="([^"]+)"', data)) == {token}

    def test_an_open_stream_of_someone_whose_roles_changed_stops_instead_of_going_on(
            self, dash: Dashboard, approval: str) -> None:
        """What a stream is sent is drawn once for everyone with the roles it opened
        with: once carol is no longer an approver, her open page must stop receiving the
        approvers' part, with its Approve buttons (within 15 s: README)."""
        before = dash.policy_file.read_text()
        with dash.browser("carol") as carol, carol.stream("GET", "/ui/now/stream", headers={
                "Accept": "text/event-stream"}) as live:
            lines = live.iter_lines()
            assert "/approve" in first_event(lines)
            try:
                dash.edit_policy(lambda data: data["groups"]["sre-oncall"].remove("carol"))
                time.sleep(5.1)  # a stream asks again at a change 5 s after it last did
                dash.request("alice", env="dev")
                rest = []
                deadline = time.monotonic() + 20  # the keep-alive comes every 15 s
                for line in lines:
                    rest += [line] if line.startswith("data:") else []
                    assert time.monotonic() < deadline, "the stream went on"
            finally:
                dash.policy_file.write_text(before)
        assert "roles changed" in rest[-1]  # its last word: nothing more is sent

    def test_a_person_without_the_role_posting_the_form_anyway_is_refused(
            self, dash: Dashboard, approval: str) -> None:
        with dash.browser("ivy") as ivy:
            csrf = csrf_of(ivy.get("/ui/").text)
            r = ivy.post(f"/ui/approvals/{approval}/approve", data={"csrf": csrf})
            denied = ivy.post(f"/ui/approvals/{approval}/deny",
                              data={"csrf": csrf, "reason": "no"})
        assert r.status_code == denied.status_code == 403
        assert "approver role" in r.text
        assert votes(dash, approval) == []

    def test_an_approval_id_of_quotes_and_markup_is_a_404_page(self, dash: Dashboard) -> None:
        with dash.browser("bob") as bob:
            csrf = csrf_of(bob.get("/ui/").text)
            r = bob.post("/ui/approvals/%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E/approve",
                         data={"csrf": csrf})
        assert r.status_code == 404 and "<script>alert(1)" not in r.text


def test_markup_people_wrote_is_shown_as_text_on_every_page(dash: Dashboard) -> None:
    words = 'check disk on web-1 <script>alert("x")</script> <img src=x onerror=alert(1)>'
    task = dash.request("erin", words, env="dev")
    with dash.browser("bob") as bob:
        page = bob.get("/ui/tasks").text
    assert task[:8] in page and "&lt;script&gt;alert(" in page
    assert "<script>alert" not in page and "<img src=x" not in page


def ui_routes(dash: Dashboard) -> list[tuple[str, str]]:
    """Every (method, path) the dashboard answers for a signed-in person, ids filled in."""
    from fastapi.routing import APIRoute

    found = []
    for route in dash.api.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/ui/") and \
                "{rest:path}" not in route.path and not route.path.startswith("/ui/sign"):
            path = re.sub(r"\{[a-z_]+\}", "00000000-0000-4000-8000-000000000000", route.path)
            found += [(method, path) for method in sorted(route.methods)]
    return found


@pytest.fixture
def copied(dash: Dashboard) -> Iterator[tuple[str, str, httpx.Client]]:
    """A session's cookie and CSRF token as someone copied them, and the browser they were
    copied from, still signed in."""
    with dash.browser("bob") as bob:
        yield bob.cookies[COOKIE], csrf_of(bob.get("/ui/").text), bob


def sign_out(client: httpx.Client) -> None:
    r = client.post("/ui/signout", data={"csrf": csrf_of(client.get("/ui/").text)})
    assert r.status_code == 303 and r.headers["location"] == "/ui/signin"


class TestSignedOut:
    def test_a_copied_cookie_opens_no_route_once_its_session_signed_out(
            self, dash: Dashboard, approval: str,
            copied: tuple[str, str, httpx.Client]) -> None:
        cookie, csrf, bob = copied
        routes = ui_routes(dash)
        assert len(routes) >= 20 and {method for method, _ in routes} == {"GET", "POST"}
        assert page_with(dash, cookie).status_code == 200
        sign_out(bob)
        for method, path in routes:
            path = path.replace("00000000-0000-4000-8000-000000000000", approval)
            if method == "GET":
                r = page_with(dash, cookie, path)
                assert r.status_code == 303, (path, r.status_code)
                assert r.headers["location"].endswith("why=signin.ended"), path
                streamed = httpx.get(f"{dash.url}{path}", timeout=10, headers={
                    "Cookie": f"{COOKIE}={cookie}", "Accept": "text/event-stream"})
                assert streamed.status_code == 401 and "sign in again" in streamed.text, path
            else:
                r = httpx.post(f"{dash.url}{path}", data={"csrf": csrf, "reason": "copied"},
                               headers={"Cookie": f"{COOKIE}={cookie}"}, timeout=10)
                assert r.status_code == 401 and "sign in again" in r.text, (path, r.status_code)
        assert votes(dash, approval) == []

    def test_the_signed_out_cookie_re_encoded_is_still_refused(
            self, dash: Dashboard, copied: tuple[str, str, httpx.Client]) -> None:
        """What ends is the session inside the signature, not the cookie's bytes: padding
        and the quoting cookie parsers undo give the same session, ended alike."""
        cookie, _, bob = copied
        body, signature = cookie.split(".")
        variants = [f"{body}{'=' * (-len(body) % 4)}.{signature}",
                    f'"{cookie}"', '"' + cookie.replace(".", "\\056") + '"']
        assert [page_with(dash, v).status_code for v in variants] == [200] * 3
        sign_out(bob)
        assert [page_with(dash, v).status_code for v in [cookie, *variants]] == [303] * 4

    def test_a_stream_open_on_the_copied_cookie_ends_when_its_session_signs_out(
            self, dash: Dashboard, copied: tuple[str, str, httpx.Client]) -> None:
        cookie, _, bob = copied
        with httpx.stream("GET", f"{dash.url}/ui/now/stream", timeout=10, headers={
                "Cookie": f"{COOKIE}={cookie}", "Accept": "text/event-stream"}) as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(line for line in lines if line.startswith("data:"))  # the page
            started = time.monotonic()
            sign_out(bob)
            rest = list(lines)  # the server closes the stream after its last word
        assert time.monotonic() - started < 5  # not left for the next keep-alive (15 s)
        assert any("sign in again" in line for line in rest if line.startswith("data:"))

    def test_signing_out_ends_that_session_only(self, dash: Dashboard) -> None:
        with dash.browser("bob") as laptop, dash.browser("bob") as phone:
            sign_out(laptop)
            assert phone.get("/ui/").status_code == 200
            assert laptop.get("/ui/").status_code == 303

    def test_a_session_signed_out_on_one_serve_is_refused_by_another_on_the_store(
            self, dash: Dashboard, copied: tuple[str, str, httpx.Client]) -> None:
        """Two `altlas serve` behind one address, as the signing key's help says: the
        sign-out recorded by one ends the session in the other, which keeps nothing of it
        in memory."""
        cookie, _, bob = copied
        with other_serve(dash) as other:
            def on_other() -> int:
                return httpx.get(f"{other}/ui/", headers={"Cookie": f"{COOKIE}={cookie}"},
                                 timeout=10).status_code
            assert on_other() == 200
            sign_out(bob)
            assert on_other() == 303


def sign_out_everywhere(client: httpx.Client) -> None:
    r = client.post("/ui/signout/everywhere", data={"csrf": csrf_of(client.get("/ui/").text)})
    assert r.status_code == 303 and r.headers["location"] == "/ui/signin"


class TestSignedOutEverywhere:
    def test_every_earlier_cookie_of_the_person_stops_on_every_route_stream_and_serve(
            self, dash: Dashboard, approval: str) -> None:
        """A laptop, a phone and a copy of the phone's cookie someone took: signing out
        everywhere from the laptop ends all three, on every page, form and stream, on this
        `serve` and another on the store; someone else's session and a new one go on."""
        with dash.browser("bob") as laptop, dash.browser("bob") as phone, \
                dash.browser("carol") as carol, other_serve(dash) as other:
            cookies = [laptop.cookies[COOKIE], phone.cookies[COOKIE]]
            csrf = csrf_of(phone.get("/ui/").text)
            with httpx.stream("GET", f"{dash.url}/ui/now/stream", timeout=10, headers={
                    "Cookie": f"{COOKIE}={cookies[1]}",
                    "Accept": "text/event-stream"}) as stream:
                lines = stream.iter_lines()
                assert first_event(lines)
                sign_out_everywhere(laptop)
                rest = [line for line in lines if line.startswith("data:")]
            assert any("sign in again" in line for line in rest)
            assert page_with(dash, cookies[0]).status_code == 303  # the laptop's own
            for cookie in cookies[1:]:  # the phone's, and so its copy: on every route
                for method, path in ui_routes(dash):
                    path = path.replace("00000000-0000-4000-8000-000000000000", approval)
                    r = httpx.request(method, f"{dash.url}{path}", timeout=10, data={
                        "csrf": csrf, "reason": "copied"} if method == "POST" else None,
                        headers={"Cookie": f"{COOKIE}={cookie}"})
                    assert r.status_code in (303, 401), (method, path, r.status_code)
                    if method == "GET":
                        streamed = httpx.get(f"{dash.url}{path}", timeout=10, headers={
                            "Cookie": f"{COOKIE}={cookie}", "Accept": "text/event-stream"})
                        assert streamed.status_code == 401, path
                assert httpx.get(f"{other}/ui/", headers={"Cookie": f"{COOKIE}={cookie}"},
                                 timeout=10).status_code == 303
            assert carol.get("/ui/").status_code == 200
            with dash.browser("bob") as again:
                assert again.get("/ui/").status_code == 200
        assert votes(dash, approval) == []

    def test_signing_out_everywhere_from_another_site_without_the_token_ends_nothing(
            self, dash: Dashboard) -> None:
        with dash.browser("bob") as bob:
            r = bob.post("/ui/signout/everywhere", headers={"Origin": "https://evil.example"})
            assert r.status_code == 403
            r = bob.post("/ui/signout/everywhere", data={"csrf": "forged"})
            assert r.status_code == 403
            assert bob.get("/ui/").status_code == 200

    def test_a_cookie_without_its_opening_time_is_sent_to_sign_in(
            self, dash: Dashboard) -> None:
        """A cookie signed before sessions said when they opened cannot be told apart from
        one opened after signing out everywhere: it is refused, not let through."""
        body = json.dumps(["bob", hashlib.sha256(TOKENS["bob"].encode()).hexdigest(),
                           int(time.time()) + 600, "nonce"], separators=(",", ":")).encode()
        signature = hmac.new(SECRET.encode(), b"session\0" + body, hashlib.sha256).digest()
        cookie = f"{_b64(body)}.{_b64(signature)}"
        assert page_with(dash, cookie).status_code == 303


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@contextmanager
def other_serve(dash: Dashboard) -> Iterator[str]:
    """A second `serve` on the dashboard's store, with its own settings-built system (its
    engines, its sessions), in this process: it starts in 2 s, a new interpreter in 16."""
    other = bootstrap(dash.system.settings)
    try:
        with UvicornThread(other.api(catch_up=False)) as server:
            yield server.url
    finally:
        other.close()


@contextmanager
def two_processes(views_url: str) -> Iterator[tuple[Sessions, Sessions, SqlSeenRequests]]:
    """Two processes' sessions on one view database, each with its own engine (nothing
    shared but the database), and the first one's ended sessions."""
    engines = [open_engine(views_url) for _ in range(2)]
    migrate(engines[0])
    ended = [SqlSeenRequests(lambda e=e: e, timedelta(seconds=3600)) for e in engines]
    try:
        yield (Sessions(SECRET.encode(), 3600, ended[0]),
               Sessions(SECRET.encode(), 3600, ended[1]), ended[0])
    finally:
        for engine in engines:
            engine.dispose()


class TestSignedOutRecords:
    def test_a_session_signed_out_through_one_engine_is_refused_through_another(
            self, views_url: str) -> None:
        """Each process has its own engine on the view database: nothing shared but it."""
        with two_processes(views_url) as (laptop, other, _):
            session, cookie = laptop.open("bob", TOKENS["bob"])
            assert other.read(cookie) == session
            laptop.end(session)
            assert other.read(cookie) is None and laptop.read(cookie) is None

    def test_a_stream_in_another_process_sees_a_sign_out_and_an_everywhere_within_a_second(
            self, views_url: str) -> None:
        """Open streams read the ended sessions once a second, not each on its own: what
        another process records still reaches them."""
        with two_processes(views_url) as (laptop, other, ended):
            session, cookie = laptop.open("bob", TOKENS["bob"])
            _, kept = laptop.open("bob", TOKENS["bob"])
            assert other.read(cookie, lately=True) == session
            laptop.end(session)
            until(lambda: other.read(cookie, lately=True) is None, timeout=1.5)
            assert other.read(kept, lately=True) is not None
            SignOuts(ended).end_everywhere("bob")  # `altlas ui sign-out` on the laptop
            until(lambda: other.read(kept, lately=True) is None, timeout=1.5)

    def test_a_signed_out_session_is_forgotten_once_its_cookie_has_expired(
            self, tmp_path: Path) -> None:
        engine = open_engine(f"sqlite:///{tmp_path / 'views.sqlite3'}")
        migrate(engine)
        now = [time.time()]

        def sessions() -> Sessions:  # a process started at ``now``
            kept = SqlSeenRequests(lambda: engine, timedelta(seconds=3600),
                                   clock=lambda: datetime.fromtimestamp(now[0], UTC))
            return Sessions(SECRET.encode(), 3600, kept, clock=lambda: now[0])

        first = sessions()
        first.end(first.open("bob", TOKENS["bob"])[0])
        now[0] += 3601
        later = sessions()
        later.end(later.open("bob", TOKENS["bob"])[0])
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(seen_requests)).scalar() == 1
        engine.dispose()

    def test_lowering_the_session_lifetime_ends_sessions_that_would_outlast_it(self) -> None:
        """Otherwise a sign-out, kept for the new lifetime, would be forgotten while the
        cookie it ended still opened pages."""
        _, cookie = Sessions(SECRET.encode(), 28_800, KeptKeys()).open("bob", TOKENS["bob"])
        assert Sessions(SECRET.encode(), 28_800, KeptKeys()).read(cookie) is not None
        assert Sessions(SECRET.encode(), 3600, KeptKeys()).read(cookie) is None
