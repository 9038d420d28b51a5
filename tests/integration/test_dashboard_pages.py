"""The dashboard's auditor, incident and knowledge pages over a real store: what each shows
(the timeline with its hashes, the history as of a moment, alerts on a time axis, patterns
and ratings), read through the same use cases as the API."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from adapters.audit_jobs import AuditJobs, start_verify
from adapters.pages import history, incidents, knowledge
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.access import AccessDeniedError
from domain.alerts import IncomingAlert
from domain.errors import InvalidInputError
from testkit.dashboard import csrf_of, sign_in
from testkit.helpers import TOKENS, gated_plan, plan, run_to_rest, step, token_policy


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    folder = tmp_path_factory.mktemp("dashboard")
    policy = folder / "policy.yaml"
    policy.write_text(token_policy())
    system = bootstrap(Settings(data_dir=folder, segmenter="rules", policy_file=policy))
    run_to_rest(system, plan(step("s1", action="df -h"), step("s2", action="uptime")))
    run_to_rest(system, gated_plan(str(folder / "maintenance.flag")), environment="prod",
                approve=True)
    started = datetime.now(UTC) - timedelta(minutes=2)
    system.use_cases().receive_alerts([IncomingAlert(
        fp, {"alertname": "HighLatency", "service": "web", "instance": f"web-{i}:9100"},
        {"summary": "p99 above 2 s"}, started + timedelta(seconds=30 * i), None,
        {"receiver": "altlas"}) for i, fp in enumerate(("a1b2c3d4e5f60718", "b1b2c3d4e5f60718"))])
    system.worker().until_quiet()
    system.store_feed().catch_up()
    yield system
    system.close()


def test_the_timeline_shows_each_events_hash_chained_to_the_one_before(system: System) -> None:
    uc = system.use_cases()
    run = uc.timeline("ivy", type_name="RunCompleted", limit=1)[0]
    page = history.timeline(uc, "ivy", history.TimelineFilter(aggregate=run["aggregate_id"]))
    assert [r["type"] for r in page.rows][-1] == "RunCompleted" and page.next is None
    assert all(len(r["hash"]) == 64 for r in page.rows)
    assert [r["prevhash"] for r in page.rows[1:]] == [r["hash"] for r in page.rows[:-1]]


def test_the_timeline_pages_on_from_its_cursor_without_repeating_or_skipping(
        system: System) -> None:
    uc = system.use_cases()
    every = history.timeline(uc, "ivy", history.TimelineFilter(limit=500)).rows
    seen, cursor = [], None
    while True:
        page = history.timeline(uc, "ivy", history.TimelineFilter(limit=7, after=cursor))
        seen += [r["event_id"] for r in page.rows]
        if page.next is None:
            break
        cursor = page.next
    assert seen == [r["event_id"] for r in every] and len(seen) > 14


def test_the_timeline_of_a_correlation_holds_only_what_was_done_for_that_request(
        system: System) -> None:
    uc = system.use_cases()
    task = uc.timeline("ivy", type_name="TaskRequested", limit=1)[0]
    rows = history.timeline(uc, "ivy", history.TimelineFilter(
        correlation=task["correlation_id"])).rows
    assert {r["correlation_id"] for r in rows} == {task["correlation_id"]}
    assert {"TaskRequested", "RunStarted", "RunCompleted"} <= {r["type"] for r in rows}


def test_a_bad_cursor_or_limit_is_refused_naming_what_to_give(system: System) -> None:
    uc = system.use_cases()
    with pytest.raises(InvalidInputError, match="cursor"):
        history.timeline(uc, "ivy", history.TimelineFilter(after="nope"))
    with pytest.raises(InvalidInputError, match="limit"):
        history.timeline(uc, "ivy", history.TimelineFilter(limit=0))


def test_as_of_shows_the_approval_open_before_it_was_granted(system: System) -> None:
    uc = system.use_cases()
    vote = uc.timeline("ivy", type_name="ApprovalVoteCast", limit=1)[0]
    moment = datetime.fromisoformat(vote["time"]) - timedelta(microseconds=1)
    then = history.as_of(uc, "ivy", moment)
    assert [(a["approval_id"], a["votes"]) for a in then.state.open_approvals] == [
        (vote["aggregate_id"], [])]
    assert uc.open_approvals("ivy") == []  # and now it is granted


def test_as_of_in_the_future_or_before_the_first_event_says_which_moments_have_a_history(
        system: System) -> None:
    uc = system.use_cases()
    with pytest.raises(history.MomentOutsideHistoryError, match="in the future"):
        history.as_of(uc, "ivy", datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(history.MomentOutsideHistoryError, match="first event was recorded"):
        history.as_of(uc, "ivy", datetime(2001, 1, 1, tzinfo=UTC))


def test_as_of_is_for_auditors_only(system: System) -> None:
    with pytest.raises(AccessDeniedError):
        history.as_of(system.use_cases(), "deniz", datetime.now(UTC))


def test_an_exported_range_holds_exactly_the_events_recorded_in_it(system: System) -> None:
    uc = system.use_cases()
    every = [r for r in uc.events("ivy", 0, 10_000)]
    since, until = every[3].timestamp, every[-4].timestamp
    lines = [json.loads(line) for line in uc.export("ivy", until, since)]
    inside = [r.id for r in every if since <= r.timestamp <= until]
    assert [line["id"] for line in lines] == inside and len(inside) < len(every)


def test_a_verification_job_reports_its_progress_and_a_clean_history(system: System) -> None:
    jobs = AuditJobs()
    job = start_verify(jobs, system.use_cases(), "ivy")
    deadline = time.monotonic() + 30
    while job.status == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.status == "done" and job.result is not None and job.result["ok"]
    assert job.checked >= job.total > 0


def test_the_incident_list_names_each_ones_likeliest_cause(system: System) -> None:
    rows = incidents.incident_list(system.use_cases(), "deniz")
    assert rows and all(r["cause"] == (r["root_causes"] or [None])[0] for r in rows)
    with pytest.raises(InvalidInputError, match="status must be one of"):
        incidents.incident_list(system.use_cases(), "deniz", status="burning")


def test_an_incidents_alerts_lie_on_its_axis_in_the_order_they_fired(system: System) -> None:
    uc = system.use_cases()
    found = incidents.incident_page(uc, "deniz", incidents.incident_list(uc, "deniz")[0]["id"])
    lanes = {lane.fingerprint: lane for lane in found["axis"].lanes}
    first, second = lanes["a1b2c3d4e5f60718"], lanes["b1b2c3d4e5f60718"]
    assert 0 <= first.start < second.start <= incidents.WIDTH
    assert first.firing and first.end == incidents.WIDTH  # still firing: to the axis's end
    assert len(found["axis"].ticks) == 5


def test_knowledge_shows_patterns_with_intervals_and_the_boards(system: System) -> None:
    shown = knowledge.knowledge(system.use_cases(), "deniz")
    assert shown["patterns"] and all(len(p["interval"]) == 2 for p in shown["patterns"])
    assert shown["board"]["ratings"]["method"] == "elo" and shown["trainings"] == []
    with pytest.raises(InvalidInputError, match="method must be one of"):
        knowledge.knowledge(system.use_cases(), "deniz", method="glicko")


# The pages themselves, through the HTTP front as a browser without JavaScript reads them.

Browser = Callable[[str], TestClient]


@pytest.fixture(scope="module")
def browser(system: System) -> Iterator[Browser]:
    """A signed-in browser per person (cookies kept), on one app."""
    app = system.api()
    opened: list[TestClient] = []

    def signed_in(person: str) -> TestClient:
        client = TestClient(app, follow_redirects=False)
        opened.append(client)
        assert sign_in(client, TOKENS[person]).status_code == 303
        return client

    yield signed_in
    for client in opened:
        client.close()


def test_an_auditor_reads_a_runs_history_with_hashes_and_pages_on(
        system: System, browser: Browser) -> None:
    ivy = browser("ivy")
    run = system.use_cases().timeline("ivy", type_name="RunCompleted", limit=1)[0]
    r = ivy.get("/ui/history", params={"aggregate": run["aggregate_id"][:8], "limit": 2})
    assert r.status_code == 200 and "RunStarted" in r.text and "RunCompleted" not in r.text
    last = system.use_cases().events("ivy", run["position"] - 1, 1)[0]
    nxt = re.search(r'href="([^"]+)" rel="next"', r.text)
    assert nxt is not None and "aggregate=" in nxt[1]
    while nxt is not None:  # as a person clicking "Next page" to the end
        r = ivy.get(nxt[1].replace("&amp;", "&"))
        nxt = re.search(r'href="([^"]+)" rel="next"', r.text)
    assert "RunCompleted" in r.text and last.hash[:12] in r.text and last.prevhash[:12] in r.text


def test_someone_without_the_auditor_role_gets_a_403_page_on_every_history_route(
        browser: Browser) -> None:
    deniz = browser("deniz")
    for path in ("/ui/history", "/ui/history/as-of?at=2026-12-01T00:00:00Z",
                 "/ui/history/export", "/ui/history/jobs/whatever"):
        r = deniz.get(path)
        assert r.status_code == 403 and "auditor" in r.text, path
        assert "Traceback" not in r.text and "<html" in r.text
    r = deniz.post("/ui/history/verify", data={"csrf": csrf_of(deniz.get("/ui/").text)})
    assert r.status_code == 403


def test_a_verification_started_from_the_page_shows_its_progress_then_its_result(
        browser: Browser) -> None:
    ivy = browser("ivy")
    page = ivy.get("/ui/history").text
    r = ivy.post("/ui/history/verify", data={"csrf": csrf_of(page)}, follow_redirects=False)
    assert r.status_code == 303 and "/ui/history/jobs/" in r.headers["location"]
    deadline = time.monotonic() + 30
    while "http-equiv=\"refresh\"" in (job := ivy.get(r.headers["location"]).text):
        assert time.monotonic() < deadline  # a running job's page refreshes itself
        time.sleep(0.1)
    assert "Every chain and checkpoint holds." in job and "<progress" in job


def test_a_forged_verify_without_the_sessions_csrf_token_starts_nothing(
        browser: Browser) -> None:
    ivy = browser("ivy")
    for forged in ({}, {"csrf": "x" * 40}, {"csrf": csrf_of(browser("alice").get("/ui/").text)}):
        r = ivy.post("/ui/history/verify", data=forged, follow_redirects=False)
        assert r.status_code == 403 and "/jobs/" not in r.headers.get("location", ""), forged


def test_the_views_as_of_a_moment_carry_a_banner_and_the_approval_then_open(
        system: System, browser: Browser) -> None:
    vote = system.use_cases().timeline("ivy", type_name="ApprovalVoteCast", limit=1)[0]
    moment = (datetime.fromisoformat(vote["time"]) - timedelta(microseconds=1)).isoformat()
    r = browser("ivy").get("/ui/history/as-of", params={"at": moment})
    assert r.status_code == 200 and "You are looking at the past" in r.text
    assert vote["aggregate_id"][:8] in r.text


@pytest.mark.parametrize(("at", "says"), [
    ("2999-01-01T00:00:00Z", "in the future"),
    ("2001-01-01T00:00:00Z", "nothing had happened by"),
    ("yesterday", "must be a time like"),
    ("", "give the moment"),
])
def test_a_moment_outside_the_history_or_not_a_time_gets_a_page_saying_what_to_give(
        browser: Browser, at: str, says: str) -> None:
    r = browser("ivy").get("/ui/history/as-of", params={"at": at})
    assert r.status_code == 422 and says in r.text and "Traceback" not in r.text


@pytest.mark.parametrize(("params", "status", "says"), [
    ({"aggregate": "0000000000"}, 404, "no aggregate"),
    ({"since": "soon"}, 422, "since must be a time"),
    ({"limit": "0"}, 422, "limit"),
    ({"after": "../../etc/passwd"}, 422, "not a cursor"),
    ({"type": "<script>alert(1)</script>"}, 200, "&lt;script&gt;"),
])
def test_bad_history_filters_get_a_clear_page_never_a_5xx(
        browser: Browser, params: dict[str, str], status: int, says: str) -> None:
    r = browser("ivy").get("/ui/history", params=params)
    assert r.status_code == status and says in r.text, r.text[-600:]
    assert "<script>alert" not in r.text


def test_an_export_of_a_range_downloads_its_cloudevents_as_json_lines(
        system: System, browser: Browser) -> None:
    every = system.use_cases().events("ivy", 0, 10_000)
    since, until = every[2].time, every[5].time
    r = browser("ivy").get("/ui/history/export", params={"since": since, "until": until})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [line["id"] for line in lines] == [
        e.id for e in every if every[2].timestamp <= e.timestamp <= every[5].timestamp]
    assert all(line["specversion"] == "1.0" for line in lines)


def test_the_incident_page_draws_its_alerts_on_a_time_axis_in_svg(
        system: System, browser: Browser) -> None:
    deniz = browser("deniz")
    listing = deniz.get("/ui/incidents")
    incident = incidents.incident_list(system.use_cases(), "deniz")[0]
    assert listing.status_code == 200 and incident["title"] in listing.text
    r = deniz.get(f"/ui/incidents/{incident['id'][:8]}")
    assert r.status_code == 200 and '<svg class="axis"' in r.text
    assert r.text.count("<rect ") == 2 and "a1b2c3d4e5f60718" in r.text


@pytest.mark.parametrize(("path", "status", "says"), [
    ("/ui/incidents/ffffff00", 404, "no incident"),
    ("/ui/incidents/x", 404, "characters or more"),
    ("/ui/incidents?status=burning", 422, "status must be one of"),
    ("/ui/knowledge?method=glicko", 422, "method must be one of"),
    ("/ui/trainings/abcdef12/loss.png", 404, "no training"),
])
def test_ids_and_filters_that_do_not_exist_get_a_clear_page(
        browser: Browser, path: str, status: int, says: str) -> None:
    r = browser("deniz").get(path)
    assert r.status_code == status and says in r.text.lower(), r.text[-600:]


def test_the_knowledge_page_shows_patterns_with_intervals_in_each_persons_language(
        browser: Browser) -> None:
    r = browser("erin").get("/ui/knowledge")
    assert r.status_code == 200 and "95% interval" in r.text and "<meter" in r.text
    tr = browser("deniz").get("/ui/knowledge")  # the policy says deniz reads Turkish
    assert "%95 aralık" in tr.text and 'lang="tr"' in tr.text and "<meter" in tr.text


def test_pages_read_without_signing_in_send_the_person_to_sign_in(system: System) -> None:
    with TestClient(system.api()) as anonymous:
        for path in ("/ui/history", "/ui/incidents", "/ui/knowledge"):
            r = anonymous.get(path, follow_redirects=False)
            assert r.status_code == 303 and "/ui/signin" in r.headers["location"], path


def test_the_now_page_links_each_open_incident_to_its_page_with_its_likeliest_cause(
        system: System, browser: Browser) -> None:
    incident = incidents.incident_list(system.use_cases(), "deniz", status="open")[0]
    cause = incident["cause"]
    r = browser("deniz").get("/ui/")
    assert f'href="/ui/incidents/{incident["id"]}"' in r.text
    assert f'{cause["component"]} ({cause["evidence"]})' in r.text
