"""The dashboard as a person meets it over HTTP, served as `altlas serve` serves it: signing
in with a token, the *Now* page, its live stream, and approving and denying from the page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from testkit.dashboard import Dashboard, csrf_of, serve_dashboard, sign_in, until
from testkit.helpers import TOKENS


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with serve_dashboard(tmp_path_factory.mktemp("dashboard")) as served:
        yield served


def card(html: str, approval_id: str) -> str:
    """The article of one approval on the page."""
    found = re.search(rf'<article[^>]*id="approval-{approval_id}".*?</article>', html, re.S)
    assert found is not None, f"approval {approval_id} is not on the page"
    return found.group(0)


def test_a_token_becomes_an_http_only_strict_session_cookie_that_ends(
        dash: Dashboard) -> None:
    with dash.browser() as client:
        signed = sign_in(client, TOKENS["bob"])
        assert signed.status_code == 303 and signed.headers["location"] == "/ui/"
        cookie = next(v for k, v in signed.headers.multi_items()
                      if k == "set-cookie" and v.startswith("altlas_session="))
        attributes = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")}
        assert {"httponly", "max-age", "path"} <= attributes.keys()
        assert attributes["samesite"].strip().lower() == "samesite=strict"
        assert attributes["max-age"].strip() == "Max-Age=28800"
        assert TOKENS["bob"] not in cookie
        page = client.get("/ui/")
        assert page.status_code == 200 and "Signed in as bob" in page.text


def test_a_token_the_policy_does_not_know_is_refused_saying_where_to_get_one(
        dash: Dashboard) -> None:
    with dash.browser() as client:
        refused = sign_in(client, "tok-nobody")
        assert refused.status_code == 401
        assert "altlas token new --for" in refused.text
        assert "altlas_session" not in client.cookies


def test_a_page_without_a_session_sends_the_person_to_sign_in_and_back(
        dash: Dashboard) -> None:
    with dash.browser() as client:
        sent = client.get("/ui/")
        assert sent.status_code == 303
        assert sent.headers["location"].startswith("/ui/signin?next=/ui/")
        assert "Sign in to see this page" in client.get(sent.headers["location"]).text


def test_now_shows_what_the_step_will_run_its_risk_why_who_voted_and_time_left(
        dash: Dashboard) -> None:
    approval = dash.approval_of(dash.request("alice"))
    with dash.browser("bob") as bob:
        shown = card(bob.get("/ui/").text, approval["approval_id"])
    assert "touch " in shown and "maintenance.flag" in shown  # what the step runs
    assert "HIGH_RISK" in shown and "prod" in shown
    assert "needs 2 approval(s) from sre-oncall" in shown  # why
    assert "0 of 2" in shown and "alice" in shown
    assert re.search(r"1[45] min \d+ s", shown)  # the default 15 minutes, counting down
    assert 'class="approve"' in shown


def test_two_approvers_fill_the_two_person_rule_and_the_page_says_so(
        dash: Dashboard) -> None:
    approval = dash.approval_of(dash.request("alice"))["approval_id"]
    with dash.browser("bob") as bob, dash.browser("carol") as carol:
        page = bob.get("/ui/")
        first = bob.post(f"/ui/approvals/{approval}/approve",
                         data={"csrf": csrf_of(page.text)})
        assert first.status_code == 200
        assert "1 more needed" in first.text
        shown = card(first.text, approval)
        assert "1 of 2" in shown and "bob ✓" in shown
        assert 'class="approve"' not in shown  # bob voted: no second button for him
        page = carol.get("/ui/")
        second = carol.post(f"/ui/approvals/{approval}/approve",
                            data={"csrf": csrf_of(page.text)})
        assert second.status_code == 200 and "is granted" in second.text
        assert f'id="approval-{approval}"' not in second.text


def test_the_requester_who_is_an_approver_is_refused_from_the_page_with_the_reason(
        dash: Dashboard) -> None:
    approval = dash.approval_of(dash.request("alice"))["approval_id"]
    with dash.browser("alice") as alice:
        page = alice.get("/ui/")
        refused = alice.post(f"/ui/approvals/{approval}/approve",
                             data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert "alice asked for this change" in refused.text
    assert "0 of 2" in card(refused.text, approval)


def test_denying_from_the_page_needs_a_reason_and_cancels_the_step(dash: Dashboard) -> None:
    approval = dash.approval_of(dash.request("alice"))["approval_id"]
    with dash.browser("bob") as bob:
        csrf = csrf_of(bob.get("/ui/").text)
        blank = bob.post(f"/ui/approvals/{approval}/deny", data={"csrf": csrf, "reason": " "})
        assert blank.status_code == 422 and "Say why you deny it" in blank.text
        denied = bob.post(f"/ui/approvals/{approval}/deny",
                          data={"csrf": csrf, "reason": "not during the sale"})
    assert denied.status_code == 200 and "is denied" in denied.text
    r = httpx.get(f"{dash.url}/approvals/{approval}", timeout=10,
                  headers={"Authorization": f"Bearer {TOKENS['erin']}"})
    assert r.json()["status"] == "denied"


def test_a_person_without_the_approver_role_sees_the_approval_and_no_button(
        dash: Dashboard) -> None:
    approval = dash.approval_of(dash.request("alice"))["approval_id"]
    with dash.browser("ivy") as ivy:
        shown = card(ivy.get("/ui/").text, approval)
    assert "HIGH_RISK" in shown and "<form" not in shown


def test_the_page_speaks_the_persons_language_from_the_policy(dash: Dashboard) -> None:
    with dash.browser("deniz") as deniz:
        page = deniz.get("/ui/")
    assert '<html lang="tr">' in page.text and "Açık onaylar" in page.text


def test_the_live_stream_sends_the_page_when_something_happens_and_resumes_from_its_id(
        dash: Dashboard) -> None:
    with dash.browser("bob") as bob, bob.stream("GET", "/ui/now/stream",
                                                params={"after": 0}) as live:
        assert live.status_code == 200
        assert live.headers["content-type"].startswith("text/event-stream")
        lines = live.iter_lines()
        first = _event(lines)
        assert first["event"] == "now" and "Open approvals" in first["data"]
        task = dash.request("alice")
        approval = dash.approval_of(task)["approval_id"]
        seen = first["id"]
        while approval not in (latest := _event(lines))["data"]:
            seen = latest["id"]
        assert int(latest["id"]) > int(first["id"])
    with dash.browser("bob") as again, again.stream(
            "GET", "/ui/now/stream", headers={"Last-Event-ID": seen}) as resumed:
        assert approval in _event(resumed.iter_lines())["data"]  # missed while away


def _event(lines: Iterator[str]) -> dict[str, str]:
    """The next server-sent event (comments, the keep-alive pings, skipped)."""
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in event:
                return event
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        event[name] = f"{event[name]}\n{value}" if name == "data" and name in event else value
    raise AssertionError("the stream ended")


def test_ids_and_paths_that_do_not_exist_get_a_page_never_a_5xx(dash: Dashboard) -> None:
    with dash.browser("bob") as bob:
        csrf = csrf_of(bob.get("/ui/").text)
        missing = bob.post("/ui/approvals/ffffffff/approve", data={"csrf": csrf})
        assert missing.status_code == 404 and "<html" in missing.text
        nowhere = bob.get("/ui/no/such/page")
        assert nowhere.status_code == 404 and "Start again from Now" in nowhere.text
        bad = bob.get("/ui/now/stream", params={"after": "soon"})
        assert bad.status_code == 422 and "<html" in bad.text


def test_htmx_and_its_sse_extension_come_from_the_package(dash: Dashboard) -> None:
    with dash.browser("bob") as bob:
        page = bob.get("/ui/").text
        scripts = re.findall(r'<script src="([^"]+)"', page)
        assert scripts and all(s.startswith("/ui/static/") for s in scripts)
        for src in scripts:
            assert bob.get(src).status_code == 200
    assert "http" not in "".join(re.findall(r'(?:src|href)="([^"]+)"', page))


def test_a_removed_token_ends_its_sessions_at_the_next_request(dash: Dashboard) -> None:
    before = dash.policy_file.read_text()
    with dash.browser("carol") as carol:
        assert carol.get("/ui/").status_code == 200
        try:
            dash.edit_policy(lambda data: data["api_tokens"].pop(next(
                d for d, who in data["api_tokens"].items() if who == "carol")))
            until(lambda: carol.get("/ui/").status_code == 303)
            assert "why=signin.ended" in carol.get("/ui/").headers["location"]
        finally:
            dash.policy_file.write_text(before)


def test_runs_list_filters_and_pages_as_the_api_does(dash: Dashboard) -> None:
    for _ in range(2):
        dash.approval_of(dash.request("alice"))
    with dash.browser("bob") as bob:
        first = bob.get("/ui/runs", params={"status": "running", "limit": 1})
        assert first.status_code == 200
        ids = re.findall(r'href="/ui/runs/([0-9a-f-]{36})"', first.text)
        after = re.search(r'href="([^"]+)" rel="next"', first.text)
        assert len(ids) == 1 and after is not None
        second = bob.get(after.group(1).replace("&amp;", "&"))
        more = re.findall(r'href="/ui/runs/([0-9a-f-]{36})"', second.text)
        api = httpx.get(f"{dash.url}/runs", params={"status": "running", "limit": 2},
                        headers={"Authorization": f"Bearer {TOKENS['bob']}"}, timeout=10)
        assert ids + more == [r["run_id"] for r in api.json()["items"]]
        assert 'value="running" selected' in second.text  # the filter stays as chosen
        refused = bob.get("/ui/runs", params={"since": "last tuesday"})
        assert refused.status_code == 422 and "since" in refused.text


def test_a_run_page_draws_its_plan_with_statuses_risks_timeline_and_approvals(
        dash: Dashboard) -> None:
    approval = dash.approval_of(dash.request("alice"))
    with dash.browser("bob") as bob:
        page = bob.get(f"/ui/runs/{approval['run_id'][:8]}").text
    nodes = dict(re.findall(r'data-step="([^"]+)" data-status="([^"]+)"', page))
    assert nodes == {"s1": "succeeded", "s2": "succeeded", "s3": "pending"}
    assert 'data-step="s3" data-status="pending" data-risk="HIGH_RISK"' in page
    assert page.count('class="edge"') == 2  # s3 needs s1 and s2
    assert 'id="step-s1"' in page and "<details" in page  # each step's output, on click
    assert "ApprovalRequested" in page and "TaskRequested" in page
    assert f"{approval['approval_id'][:8]}" in page and "0 of 2" in page


def test_a_runs_documents_download_as_the_api_serves_them(dash: Dashboard) -> None:
    approval = dash.approval_of(dash.request("alice"))
    run, task = approval["run_id"], approval["task_id"]
    bearer = {"Authorization": f"Bearer {TOKENS['bob']}"}
    with dash.browser("bob") as bob:
        for page, api in ((f"/ui/runs/{run}/last", f"/runs/{run}/last"),
                          (f"/ui/tasks/{task}/alt", f"/tasks/{task}/alt"),
                          (f"/ui/runs/{run}/cloudevents", f"/runs/{run}/cloudevents")):
            mine = bob.get(page)
            theirs = httpx.get(f"{dash.url}{api}", headers=bearer, timeout=10)
            assert mine.status_code == theirs.status_code == 200
            assert mine.content == theirs.content
            assert mine.headers["content-disposition"].startswith("attachment;")
    lines = [json.loads(line) for line in mine.text.splitlines()]
    assert {e["subject"] for e in lines} >= {run, task, approval["approval_id"]}
    assert lines[0]["type"] == "altlas.task.TaskRequested"
    assert [e["sequence"] for e in lines] == sorted(e["sequence"] for e in lines)
