"""The Runbooks page in a real browser, as an operator meets it: a version that reaches prod
hosts approved on *Now* by someone other than its author, then its form, one field per
typed parameter (hosts to choose from, a number between its bounds, text to its pattern),
filled in and run; the run's link followed to its graph. An auditor sees the page without
a Run button. Saves its screenshot for the README (docs/screenshots/)."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from testkit.dashboard import Dashboard
from tests.e2e.test_dashboard import LIVE_MS, browser, dash, shot, signed_in

__all__ = ["browser", "dash"]  # the journey's fixtures, for this module too

DISK = {"runbook": 1, "name": "disk-space",
        "parameters": {
            "host": {"kind": "host", "description": "where to look"},
            "mount": {"kind": "text", "pattern": "^/[a-z/]{0,40}$"}},
        "plan": {"alt": 1, "steps": [
            {"id": "df", "kind": "local", "action": "df -h {param:mount}",
             "target": "{param:host}"}]}}


def test_an_operator_runs_a_runbook_from_its_form_and_opens_the_run(
        dash: Dashboard, browser: Browser) -> None:
    uc = dash.system.use_cases()
    approval = uc.publish_runbook("alice", DISK)["pending"]["approval_id"]
    bob = signed_in(browser, dash, "bob")
    card = bob.locator(f"#approval-{approval}")
    expect(card).to_contain_text("publish runbook disk-space version 1", timeout=LIVE_MS)
    card.get_by_role("button", name="Approve").click()
    expect(bob.get_by_role("status")).to_be_visible()
    for person in ("carol", "erin"):  # as many more as the quorum asks
        if uc.runbook("bob", "disk-space")["published"] is None:
            uc.vote(person, approval)

    bob.get_by_role("link", name="Runbooks", exact=True).click()
    form = bob.locator("form.run-form")
    form.get_by_label("host").select_option("localhost")  # the inventory's hosts
    form.get_by_label("mount").fill("/var; reboot")
    form.get_by_role("button", name="Run disk-space").click()
    expect(bob.get_by_role("alert")).to_contain_text("parameter mount")  # and nothing ran
    expect(bob.get_by_role("status")).to_have_count(0)

    form.get_by_label("host").select_option("localhost")
    form.get_by_label("mount").fill("/var")
    form.get_by_role("button", name="Run disk-space").click()
    notice = bob.get_by_role("status")
    expect(notice).to_contain_text("Runbook disk-space asked for as task")
    shot(bob, "runbooks")

    notice.get_by_role("link", name="Open its run").click()
    expect(bob.locator("h1")).to_contain_text("Run")
    expect(bob.locator("body")).to_contain_text("df -h /var", timeout=LIVE_MS)


def test_an_auditor_reads_the_runbooks_without_a_run_button(
        dash: Dashboard, browser: Browser) -> None:
    dash.system.use_cases().publish_runbook("alice", {**DISK, "name": "disk-space-2"})
    ivy = signed_in(browser, dash, "ivy")
    ivy.get_by_role("link", name="Runbooks", exact=True).click()
    expect(ivy.locator("h2", has_text="disk-space-2")).to_be_visible()
    expect(ivy.get_by_role("button", name="Run disk-space-2")).to_have_count(0)
