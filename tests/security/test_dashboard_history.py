"""The dashboard's history is the auditors' (role `auditor`), as `audit` is on every other
front: written as someone without the role would try to reach it anyway — the same data by
the API, another spelling of the path, a bearer token instead of a session, an auditor's job
read by id, and filters that try to widen the query."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from testkit.dashboard import csrf_of, sign_in
from testkit.helpers import TOKENS, plan, run_to_rest, step
from tests.security.gatehouse import Gatehouse, auth, gatehouse

HISTORY_ROUTES = ("/ui/history", "/ui/history/as-of?at=2026-12-01T00:00:00Z",
                  "/ui/history/export", "/ui/history/export?since=2000-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def g(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path_factory.mktemp("history-gate"), worker=False) as found:
        run_to_rest(found.system, plan(step("s1", action="df -h")))
        found.system.store_feed().catch_up()
        yield found


def signed_in(g: Gatehouse, person: str) -> TestClient:
    client = TestClient(g.client.app, follow_redirects=False)
    assert sign_in(client, TOKENS[person]).status_code == 303
    return client


def form_csrf(client: TestClient) -> str:
    return csrf_of(client.get("/ui/").text)


@pytest.mark.parametrize("path", [
    *HISTORY_ROUTES,
    "/ui/%68istory",  # percent-encoded letters are the same path
    "/ui/history/",
    "/ui/history?aggregate=&actor=",
    "/ui/history/as-of?at=2026-12-01T00%3A00%3A00%2B00%3A00",
])
def test_a_requester_reaches_no_history_page_however_the_path_is_spelled(
        g: Gatehouse, path: str) -> None:
    deniz = signed_in(g, "deniz")
    r = deniz.get(path, follow_redirects=False)
    assert r.status_code in (403, 404), (path, r.status_code)
    assert "RunCompleted" not in r.text and "x-ndjson" not in r.headers.get("content-type", "")


def test_the_history_is_offered_in_the_navigation_only_to_who_may_open_it(g: Gatehouse) -> None:
    assert 'href="/ui/history"' not in signed_in(g, "deniz").get("/ui/").text
    assert 'href="/ui/history"' in signed_in(g, "ivy").get("/ui/").text


def test_a_requester_cannot_start_a_verification_from_the_page_even_with_a_valid_form(
        g: Gatehouse) -> None:
    deniz = signed_in(g, "deniz")
    r = deniz.post("/ui/history/verify", data={"csrf": form_csrf(deniz)},
                   follow_redirects=False)
    assert r.status_code == 403 and "location" not in r.headers


def test_an_auditors_job_read_by_its_id_tells_a_requester_nothing(g: Gatehouse) -> None:
    ivy = signed_in(g, "ivy")
    started = ivy.post("/ui/history/verify", data={"csrf": form_csrf(ivy)},
                       follow_redirects=False).headers["location"]
    r = signed_in(g, "deniz").get(started)
    assert r.status_code == 403 and "checked" not in r.text
    api = g.client.get(f"/audit/jobs/{started.rsplit('/', 1)[1]}", headers=auth("deniz"))
    assert api.status_code == 403


def test_a_job_started_on_the_api_is_the_one_the_page_shows(g: Gatehouse) -> None:
    """One verification at a time across fronts: the page asks the API's jobs."""
    job = g.client.get("/audit/verify", headers=auth("ivy")).json()
    g.until(lambda: g.client.get(f"/audit/jobs/{job['id']}", headers=auth("ivy")).json()[
        "status"] != "running")
    r = signed_in(g, "ivy").get(f"/ui/history/jobs/{job['id']}")
    assert r.status_code == 200 and "Every chain and checkpoint holds." in r.text


@pytest.mark.parametrize("path", HISTORY_ROUTES)
def test_a_bearer_token_instead_of_a_session_opens_no_history_page(
        g: Gatehouse, path: str) -> None:
    with TestClient(g.client.app) as bare:
        r = bare.get(path, headers=auth("ivy"), follow_redirects=False)
    assert r.status_code == 303 and "/ui/signin" in r.headers["location"]


def test_the_same_history_on_the_api_is_refused_to_a_requester_too(g: Gatehouse) -> None:
    for path in ("/audit/export", "/audit/export?since=2000-01-01T00:00:00Z",
                 "/audit/verify"):
        assert g.client.get(path, headers=auth("deniz")).status_code == 403, path


@pytest.mark.parametrize("params", [
    {"type": "RunCompleted' OR '1'='1"},
    {"actor": "%' OR 1=1 --"},
    {"correlation": "' UNION SELECT * FROM timeline --"},
    {"type": "RunCompleted\x00"},
])
def test_filters_written_as_sql_match_nothing_rather_than_everything(
        g: Gatehouse, params: dict[str, str]) -> None:
    r = signed_in(g, "ivy").get("/ui/history", params=params)
    assert r.status_code in (200, 422) and "RunStarted" not in r.text, params

