"""The auditors', incidents' and knowledge pages in a real browser, as people meet them after
a run: an auditor opens the run's history, verifies it and looks at it as of before its
approval; on-call reads an incident's alerts on their time axis; anyone reads the .atlas and
the leaderboards. Saves their screenshots for the README (docs/screenshots/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Browser, expect

from domain.alerts import IncomingAlert
from testkit.dashboard import Dashboard, until
from testkit.helpers import TOKENS
from tests.e2e.test_dashboard import browser, dash, shot, signed_in

__all__ = ["browser", "dash"]  # the journey's fixtures, for this module too


def _api(dash: Dashboard, method: str, path: str, person: str) -> Any:
    r = httpx.request(method, f"{dash.url}{path}", timeout=20,
                      headers={"Authorization": f"Bearer {TOKENS[person]}"})
    assert r.status_code < 300, r.text
    return r.json()


def _approved_run(dash: Dashboard) -> str:
    """A gated request approved by two people over the API, run to its end: the run's id."""
    task_id = dash.request("deniz")
    approval = dash.approval_of(task_id)
    for person in ("alice", "bob"):
        _api(dash, "POST", f"/approvals/{approval['approval_id']}/votes", person)
    return str(until(lambda: next((r["run_id"] for r in _api(
        dash, "GET", "/runs?status=completed", "erin")["items"] if r["task_id"] == task_id),
        None)))


def test_an_auditor_verifies_a_runs_history_and_sees_it_as_of_before_its_approval(
        dash: Dashboard, browser: Browser) -> None:
    run_id = _approved_run(dash)
    ivy = signed_in(browser, dash, "ivy")
    ivy.get_by_role("link", name="History", exact=True).click()
    ivy.get_by_label("Aggregate (id or its beginning)").fill(run_id[:8])
    ivy.get_by_role("button", name="Show", exact=True).click()
    rows = ivy.locator("tbody tr")
    expect(rows.last).to_contain_text("RunCompleted")
    expect(rows.first).to_contain_text("RunStarted")
    shot(ivy, "history")

    ivy.get_by_role("button", name="Start verifying").click()
    expect(ivy.get_by_role("status")).to_contain_text("Every chain and checkpoint holds.",
                                                      timeout=20_000)  # it refreshes itself
    shot(ivy, "history-verify")

    vote = _api(dash, "GET", "/timeline?type=ApprovalVoteCast&limit=1", "ivy")["items"][0]
    before = datetime.fromisoformat(vote["time"]) - timedelta(microseconds=1)
    ivy.get_by_role("link", name="History", exact=True).click()
    ivy.get_by_label("Moment (UTC)").fill(before.isoformat())
    ivy.get_by_role("button", name="Show as of then").click()
    expect(ivy.get_by_role("note")).to_contain_text("You are looking at the past")
    expect(ivy.locator("table").first).to_contain_text("0 of 2")
    shot(ivy, "history-as-of")


def test_on_call_reads_an_incidents_alerts_on_their_time_axis(
        dash: Dashboard, browser: Browser) -> None:
    started = datetime.now(UTC) - timedelta(minutes=4)
    dash.system.use_cases().receive_alerts([IncomingAlert(
        f"{i}1b2c3d4e5f60718", {"alertname": "HighLatency", "service": "web",
                                "instance": f"web-{i}:9100"},
        {"summary": "p99 above 2 s"}, started + timedelta(minutes=i), None,
        {"receiver": "altlas"}) for i in range(3)])
    bob = signed_in(browser, dash, "bob")
    bob.get_by_role("link", name="Incidents", exact=True).click()
    link = bob.locator("tbody a").first
    expect(link).to_contain_text("HighLatency", timeout=20_000)
    link.click()
    axis = bob.get_by_role("img", name="Its alerts over time")
    expect(axis).to_be_visible()
    expect(axis.locator("rect")).to_have_count(3)
    shot(bob, "incident")


def test_the_knowledge_page_shows_what_worked_in_turkish_for_deniz(
        dash: Dashboard, browser: Browser) -> None:
    until(lambda: _api(dash, "GET", "/atlas", "deniz")["items"])
    deniz = signed_in(browser, dash, "deniz")
    deniz.goto(f"{dash.url}/ui/knowledge")
    expect(deniz.locator("html")).to_have_attribute("lang", "tr")
    expect(deniz.get_by_role("heading", name="Çalışanların kalıpları")).to_be_visible()
    expect(deniz.locator("meter").first).to_be_visible()
    shot(deniz, "knowledge")
