"""A runbook step that requests a task instead of acting: only when its condition holds, by
altlas:runbook:NAME for the run's requester, planned afresh, and never in a loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from application.core import run_id_of
from application.documents import DocumentError
from application.reactions.task_steps import STEP_SOURCE
from domain.policy import StepRefusedError
from domain.task import Task
from testkit.helpers import plan, step
from tests.unit.test_runbooks import Desk

DISK = {"runbook": 1, "name": "disk-watch", "parameters": {"host": {"kind": "host"}},
        "plan": plan(step("df", kind="ssh", action="df -h /", target="{param:host}"),
                     step("open", kind="task", needs=["df"], when="df.max_percent > 90",
                          action="free disk space on {param:host}"))}


@pytest.fixture
def desk() -> Iterator[Desk]:
    found = Desk()
    found.uc.publish_runbook("alice", DISK)
    yield found
    found.app.close()


def run_with_disk_at(desk: Desk, percent: int, who: str = "bob") -> tuple[UUID, Any]:
    """A run of disk-watch whose df step reported ``percent``; the run as recorded then."""
    task = desk.uc.run_runbook(who, "disk-watch", {"host": "web-1"})
    desk.settle()
    run_id = run_id_of(UUID(task.id))
    desk.app.record_step_succeeded(run_id, "df", exit_code=0, duration_ms=5,
                                   output=f"/dev/sda1 {percent}% /", worker="w1",
                                   facts={"max_percent": percent})
    desk.settle()
    return run_id, desk.app.get_run(run_id)


def requested(desk: Desk) -> list[Task]:
    """Every task a step requested, as recorded now."""
    events = (desk.app.mapper.to_domain_event(n)
              for n in desk.app.recorder.select_notifications(1, 10_000))
    return [desk.app.load(Task, e.originator_id) for e in events
            if isinstance(e, Task.Requested) and e.source.startswith(STEP_SOURCE)
            and e.requester.startswith("altlas:runbook:")]


def test_a_task_is_requested_for_the_runs_requester_when_the_condition_holds(
        desk: Desk) -> None:
    run_id, run = run_with_disk_at(desk, 93)
    [task] = requested(desk)
    assert task.requester == "altlas:runbook:disk-watch" and (
        task.on_behalf_of == desk.app.privacy.pseudonym("bob"))
    assert task.request == "free disk space on web-1"
    assert task.because == ("df.max_percent > 90 is true (df.max_percent = 93); output df: "
                            "/dev/sda1 93% /")
    assert task.source == f"{STEP_SOURCE}{run_id}/open"
    assert task.plan is None or task.segmenter != "hand-written"  # planned as any request
    opened = next(s for s in run.steps if s.id == "open")
    assert opened.status == "succeeded" and str(task.id) in opened.output
    assert run.outcome == "succeeded"


def test_no_task_is_requested_when_the_condition_does_not_hold(desk: Desk) -> None:
    _, run = run_with_disk_at(desk, 40)
    assert requested(desk) == []
    assert next(s for s in run.steps if s.id == "open").status == "skipped"


def test_settling_again_requests_the_task_once(desk: Desk) -> None:
    run_with_disk_at(desk, 95)
    desk.settle()
    assert len(requested(desk)) == 1


def test_a_task_step_aimed_at_a_host_is_refused(desk: Desk) -> None:
    with pytest.raises(StepRefusedError, match="a task step has no target"):
        desk.app.check_plan(plan(step("open", kind="task", action="free disk",
                                      target="web-1")))


def test_a_task_step_with_params_is_refused_as_a_malformed_plan(desk: Desk) -> None:
    with pytest.raises(DocumentError, match=r"params.*expected to be empty"):
        desk.uc.publish_runbook("alice", {**DISK, "name": "sneaky", "plan": plan(
            step("df", kind="ssh", action="df -h /", target="{param:host}"),
            step("open", kind="task", action="free {param:host}",
                 params={"requester": "alice"}))})
