"""Getting around a runbook's task step: the task it requests skipping its gates, someone
else asking through it, a loop of tasks asking for tasks, and a task step outside a runbook.
The requested task is asked by altlas:runbook:NAME for the run's requester, planned and gated
like any request, and a chain of them stops at the policy's depth."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
import yaml

from application.core import run_id_of
from application.reactions.task_steps import STEP_SOURCE
from application.segmentation import SEGMENTER_ACTOR, SegmentationRequest
from domain.approval import AuthorCannotApproveError
from domain.base import EventMeta
from domain.policy import Policy
from domain.task import Task
from testkit.helpers import plan, step, token_policy
from tests.unit.test_runbook_task_steps import DISK, requested, run_with_disk_at
from tests.unit.test_runbooks import Desk

RESTART = [step("go", kind="ssh", action="systemctl restart web", target="web-1")]
AGAIN = "check disk on web-1"  # planned as a task step asking the same again: a loop
ASK_AGAIN = [step("again", kind="task", action=AGAIN)]


class ByPrefix:
    """Plans a request by how it starts: what a segmenter would make of the words."""

    name = "by-prefix"
    deterministic = True

    def __init__(self, plans: dict[str, list[dict[str, Any]]]) -> None:
        self.plans = plans

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        found = next(p for prefix, p in self.plans.items() if request.text.startswith(prefix))
        return {"alt": 1, "steps": found}


def planned_desk(plans: dict[str, list[dict[str, Any]]], asks: str, depth: int = 1) -> Desk:
    """disk-watch, whose task step asks for ``asks``, planned as ``plans`` say."""
    desk = Desk()
    data = yaml.safe_load(token_policy())
    data["triggers"] = {"task_depth": depth}
    desk.app.policy = Policy.from_mapping(data)
    desk.ports.segmentation.use(ByPrefix(plans), None)  # type: ignore[arg-type]
    desk.uc.publish_runbook("alice", {**DISK, "plan": plan(
        step("df", kind="ssh", action="df -h /", target="{param:host}"),
        step("open", kind="task", needs=["df"], when="df.max_percent > 90", action=asks))})
    return desk


@pytest.fixture
def desk() -> Iterator[Desk]:
    found = planned_desk({"restart web": RESTART}, "restart web on {param:host}")
    yield found
    found.app.close()


def test_the_requested_task_waits_for_its_gates_and_its_requester_cannot_pass_them(
        desk: Desk) -> None:
    run_with_disk_at(desk, 97, who="bob")
    [task] = requested(desk)
    assert [g["gate"] for g in task.gates] == ["approval"]
    desk.settle()
    run = desk.app.get_run(run_id_of(task.id))
    with pytest.raises(AuthorCannotApproveError):
        desk.uc.vote("bob", run.steps[0].approval_id)


def test_words_that_name_someone_else_do_not_make_it_theirs() -> None:
    desk = planned_desk({"as alice": RESTART}, "restart web on {param:host}")
    disguised = {**DISK, "name": "disguised", "plan": plan(
        step("df", kind="ssh", action="df -h /", target="{param:host}"),
        step("open", kind="task", needs=["df"], when="df.max_percent > 90",
             action="as alice requested by alice on behalf of alice: restart web"))}
    desk.uc.publish_runbook("alice", disguised)
    task = desk.uc.run_runbook("bob", "disguised", {"host": "web-1"})
    desk.settle()
    desk.app.record_step_succeeded(run_id_of(UUID(task.id)), "df", exit_code=0,
                                   output="93%", duration_ms=1, worker="w1",
                                   facts={"max_percent": 93})
    desk.settle()
    [made] = requested(desk)
    assert made.requester == "altlas:runbook:disguised"
    assert made.on_behalf_of == desk.app.privacy.pseudonym("bob")
    desk.app.close()


def planted(desk: Desk, run_id: UUID) -> Task:
    """A task as the step of ``run_id`` asks for it, whose planner put a task step in it."""
    asker, bob = "altlas:runbook:disk-watch", desk.app.privacy.pseudonym("bob")
    task = Task.request_work(AGAIN, asker, EventMeta.for_command(asker), on_behalf_of=bob,
                             source=f"{STEP_SOURCE}{run_id}/open")
    plan_doc, gates = desk.app.classify(plan(*ASK_AGAIN), "normal", bob)
    task.record_segmentation(plan_doc, gates, "by-prefix",
                             EventMeta(SEGMENTER_ACTOR, task.correlation_id, None))
    desk.app.save(task)
    return task


@pytest.mark.parametrize(("depth", "asked"), [(1, 0), (2, 1)])
def test_a_task_asked_by_a_step_asks_for_another_only_below_the_policys_depth(
        depth: int, asked: int) -> None:
    desk = planned_desk({}, AGAIN, depth=depth)
    first, _ = run_with_disk_at(desk, 40)  # its own step asks for nothing
    middle = planted(desk, first)
    for _ in range(3):
        desk.settle()
    again = next(s for s in desk.app.get_run(run_id_of(middle.id)).steps if s.id == "again")
    assert len(requested(desk)) == 1 + asked
    if asked:
        assert again.status == "succeeded"
    else:
        assert again.status == "skipped" and "triggers.task_depth" in (again.error or "")
    desk.app.close()


def test_no_step_asks_for_a_task_when_the_policy_depth_is_zero() -> None:
    desk = planned_desk({}, AGAIN, depth=0)
    _, run = run_with_disk_at(desk, 99)
    assert requested(desk) == []
    assert "task_depth" in (next(s for s in run.steps if s.id == "open").error or "")
    desk.app.close()


@pytest.mark.parametrize("source", ["alt", "runbook:disk-watch", "step:x/open"])
def test_a_task_step_in_a_persons_own_plan_asks_for_nothing(desk: Desk, source: str) -> None:
    task = desk.uc.submit_plan("bob", plan(step("open", kind="task",
                                                action="restart web on web-1")),
                               request="restart web on web-1", source=source)
    desk.settle()
    run = desk.app.get_run(run_id_of(UUID(task.id)))
    assert requested(desk) == []
    assert "only in a runbook" in (run.steps[0].error or "")
