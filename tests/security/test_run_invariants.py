"""The run keeps its own invariants, whoever calls: a gated step starts only with its
approval granted, a CRITICAL step never starts, a step's outcome comes from whoever holds it,
and a run whose manual work is not done does not end as succeeded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.app import AltlasApplication
from application.core import run_id_of
from domain.approval import Approval
from domain.base import EventMeta
from domain.run import GateNotPassedError, Run, StepStateError
from domain.task import Task
from testkit.fakes.ports import FakePersonKeys
from testkit.helpers import FakeClock, default_policy, plan, step
from tests.security.gatehouse import Gatehouse, gatehouse

FLAG = "touch /tmp/altlas-gates/maintenance.flag"
GATED = plan(step("s1", action="df -h"), step("s2", action=FLAG, needs=["s1"]))
WIPE = plan(step("s1", action="df -h"),
            step("s2", kind="ssh", action="rm -rf /var/lib/app", target="web-1", needs=["s1"]))
MANUAL = plan(step("s1", kind="manual", action="swap the failed disk in rack 4",
                   target="db-1"))
CRITICAL = plan(step("s1", kind="ssh", action="rm -rf /var/lib/app", target="web-1"))
WIPE_DB = plan(step("s1", kind="ssh", action="rm -rf /var/lib/postgresql", target="db-1"))


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path, worker=True) as house:
        yield house


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path, worker=False) as house:
        yield house


def _planned(house: Gatehouse, document: dict[str, Any], person: str = "deniz") -> str:
    """A task with a hand-written plan, recorded together (`altlas alt submit` does this)."""
    task = house.system.use_cases().submit_plan(person, document, request="as planned",
                                                environment="prod")
    return task.id


def _run(house: Gatehouse, task_id: str, settled: bool = True) -> dict[str, Any]:
    """The task's run, once nothing more happens to it by itself."""
    run_id = str(run_id_of(UUID(task_id)))

    def found() -> dict[str, Any] | None:
        r = house.client.get(f"/runs/{run_id}", headers={"Authorization": "Bearer tok-erin"})
        if r.status_code != 200:
            return None
        run: dict[str, Any] = r.json()
        busy = any(s["status"] == "running" or (s["status"] == "pending"
                                                 and not s["approval_id"]) for s in run["steps"])
        return run if not (settled and busy) else None

    return dict(house.until(found))


class TestTheGateHoldsAgainstAnOperator:
    def test_a_step_whose_approval_is_open_cannot_be_reported_started_or_done(
        self, busy: Gatehouse
    ) -> None:
        run = _run(busy, _planned(busy, GATED))
        assert [s["status"] for s in run["steps"]] == ["succeeded", "pending"]
        before = busy.events()
        base = f"/runs/{run['id']}/steps/s2"
        r = busy.post(f"{base}/started", "alice")
        assert r.status_code == 403 and "waits for approval" in r.json()["message"]
        assert busy.post(f"{base}/succeeded", "alice", {"exit_code": 0, "output": "done",
                                                        "duration_ms": 1}).status_code == 409
        assert busy.post(f"/runs/{run['id']}/completion", "alice").status_code == 409
        assert busy.post(f"{base}/started", "adam").status_code == 403
        assert busy.events() == before
        assert _run(busy, run["task_id"])["steps"][1]["status"] == "pending"

    def test_a_critical_step_is_never_started_by_anyone(self, busy: Gatehouse) -> None:
        run = _run(busy, _planned(busy, WIPE))
        wipe = run["steps"][1]
        assert wipe["risk"] == "CRITICAL" and wipe["status"] == "manual"
        assert wipe["attempts"] == 0
        for person in ("alice", "adam"):
            r = busy.post(f"/runs/{run['id']}/steps/s2/started", person)
            assert r.status_code in (403, 409), r.text
        assert _run(busy, run["task_id"])["steps"][1]["attempts"] == 0

    def test_a_step_refused_by_its_approval_never_starts(self) -> None:
        app, clock = _app()
        run, approval = _gated_run(app)
        alice = app.privacy.pseudonym("alice")  # the domain compares people as events name them
        approval.deny(alice, "not now", clock(), EventMeta.for_command(alice))
        with pytest.raises(GateNotPassedError, match="denied"):
            run.start_step("s2", EventMeta.for_command("alice"), None, approval)
        other, unanswered = _gated_run(app)
        clock.advance(hours=1)
        unanswered.expire(clock(), EventMeta.for_command("altlas:scheduler"))
        with pytest.raises(GateNotPassedError, match="expired"):
            other.start_step("s2", EventMeta.for_command("alice"), None, unanswered)

    def test_another_steps_granted_approval_does_not_open_this_one(self) -> None:
        app, clock = _app()
        run, _ = _gated_run(app)
        _, other = _gated_run(app)
        for voter in map(app.privacy.pseudonym, ("alice", "bob")):
            other.cast_vote(voter, clock(), EventMeta.for_command(voter))
        assert other.status == "granted"
        with pytest.raises(GateNotPassedError, match="needs approval"):
            run.start_step("s2", EventMeta.for_command("alice"), None, other)
        with pytest.raises(GateNotPassedError):
            run.start_step("s2", EventMeta.for_command("alice"), None, None)

    def test_a_granted_approval_lets_its_step_start(self) -> None:
        app, clock = _app()
        run, approval = _gated_run(app)
        for voter in map(app.privacy.pseudonym, ("alice", "bob")):
            approval.cast_vote(voter, clock(), EventMeta.for_command(voter))
        runner = EventMeta.for_command("altlas:runner")
        run.start_step("s1", runner, "w1")
        run.succeed_step("s1", runner, exit_code=0, output="", duration_ms=1)
        run.start_step("s2", runner, "w1", approval)
        assert run.steps["s2"].status == "running"


class TestOutcomesComeFromWhoeverHoldsTheStep:
    def test_an_operator_cannot_report_the_outcome_of_a_step_a_worker_holds(self) -> None:
        app, _ = _app()
        run, _ = _gated_run(app)
        app.save(run)
        app.record_step_started(run.id, "s1", worker="w1")
        with pytest.raises(StepStateError, match="run by worker w1"):
            app.record_step_succeeded(run.id, "s1", exit_code=0, output="fake", duration_ms=1,
                                      actor="alice")
        with pytest.raises(StepStateError, match="no longer held by w2"):
            app.record_step_failed(run.id, "s1", error="x", exit_code=1, output="",
                                   duration_ms=1, worker="w2")
        assert app.load(Run, run.id).steps["s1"].status == "running"

    def test_only_the_person_who_started_a_step_by_hand_reports_its_outcome(
        self, quiet: Gatehouse
    ) -> None:
        task_id = _planned(quiet, GATED)
        run = quiet.post(f"/tasks/{task_id}/runs", "alice").json()
        base = f"/runs/{run['id']}/steps/s1"
        assert quiet.post(f"{base}/started", "alice").status_code == 200
        done = {"exit_code": 0, "output": "ok", "duration_ms": 3}
        r = quiet.post(f"{base}/succeeded", "adam", done)
        assert r.status_code == 409 and "started by alice" in r.json()["message"]
        assert quiet.post(f"{base}/succeeded", "alice", done).status_code == 200


class TestManualWork:
    def test_a_run_with_work_left_to_a_person_does_not_end_as_succeeded(
        self, busy: Gatehouse
    ) -> None:
        run = busy.until(lambda: _run(busy, _planned(busy, MANUAL)) or None)
        run = busy.until(lambda: (r := _run(busy, run["task_id"]))["outcome"] and r)
        assert run["outcome"] == "manual_outstanding"
        assert run["steps"][0]["status"] == "manual" and run["steps"][0]["attempts"] == 0
        shown = busy.cli("run", "show", run["id"][:8])
        assert "manual work outstanding" in shown.stdout
        assert "swap the failed disk in rack 4" in shown.stdout

    def test_the_person_who_did_it_confirms_it_and_is_named(self, busy: Gatehouse) -> None:
        task_id = _planned(busy, MANUAL)
        run = busy.until(lambda: (r := _run(busy, task_id))["outcome"] and r)
        r = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "alice",
                      {"note": "disk swapped, array rebuilding"})
        assert r.status_code == 200, r.text
        assert r.json()["outcome"] == "succeeded"
        assert r.json()["steps"][0]["confirmed_by"] == "alice"
        listed = busy.until(lambda: [x for x in busy.get("/runs")["items"]
                                     if x["run_id"] == run["id"]
                                     and x["outcome"] == "succeeded"])
        assert listed
        shown = busy.cli("run", "show", run["id"])
        assert "confirmed by alice" in shown.stdout
        again = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "bob", {})
        assert again.status_code == 409

    def test_confirming_is_for_people_who_may_approve(self, busy: Gatehouse) -> None:
        task_id = _planned(busy, MANUAL)
        run = busy.until(lambda: (r := _run(busy, task_id))["outcome"] and r)
        before = busy.events()
        r = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "ivy", {})
        assert r.status_code == 403 and "approver" in r.json()["message"]
        done = busy.cli("run", "confirm", run["id"][:8], "s1", "--as", "mallory")
        assert done.returncode == 2 and "mallory" in done.stderr
        assert busy.events() == before

    def test_a_step_altlas_ran_cannot_be_confirmed_by_hand(self, busy: Gatehouse) -> None:
        run = _run(busy, _planned(busy, GATED))
        r = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "alice", {})
        assert r.status_code == 409 and "only a step left to a person" in r.json()["message"]
        unknown = busy.post(f"/runs/{run['id']}/steps/s9/confirmation", "alice", {})
        assert unknown.status_code == 404 and "has no step 's9'" in unknown.json()["message"]

    def test_the_requester_may_not_confirm_her_own_critical_step_on_any_front(
        self, busy: Gatehouse
    ) -> None:
        task_id = _planned(busy, CRITICAL, person="alice")  # she may approve others' work
        run = busy.until(lambda: (r := _run(busy, task_id))["outcome"] and r)
        assert run["steps"][0]["risk"] == "CRITICAL"
        before = busy.events()
        r = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "alice", {"note": "done"})
        assert r.status_code == 403 and "someone else must confirm" in r.json()["message"]
        done = busy.cli("run", "confirm", run["id"][:8], "s1", "--as", "alice")
        assert done.returncode == 2 and "alice asked for this work" in done.stderr
        said = busy.post("/commands", "alice", {"text": f"done {run['id'][:8]} s1"}).json()
        assert "someone else must confirm" in said["text"]
        assert busy.events() == before
        assert _run(busy, task_id)["outcome"] == "manual_outstanding"
        r = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "bob", {"note": "wiped"})
        assert r.status_code == 200 and r.json()["outcome"] == "succeeded"

    def test_an_approver_of_another_environment_cannot_confirm_a_prod_critical_step(
        self, busy: Gatehouse
    ) -> None:
        """deniz and erin approve dev only: confirming is no way around prod's gate."""
        task_id = _planned(busy, WIPE_DB, person="bob")
        run = busy.until(lambda: (r := _run(busy, task_id))["outcome"] and r)
        assert run["steps"][0]["risk"] == "CRITICAL"
        before = busy.events()
        for who in ("erin", "deniz"):
            r = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", who, {"note": "done"})
            assert r.status_code == 403, r.text
            assert "could not have approved CRITICAL step s1" in r.json()["message"]
            done = busy.cli("run", "confirm", run["id"][:8], "s1", "--as", who)
            assert done.returncode == 2 and "could not have approved" in done.stderr
            assert len(done.stderr.strip().splitlines()) == 1
            said = busy.post("/commands", who, {"text": f"done {run['id'][:8]} s1"}).json()
            assert "could not have approved" in said["text"]
            again = busy.post(f"/runs/{run['id'].upper()}/steps/s1/confirmation", who, {})
            assert again.status_code in (403, 404)  # another spelling of the run is no way in
        assert busy.events() == before
        assert _run(busy, task_id)["outcome"] == "manual_outstanding"
        r = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "alice", {"note": "wiped"})
        assert r.status_code == 200 and r.json()["outcome"] == "succeeded"

    def test_an_admin_who_approves_nothing_in_prod_cannot_confirm_its_critical_step(
        self, busy: Gatehouse
    ) -> None:
        task_id = _planned(busy, WIPE_DB, person="bob")
        run = busy.until(lambda: (r := _run(busy, task_id))["outcome"] and r)
        r = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "adam", {})
        assert r.status_code == 403 and "could not have approved" in r.json()["message"]

    def test_manual_work_in_prod_is_confirmed_only_by_prod_s_approvers(
        self, busy: Gatehouse
    ) -> None:
        task_id = _planned(busy, MANUAL)
        run = busy.until(lambda: (r := _run(busy, task_id))["outcome"] and r)
        r = busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "erin", {})
        assert r.status_code == 403 and "could not have approved" in r.json()["message"]
        assert busy.post(f"/runs/{run['id']}/steps/s1/confirmation", "bob",
                         {}).json()["outcome"] == "succeeded"

    def test_chat_confirms_manual_work_with_done(self, busy: Gatehouse) -> None:
        task_id = _planned(busy, MANUAL)
        run = busy.until(lambda: (r := _run(busy, task_id))["outcome"] and r)
        said = busy.post("/commands", "bob",
                         {"text": f"done {run['id'][:8]} s1 swapped the disk"}).json()
        assert "confirmed by bob" in said["text"]
        assert _run(busy, task_id)["outcome"] == "succeeded"


def _app() -> tuple[AltlasApplication, FakeClock]:
    clock = FakeClock()
    return AltlasApplication(default_policy(), clock,
                             env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                             keys=FakePersonKeys()), clock


def _gated_run(app: AltlasApplication) -> tuple[Run, Approval]:
    """A run of GATED with its open approval (neither saved)."""
    task_id = app.submit_plan("flag it", GATED, "deniz", environment="prod").id
    run, approvals = app.open_run(app.load(Task, UUID(task_id)),
                                  EventMeta.for_command("deniz"), app.clock())
    return run, approvals[0]
