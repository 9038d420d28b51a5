"""The dashboard's auditor, incident and knowledge pages over a real store: what each shows
(the timeline with its hashes, the history as of a moment, alerts on a time axis, patterns
and ratings), read through the same use cases as the API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.audit_jobs import AuditJobs, start_verify
from adapters.pages import history, incidents, knowledge
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.access import AccessDeniedError
from domain.alerts import IncomingAlert
from domain.errors import InvalidInputError
from testkit.helpers import gated_plan, plan, run_to_rest, step, token_policy


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
