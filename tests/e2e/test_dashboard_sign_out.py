"""An admin ends someone's dashboard sessions from the command line while `altlas serve` runs
in another process on the same store: every cookie the person had stops (pages, forms, an
open live page within its recheck), everyone else's goes on, and the history says who did it.
Tried as an attacker too: someone without the admin role, a person the policy does not name
and a caller it does not name are refused in one line, end nothing and record nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml

from adapters.web.session import COOKIE
from testkit.dashboard import Dashboard, csrf_of, serve_dashboard
from testkit.helpers import auth, token_policy
from testkit.slack_desk import wait as until
from tests.e2e.conftest import one_line_error

ENDED = "DashboardSessionsEnded"


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """erin is an admin; deniz is not."""
    data = yaml.safe_load(token_policy())
    data["people"]["erin"]["roles"] = ["requester", "admin"]
    with serve_dashboard(tmp_path_factory.mktemp("dashboard-sign-out"),
                         yaml.safe_dump(data, sort_keys=False)) as served:
        yield served


def altlas(dash: Dashboard, *args: str) -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own, on the dashboard's store and policy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    env.update(ALTLAS_DATA_DIR=str(dash.system.settings.data_dir),
               ALTLAS_POLICY_FILE=str(dash.policy_file), ALTLAS_SEGMENTER="rules")
    return subprocess.run([sys.executable, "-m", "altlas", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def page(dash: Dashboard, cookie: str, path: str = "/ui/") -> httpx.Response:
    return httpx.get(f"{dash.url}{path}", headers={"Cookie": f"{COOKIE}={cookie}"},
                     timeout=10)


def stored_endings(dash: Dashboard) -> list[dict[str, Any]]:
    """Every DashboardSessionsEnded in the store (not the views: nothing may lag)."""
    r = httpx.get(f"{dash.url}/events", params={"limit": 1000}, headers=auth("ivy"),
                  timeout=10)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["items"] if e["type"] == ENDED]


def test_admin_ends_another_persons_dashboard_sessions(dash: Dashboard) -> None:
    with dash.browser("bob") as laptop, dash.browser("bob") as phone, \
            dash.browser("carol") as carol:
        cookies = [laptop.cookies[COOKIE], phone.cookies[COOKIE]]
        csrf = csrf_of(phone.get("/ui/").text)
        before = len(stored_endings(dash))
        with httpx.stream("GET", f"{dash.url}/ui/now/stream", timeout=30, headers={
                "Cookie": f"{COOKIE}={cookies[1]}", "Accept": "text/event-stream"}) as live:
            lines = live.iter_lines()
            assert any(line.startswith("data:") for line in lines)  # the page, live
            done = altlas(dash, "ui", "sign-out", "bob", "--everywhere", "--as", "erin")
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith("ended every dashboard session bob opened until ")
            assert "(recorded as DashboardSessionsEnded by erin)" in done.stdout
            assert "altlas token new --for bob" in done.stdout
            # an open page hears at its next recheck: a change, or the 15 s keep-alive
            deadline = time.monotonic() + 25
            rest = []
            for line in lines:
                rest += [line] if line.startswith("data:") else []
                assert time.monotonic() < deadline, "the stream went on"
        assert any("sign in again" in line for line in rest)
        for cookie in cookies:
            r = page(dash, cookie)
            assert r.status_code == 303 and r.headers["location"].endswith("why=signin.ended")
            posted = httpx.post(f"{dash.url}/ui/signout", data={"csrf": csrf}, timeout=10,
                                headers={"Cookie": f"{COOKIE}={cookie}"})
            assert posted.status_code == 401 and "sign in again" in posted.text
        assert carol.get("/ui/").status_code == 200
    with dash.browser("bob") as again:
        assert again.get("/ui/").status_code == 200  # a new sign-in works

    [ended] = stored_endings(dash)[before:]
    assert ended["actor"].startswith("p-") and ended["data"]["person"].startswith("p-")

    def on_the_timeline() -> list[dict[str, Any]]:
        r = httpx.get(f"{dash.url}/timeline", params={"type": ENDED}, headers=auth("ivy"),
                      timeout=10)
        return [e for e in r.json()["items"] if e["event_id"] == ended["id"]]
    [shown] = until(on_the_timeline)
    assert (shown["actor"], shown["data"]) == ("erin", {"person": "bob"})


def test_signing_out_everywhere_on_the_page_is_recorded_as_the_persons_own(
        dash: Dashboard) -> None:
    before = len(stored_endings(dash))
    with dash.browser("carol") as carol:
        r = carol.post("/ui/signout/everywhere", data={"csrf": csrf_of(carol.get("/ui/").text)})
        assert r.status_code == 303 and carol.get("/ui/").status_code == 303
    [ended] = stored_endings(dash)[before:]
    assert ended["actor"] == ended["data"]["person"]


class TestRefused:
    """Each refusal is one line with exit code 2; bob's session goes on; nothing is
    recorded."""

    @pytest.fixture
    def bob(self, dash: Dashboard) -> Iterator[httpx.Client]:
        with dash.browser("bob") as client:
            yield client

    def refused(self, dash: Dashboard, bob: httpx.Client, *args: str) -> str:
        before = stored_endings(dash)
        line = one_line_error(altlas(dash, "ui", "sign-out", *args))
        assert bob.get("/ui/").status_code == 200
        assert stored_endings(dash) == before
        return line

    def test_someone_without_the_admin_role_cannot_end_another_persons_sessions(
            self, dash: Dashboard, bob: httpx.Client) -> None:
        assert self.refused(dash, bob, "bob", "--everywhere", "--as", "deniz") == (
            "altlas: deniz may not end the dashboard sessions of another person: that needs "
            "the admin role, which an admin gives in the policy (people → roles).")

    def test_a_person_the_policy_does_not_name_is_refused(
            self, dash: Dashboard, bob: httpx.Client) -> None:
        line = self.refused(dash, bob, "mallory", "--everywhere", "--as", "erin")
        assert line.startswith("altlas: 'mallory' is not a person in the policy, so has no "
                               "dashboard session to end")
        assert line.endswith("name one of: alice, bob, carol, deniz, erin, ivy")

    def test_a_caller_the_policy_does_not_name_is_refused(
            self, dash: Dashboard, bob: httpx.Client) -> None:
        assert self.refused(dash, bob, "bob", "--everywhere", "--as", "mallory") == (
            "altlas: 'mallory' is not a person in the policy (people: alice, bob, carol, "
            "deniz, erin, ivy)")
