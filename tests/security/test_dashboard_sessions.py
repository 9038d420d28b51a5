"""Ways around the dashboard's gates, tried as an attacker would: forged, expired and
borrowed session cookies, forms without this session's CSRF token or with someone else's, a
bearer token where a cookie belongs and a cookie where a bearer token belongs, redirects to
other sites, votes by someone without the role, and markup in what people wrote. Each is
refused with a page, never a 5xx, and records no vote."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import httpx
import pytest

from adapters.web.session import COOKIE, Sessions
from testkit.dashboard import SECRET, Dashboard, csrf_of, serve_dashboard, sign_in
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
    sessions = Sessions(secret.encode(), expires_in, clock=time.time)
    return sessions.open(person, token)[1]


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
        expired = Sessions(SECRET.encode(), 60, clock=lambda: time.time() - 3600)
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
