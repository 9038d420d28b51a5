"""The two-person rule, attacked from every front: whoever asks for or writes a plan never
approves it, only the requester (or altlas's own segmenter) writes a task's plan, and only the
policies or an operator start runs. Each refusal leaves the history as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from domain.approval import (
    Approval,
    ApprovalSubject,
    AuthorCannotApproveError,
    QuorumUnreachableError,
    RequesterCannotApproveError,
)
from domain.base import EventMeta
from domain.task import NotPlanOwnerError, Task
from testkit.helpers import plan, step
from tests.security.gatehouse import Gatehouse, gatehouse

FLAG = "touch /tmp/altlas-gates/maintenance.flag"
GATED = plan(step("s1", action="df -h"), step("s2", action=FLAG, needs=["s1"]))
GATED_WORDS = "check disk and load on the altlas host, then set its maintenance flag"


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[Gatehouse]:
    """No worker: a request stays as it was recorded, unplanned."""
    with gatehouse(tmp_path, worker=False) as house:
        yield house


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[Gatehouse]:
    """A worker beside the API, as in `altlas serve`: requests are planned and run."""
    with gatehouse(tmp_path, worker=True) as house:
        yield house


def _request(house: Gatehouse, person: str = "deniz", words: str = "check disk on web-1"
             ) -> str:
    r = house.post("/tasks", person, {"request": words, "environment": "prod"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _waiting_approval(house: Gatehouse, task_id: str) -> dict[str, Any]:
    """The open approval of the task's gated step, once the worker has got that far."""
    def found() -> dict[str, Any] | None:
        rows = [a for a in house.get("/approvals")["items"] if a["task_id"] == task_id]
        return rows[0] if rows else None

    return dict(house.until(found))


class TestOnlyTheRequesterWritesThePlan:
    @pytest.mark.parametrize("intruder", ["erin", "alice", "bob", "adam"])
    def test_a_plan_for_someone_elses_task_is_refused_whatever_their_role(
        self, quiet: Gatehouse, intruder: str
    ) -> None:
        task_id = _request(quiet)
        before = quiet.events()
        r = quiet.post(f"/tasks/{task_id}/segmentation", intruder, {"plan": GATED})
        assert r.status_code == 403, r.text
        assert "deniz" in r.json()["message"]
        assert quiet.events() == before
        assert quiet.get(f"/tasks/{task_id}")["status"] == "requested"

    def test_a_prefix_of_someone_elses_task_id_does_not_help(self, quiet: Gatehouse) -> None:
        task_id = _request(quiet)
        r = quiet.post(f"/tasks/{task_id[:8]}/segmentation", "adam", {"plan": GATED})
        assert r.status_code == 403
        assert quiet.get(f"/tasks/{task_id}")["plan"] is None

    def test_the_requester_writes_the_plan_of_their_own_task(self, quiet: Gatehouse) -> None:
        task_id = _request(quiet)
        r = quiet.post(f"/tasks/{task_id}/segmentation", "deniz", {"plan": GATED})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "segmented"

    @pytest.mark.parametrize("intruder", ["erin", "adam"])
    def test_the_command_line_refuses_a_plan_for_someone_elses_task(
        self, quiet: Gatehouse, intruder: str
    ) -> None:
        task_id = _request(quiet)
        path = quiet.write("plan.alt.json", GATED)
        before = quiet.events()
        done = quiet.cli("task", "plan", task_id[:8], str(path), "--as", intruder)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert "deniz" in done.stderr
        assert quiet.events() == before

    def test_a_person_the_policy_does_not_know_writes_no_plan(self, quiet: Gatehouse) -> None:
        task_id = _request(quiet)
        path = quiet.write("plan.alt.json", GATED)
        done = quiet.cli("task", "plan", task_id, str(path), "--as", "mallory")
        assert done.returncode == 2 and "mallory" in done.stderr

    def test_the_domain_refuses_a_plan_by_anyone_but_the_requester(self) -> None:
        task = Task.request_work("check disk", "deniz", EventMeta.for_command("deniz"))
        with pytest.raises(NotPlanOwnerError):
            task.record_segmentation(GATED, [], "hand-written", EventMeta.for_command("adam"))
        task.record_segmentation(GATED, [], "rules", EventMeta.for_command("altlas:segmenter"))
        assert task.plan_author is None and task.authors == ["deniz"]


class TestWhoseVotesCount:
    def test_the_requester_cannot_approve_from_any_front(self, busy: Gatehouse) -> None:
        task_id = _request(busy, "deniz", GATED_WORDS)
        approval = _waiting_approval(busy, task_id)
        ref = approval["approval_id"]
        assert busy.post(f"/approvals/{ref}/votes", "deniz").status_code == 403
        assert busy.post(f"/approvals/{ref}/denial", "deniz",
                         {"reason": "mine"}).status_code == 403
        said = busy.post("/commands", "deniz", {"text": f"approve {ref[:8]}"}).json()
        assert "bu değişikliği siz istediniz" in said["text"]  # deniz reads Turkish
        done = busy.cli("approve", ref[:8], "--as", "deniz")
        assert done.returncode == 2 and "deniz asked for this change" in done.stderr
        now = busy.get(f"/approvals/{ref}")
        assert now["status"] == "open" and now["votes"] == []
        assert "deniz" in now["excluded"]

    def test_a_requester_and_a_colleague_do_not_make_a_quorum(self, busy: Gatehouse) -> None:
        task_id = _request(busy, "deniz", GATED_WORDS)
        ref = _waiting_approval(busy, task_id)["approval_id"]
        assert busy.post(f"/approvals/{ref}/votes", "alice").json()["remaining"] == 1
        assert busy.post(f"/approvals/{ref}/votes", "deniz").status_code == 403
        assert busy.get(f"/approvals/{ref}")["status"] == "open"

    def test_an_approver_who_asks_for_work_cannot_approve_it(self, busy: Gatehouse) -> None:
        task_id = _request(busy, "alice", GATED_WORDS)
        approval = _waiting_approval(busy, task_id)
        ref = approval["approval_id"]
        assert "alice" in approval["eligible"] and "alice" in approval["excluded"]
        assert busy.post(f"/approvals/{ref}/votes", "alice").status_code == 403
        assert busy.post(f"/approvals/{ref}/votes", "bob").status_code == 200
        assert busy.post(f"/approvals/{ref}/votes", "carol").json()["status"] == "granted"

    def test_an_admin_outside_the_approver_groups_cannot_vote(self, busy: Gatehouse) -> None:
        task_id = _request(busy, "deniz", GATED_WORDS)
        ref = _waiting_approval(busy, task_id)["approval_id"]
        r = busy.post(f"/approvals/{ref}/votes", "adam")
        assert r.status_code == 403 and "not an approver" in r.json()["message"]

    def test_who_wrote_a_plan_is_kept_from_approving_it_like_the_requester(self) -> None:
        approval = _approval(authors=frozenset({"bob"}))
        assert approval.excluded == ["bob", "deniz"]
        with pytest.raises(AuthorCannotApproveError):
            approval.cast_vote("bob", datetime.now(UTC), EventMeta.for_command("bob"))
        with pytest.raises(RequesterCannotApproveError):
            approval.deny("deniz", "no", datetime.now(UTC), EventMeta.for_command("deniz"))
        assert approval.votes == []

    def test_authors_do_not_count_towards_the_quorum(self) -> None:
        with pytest.raises(QuorumUnreachableError):
            _approval(authors=frozenset({"bob", "carol"}))

    def test_an_approval_recorded_before_authors_were_kept_still_excludes_its_requester(
        self
    ) -> None:
        state = {"requester": "deniz"}
        Approval.Requested.upcast_v1_v2(state)
        assert state["excluded"] == ["deniz"]


class TestWhoStartsRuns:
    @pytest.mark.parametrize("person", ["deniz", "erin", "bob"])
    def test_a_run_is_started_by_hand_only_by_an_operator(
        self, quiet: Gatehouse, person: str
    ) -> None:
        task_id = _request(quiet)
        quiet.post(f"/tasks/{task_id}/segmentation", "deniz", {"plan": GATED})
        before = quiet.events()
        r = quiet.post(f"/tasks/{task_id}/runs", person)
        assert r.status_code == 403 and "operator" in r.json()["message"]
        assert quiet.events() == before

    def test_a_run_cannot_be_started_twice(self, quiet: Gatehouse) -> None:
        task_id = _request(quiet)
        quiet.post(f"/tasks/{task_id}/segmentation", "deniz", {"plan": GATED})
        assert quiet.post(f"/tasks/{task_id}/runs", "alice").status_code == 201
        before = quiet.events()
        assert quiet.post(f"/tasks/{task_id[:8]}/runs", "adam").status_code == 409
        assert quiet.events() == before


def _approval(authors: frozenset[str]) -> Approval:
    return Approval.request(
        subject=ApprovalSubject.STEP, task_id=uuid4(), run_id=uuid4(), step_id="s2",
        risk="HIGH_RISK", environment="prod",
        requester="deniz", eligible=frozenset({"alice", "bob", "carol"}), required=2,
        expires_at=datetime.now(UTC) + timedelta(minutes=15), reason="change in prod",
        meta=EventMeta.for_command("deniz"), authors=authors)
