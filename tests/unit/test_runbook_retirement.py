"""Retiring a runbook and pausing, resuming or removing a trigger, on the in-memory store: a
retired runbook is neither run nor fired (a firing says why, once), a run that waited for
approval when it was retired keeps its gate and runs once if approved, and a paused or
removed trigger runs nothing."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from application.core import run_id_of
from domain.run import RUNNING
from domain.runbooks import ProposalPendingError, RetiredError, UnchangedError, runbook_id
from domain.triggers import (
    Trigger,
    TriggerError,
    TriggerPausedError,
    TriggerRemovedError,
    trigger_id,
)
from tests.unit.test_runbooks import DISK, RESTART, Desk
from tests.unit.test_triggers import NOW, at, desk, schedule

HOUR = timedelta(hours=1)
__all__ = ["desk"]  # the fixture: disk-check published, the clock at NOW


def events(desk: Desk, name: str = "disk-hourly") -> list[str]:
    return [e.type_name for e in desk.app.events.get(trigger_id(name))]


def test_a_retired_runbook_is_not_run_and_says_how_to_bring_it_back(desk: Desk) -> None:
    desk.uc.retire_runbook("alice", "disk-check")
    before = desk.app.recorder.max_notification_id()
    with pytest.raises(RetiredError, match="publish a new version to bring it back"):
        desk.uc.run_runbook("erin", "disk-check", {"host": "web-1", "threshold": 90})
    assert desk.app.recorder.max_notification_id() == before
    assert desk.uc.runbook(None, "disk-check")["retired"] is True
    with pytest.raises(RetiredError, match="retired already"):
        desk.uc.retire_runbook("alice", "disk-check")


def test_publishing_it_again_brings_a_retired_runbook_back(desk: Desk) -> None:
    with pytest.raises(UnchangedError):
        desk.uc.publish_runbook("alice", DISK)
    desk.uc.retire_runbook("alice", "disk-check")
    assert desk.uc.publish_runbook("alice", DISK)["published"]["version"] == 2
    assert desk.uc.run_runbook("erin", "disk-check", {"host": "web-1", "threshold": 90})


def test_a_runbook_whose_version_waits_for_approval_is_not_retired_under_it(
        desk: Desk) -> None:
    desk.uc.publish_runbook("alice", RESTART)
    with pytest.raises(ProposalPendingError, match="deny it first, then retire"):
        desk.uc.retire_runbook("alice", "restart")
    assert "RunbookRetired" not in [e.type_name for e in desk.events("restart")]


def test_a_run_waiting_for_approval_when_retired_keeps_its_gate_and_runs_once(
        desk: Desk) -> None:
    desk.uc.publish_runbook("alice", RESTART)
    desk.uc.vote("bob", desk.uc.runbook("bob", "restart")["pending"]["approval_id"])
    desk.settle()
    task = desk.uc.run_runbook("erin", "restart", {"host": "web-1", "service": "web"})
    desk.settle()
    run_id = run_id_of(UUID(str(task.id)))
    waiting = desk.app.get_run(run_id).steps[0].approval_id
    assert waiting is not None
    desk.uc.retire_runbook("alice", "restart")
    desk.uc.vote("bob", waiting)
    desk.uc.vote("carol", waiting)  # a change in prod: two approvers
    desk.settle()
    started = [e for e in desk.app.events.get(run_id) if e.type_name == "StepStarted"]
    assert len(started) == 1 and desk.app.get_run(run_id).steps[0].status == RUNNING


def test_a_due_firing_of_a_retired_runbook_is_recorded_as_missed_once(desk: Desk) -> None:
    schedule(desk)
    desk.uc.retire_runbook("alice", "disk-check")
    at(desk, NOW + HOUR)
    assert desk.app.fire_trigger(trigger_id("disk-hourly")) is None
    assert desk.app.fire_trigger(trigger_id("disk-hourly")) is None
    [missed] = [e for e in desk.app.events.get(trigger_id("disk-hourly"))
                if isinstance(e, Trigger.Missed)]
    assert "retired" in missed.reason and missed.next_at == NOW + 2 * HOUR


def test_no_new_trigger_is_added_for_a_retired_runbook(desk: Desk) -> None:
    desk.uc.retire_runbook("alice", "disk-check")
    with pytest.raises(RetiredError):
        schedule(desk)
    with pytest.raises(RetiredError):
        desk.uc.create_event_trigger("alice", "db", "disk-check", {"threshold": 90},
                                     "incident-cause", "db-1", {"host": "host"})
    assert not desk.app.exists(trigger_id("disk-hourly"))


def test_a_paused_trigger_fires_nothing_and_resumes_from_now(desk: Desk) -> None:
    schedule(desk)
    desk.uc.change_trigger("alice", "disk-hourly", "pause")
    at(desk, NOW + 3 * HOUR + timedelta(minutes=10))
    assert desk.app.fire_trigger(trigger_id("disk-hourly")) is None
    with pytest.raises(TriggerPausedError, match="altlas trigger resume disk-hourly"):
        desk.uc.change_trigger("alice", "disk-hourly", "pause")
    resumed = desk.uc.change_trigger("alice", "disk-hourly", "resume")
    assert resumed["next_at"] == (NOW + 4 * HOUR + timedelta(minutes=10)).isoformat()
    assert events(desk) == ["TriggerCreated", "TriggerPaused", "TriggerResumed"]
    with pytest.raises(TriggerError, match="is not paused"):
        desk.uc.change_trigger("alice", "disk-hourly", "resume")


def test_a_removed_trigger_never_fires_again(desk: Desk) -> None:
    schedule(desk)
    desk.uc.change_trigger("alice", "disk-hourly", "remove")
    at(desk, NOW + HOUR)
    assert desk.app.fire_trigger(trigger_id("disk-hourly")) is None
    for change in ("pause", "resume", "remove"):
        with pytest.raises(TriggerRemovedError, match="was removed"):
            desk.uc.change_trigger("alice", "disk-hourly", change)
    assert events(desk) == ["TriggerCreated", "TriggerRemoved"]
    assert desk.app.exists(runbook_id("disk-check"))
