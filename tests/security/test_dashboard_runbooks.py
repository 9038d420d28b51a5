"""The dashboard's Runbooks page tried as an attacker would: running, retiring, pausing and
removing without the role (with one's own CSRF token, the button hidden), without a token,
with parameters a runbook's schema refuses, a retired runbook, a removed trigger brought
back, names spelled otherwise and markup in what an author wrote. Each is refused with a page
that says why, never a 5xx, and records nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from testkit.dashboard import Dashboard, csrf_of, serve_dashboard
from testkit.helpers import TOKENS

DISK = {"runbook": 1, "name": "disk", "parameters": {
    "path": {"kind": "text", "pattern": "^/[a-z/]{0,40}$",
             "description": "<script>alert(1)</script> where to look"}},
    "plan": {"alt": 1, "steps": [{"id": "df", "kind": "local", "action": "df -h {param:path}"}]}}


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with serve_dashboard(tmp_path_factory.mktemp("dashboard-runbooks")) as served:
        uc = served.system.use_cases()
        uc.publish_runbook("alice", DISK)
        uc.publish_runbook("alice", {**DISK, "name": "old-disk"})
        uc.create_trigger("alice", "hourly", "disk", {"path": "/"}, every_seconds=3600)
        yield served


def tasks(dash: Dashboard) -> list[dict[str, object]]:
    r = httpx.get(f"{dash.url}/tasks", params={"limit": 100}, timeout=10,
                  headers={"Authorization": f"Bearer {TOKENS['alice']}"})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def post(client: httpx.Client, path: str, data: dict[str, str] | None = None,
         *, csrf: bool = True) -> httpx.Response:
    form = dict(data or {})
    if csrf:
        form["csrf"] = csrf_of(client.get("/ui/runbooks").text)
    return client.post(path, data=form)


def test_a_run_from_the_page_is_the_persons_request_through_its_gates(dash: Dashboard) -> None:
    before = len(tasks(dash))
    with dash.browser("bob") as bob:
        page = bob.get("/ui/runbooks")
        assert page.status_code == 200
        assert 'name="p.path"' in page.text and "Run disk" in page.text
        done = post(bob, "/ui/runbooks/disk/runs", {"p.path": "/var"})
    assert done.status_code == 200, done.text
    assert "asked for as task" in done.text and "Open its run" in done.text
    made = tasks(dash)
    assert len(made) == before + 1
    assert made[0]["requester"] == "bob" and made[0]["request"] == "runbook disk v1: path=/var"


def test_parameters_the_schema_refuses_are_named_and_record_nothing(dash: Dashboard) -> None:
    before = len(tasks(dash))
    with dash.browser("bob") as bob:
        for value in ("/var; rm -rf /", "", "x" * 300, "$(id)"):
            refused = post(bob, "/ui/runbooks/disk/runs", {"p.path": value})
            assert refused.status_code == 422, (value, refused.text)
            assert "parameter path" in refused.text
        unknown = post(bob, "/ui/runbooks/disk/runs", {"p.path": "/", "p.host": "web-1"})
        assert unknown.status_code == 422 and "host" in unknown.text
    assert len(tasks(dash)) == before


def test_a_form_without_the_sessions_token_runs_nothing(dash: Dashboard) -> None:
    before = len(tasks(dash))
    with dash.browser("bob") as bob, dash.browser("carol") as carol:
        bare = post(bob, "/ui/runbooks/disk/runs", {"p.path": "/"}, csrf=False)
        borrowed = bob.post("/ui/runbooks/disk/runs", data={
            "p.path": "/", "csrf": csrf_of(carol.get("/ui/runbooks").text)})
    assert bare.status_code == 403 and borrowed.status_code == 403
    assert "CSRF" in bare.text
    assert len(tasks(dash)) == before


def test_without_the_role_there_is_no_button_and_the_post_is_refused(dash: Dashboard) -> None:
    with dash.browser("ivy") as ivy:  # an auditor only
        page = ivy.get("/ui/runbooks")
        assert page.status_code == 200 and "Run disk" not in page.text
        assert "Retire disk" not in page.text and "Pause" not in page.text
        before = len(tasks(dash))
        refused = post(ivy, "/ui/runbooks/disk/runs", {"p.path": "/"})
        assert refused.status_code == 403 and "requester" in refused.text
        assert len(tasks(dash)) == before
    with dash.browser("bob") as bob:  # may run, may not retire or pause
        page = bob.get("/ui/runbooks")
        assert "Retire disk" not in page.text and "Pause" not in page.text
        retire = post(bob, "/ui/runbooks/disk/retirement")
        pause = post(bob, "/ui/triggers/hourly/pause")
    assert retire.status_code == 403 and "operator" in retire.text
    assert pause.status_code == 403 and "operator" in pause.text
    assert dash.system.use_cases().runbook("alice", "disk")["retired"] is False
    assert dash.system.use_cases().trigger("alice", "hourly")["status"] == "active"


def test_a_retired_runbook_offers_no_run_and_refuses_one(dash: Dashboard) -> None:
    with dash.browser("alice") as alice:
        assert "Retire old-disk" in alice.get("/ui/runbooks").text
        done = post(alice, "/ui/runbooks/old-disk/retirement")
        assert done.status_code == 200 and "old-disk is retired" in done.text
        again = post(alice, "/ui/runbooks/old-disk/retirement")
        assert again.status_code == 409
    before = len(tasks(dash))
    with dash.browser("bob") as bob:
        assert "Run old-disk" not in bob.get("/ui/runbooks").text
        refused = post(bob, "/ui/runbooks/old-disk/runs", {"p.path": "/"})
    assert refused.status_code == 409 and "retired" in refused.text
    assert len(tasks(dash)) == before


def test_a_trigger_is_paused_resumed_and_removed_for_good(dash: Dashboard) -> None:
    uc = dash.system.use_cases()
    with dash.browser("alice") as alice:
        paused = post(alice, "/ui/triggers/hourly/pause")
        assert paused.status_code == 200 and "hourly is paused" in paused.text
        assert uc.trigger("alice", "hourly")["status"] == "paused"
        assert "Resume hourly" in paused.text
        resumed = post(alice, "/ui/triggers/hourly/resumption")
        assert resumed.status_code == 200 and uc.trigger("alice", "hourly")["status"] == "active"
        removed = post(alice, "/ui/triggers/hourly/removal")
        assert removed.status_code == 200 and uc.trigger("alice", "hourly")["status"] == "removed"
        back = post(alice, "/ui/triggers/hourly/resumption")
        assert back.status_code == 409
        assert uc.trigger("alice", "hourly")["status"] == "removed"


@pytest.mark.parametrize(("path", "status"), [
    ("/ui/runbooks/DISK/runs", 422), ("/ui/runbooks/no-such/runs", 404),
    ("/ui/triggers/hourly/deletion", 404), ("/ui/triggers/no-such/pause", 404),
    ("/ui/runbooks/disk%00/runs", 422), ("/ui/runbooks/" + "a" * 300 + "/retirement", 422)])
def test_names_spelled_otherwise_get_a_page_never_a_5xx(dash: Dashboard, path: str,
                                                        status: int) -> None:
    with dash.browser("alice") as alice:
        answer = post(alice, path, {"p.path": "/"})
    assert answer.status_code == status, answer.text
    assert "Traceback" not in answer.text and "<html" in answer.text


def test_what_an_author_wrote_is_shown_as_text(dash: Dashboard) -> None:
    with dash.browser("bob") as bob:
        page = bob.get("/ui/runbooks").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


RESTART = {"runbook": 1, "name": "restart-web", "parameters": {"host": {"kind": "host"}},
           "plan": {"alt": 1, "steps": [{"id": "restart", "kind": "ssh",
                                         "action": "systemctl restart nginx",
                                         "target": "{param:host}"}]}}


def test_a_runbook_version_waiting_for_approval_is_on_now_and_approved_there(
        dash: Dashboard) -> None:
    """An approval of the installation's own has no task and no step: Now shows its reason
    (it once failed whole on it) and a vote from there counts as from any front."""
    uc = dash.system.use_cases()
    uc.publish_runbook("alice", RESTART)
    with dash.browser("bob") as bob:
        now = bob.get("/ui/")
        assert now.status_code == 200, now.text
        assert "publish runbook restart-web version 1" in now.text
        approval = next(a for a in uc.open_approvals("bob")
                        if a["reason"].startswith("publish runbook restart-web"))
        voted = bob.post(f"/ui/approvals/{approval['approval_id']}/approve",
                         data={"csrf": csrf_of(now.text)})
    assert voted.status_code == 200, voted.text
    assert "bob" in uc.approval("bob", approval["approval_id"]).votes
