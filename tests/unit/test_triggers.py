"""Triggers on the in-memory store with a fake clock: schedules refused when they never fire or
fire too often, each firing claimed once, missed and overlapping firings by the stated policy,
and the owner kept from approving what their trigger asked for."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from application.core import run_id_of
from domain.approval import AuthorCannotApproveError
from domain.base import EventMeta
from domain.runbooks import runbook_id
from domain.triggers import AlreadyFiredError, Schedule, Trigger, TriggerError, trigger_id
from tests.unit.test_runbooks import DISK, RESTART, Desk

MINUTE = timedelta(minutes=1)
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("schedule", "why"), [
    (Schedule("0 0 30 2 *", None, "UTC"), "never fires"),
    (Schedule("* * * * * *", None, "UTC"), "fires every 1 s"),
    (Schedule("0,1 * * * *", None, "UTC"), "fires every 60 s at times"),
    (Schedule("every minute", None, "UTC"), "does not parse"),
    (Schedule(None, 30, "UTC"), "more often than the policy allows"),
    (Schedule("*/15 * * * *", None, "Mars/Olympus"), "time zone 'Mars/Olympus' is unknown"),
    (Schedule("*/15 * * * *", 900, "UTC"), "one of them"),
])
def test_a_schedule_that_never_fires_or_fires_too_often_is_refused(
        schedule: Schedule, why: str) -> None:
    with pytest.raises(TriggerError, match=why):
        schedule.check(2 * MINUTE, NOW)


def test_a_cron_fires_in_its_own_time_zone() -> None:
    first = Schedule("30 9 * * *", None, "Europe/Istanbul").check(MINUTE, NOW)
    assert first == datetime(2026, 12, 4, 6, 30, tzinfo=UTC)  # 09:30 in Istanbul (UTC+3)


@pytest.fixture
def desk() -> Iterator[Desk]:
    found = Desk()
    found.app.clock.now = NOW  # type: ignore[attr-defined]
    found.uc.publish_runbook("alice", DISK)
    yield found
    found.app.close()


def schedule(desk: Desk, name: str = "disk-hourly", **options: Any) -> dict[str, Any]:
    return desk.uc.create_trigger("alice", name, "disk-check",
                                  {"host": "web-1", "threshold": 90}, **{
                                      "every_seconds": 3600, **options})


def at(desk: Desk, moment: datetime) -> None:
    desk.app.clock.now = moment  # type: ignore[attr-defined]


def trigger(desk: Desk, name: str = "disk-hourly") -> Trigger:
    return desk.app.load(Trigger, trigger_id(name))


def test_a_due_firing_requests_a_run_once_on_behalf_of_the_owner(desk: Desk) -> None:
    schedule(desk)
    ident = trigger_id("disk-hourly")
    assert desk.app.fire_trigger(ident) is None  # not due yet
    at(desk, NOW + timedelta(hours=1))
    task_id = desk.app.fire_trigger(ident)
    assert task_id is not None
    task = desk.app.get_task(task_id)
    assert task.requester == "altlas:trigger:disk-hourly" and task.source == "runbook:disk-check"
    assert desk.app.fire_trigger(ident) is None  # the same firing is not run twice
    fired = [e for e in desk.app.events.get(ident) if isinstance(e, Trigger.Fired)]
    assert [(f.scheduled_at, f.fired_at) for f in fired] == [(NOW + timedelta(hours=1),) * 2]
    assert trigger(desk).next_at == NOW + timedelta(hours=2)
    with pytest.raises(AlreadyFiredError):  # a worker that decided on a stale copy
        desk.app.load(Trigger, ident).fire(NOW + timedelta(hours=1), desk.app.clock(),
                                           task_id, EventMeta.for_command("altlas:w2"))


def test_firings_missed_while_no_worker_ran_are_skipped_and_recorded(desk: Desk) -> None:
    schedule(desk, late="skip")
    at(desk, NOW + timedelta(hours=5, minutes=30))
    assert desk.app.fire_trigger(trigger_id("disk-hourly")) is None
    [missed] = [e for e in desk.app.events.get(trigger_id("disk-hourly"))
                if isinstance(e, Trigger.Missed)]
    assert len(missed.scheduled) == 5 and missed.reason == "missed while no worker ran"
    assert trigger(desk).next_at == NOW + timedelta(hours=6)


def test_firings_missed_while_no_worker_ran_run_once_late(desk: Desk) -> None:
    schedule(desk, late="run_once")
    at(desk, NOW + timedelta(hours=5, minutes=30))
    assert desk.app.fire_trigger(trigger_id("disk-hourly")) is not None
    assert desk.app.fire_trigger(trigger_id("disk-hourly")) is None
    events = list(desk.app.events.get(trigger_id("disk-hourly")))
    assert sum(isinstance(e, Trigger.Fired) for e in events) == 1
    assert trigger(desk).next_at == NOW + timedelta(hours=6)


@pytest.mark.parametrize(("overlap", "fired", "missed"), [
    ("allow", 2, 0), ("skip", 1, 1), ("queue", 1, 0)])
def test_a_firing_while_the_last_run_still_goes_follows_the_overlap_policy(
        desk: Desk, overlap: str, fired: int, missed: int) -> None:
    schedule(desk, overlap=overlap)
    ident = trigger_id("disk-hourly")
    at(desk, NOW + timedelta(hours=1))
    desk.app.fire_trigger(ident)  # its run is never started here: it still goes
    at(desk, NOW + timedelta(hours=2))
    desk.app.fire_trigger(ident)
    events = list(desk.app.events.get(ident))
    assert sum(isinstance(e, Trigger.Fired) for e in events) == fired
    assert sum(isinstance(e, Trigger.Missed) for e in events) == missed
    if overlap == "queue":  # it waits for the run to end, still due
        assert trigger(desk).next_at == NOW + timedelta(hours=2)


def test_the_owner_cannot_approve_what_their_trigger_asked_for(desk: Desk) -> None:
    desk.uc.publish_runbook("alice", RESTART)
    desk.uc.vote("bob", desk.uc.runbook("bob", "restart")["pending"]["approval_id"])
    desk.settle()
    desk.uc.create_trigger("alice", "nightly-restart", "restart",
                           {"host": "web-1", "service": "web"}, cron="0 3 * * *")
    at(desk, datetime(2026, 12, 4, 3, 0, tzinfo=UTC))
    task_id = desk.app.fire_trigger(trigger_id("nightly-restart"))
    assert task_id is not None
    desk.settle()
    waiting = desk.app.get_run(run_id_of(UUID(str(task_id)))).steps[0].approval_id
    assert waiting is not None
    with pytest.raises(AuthorCannotApproveError):
        desk.uc.vote("alice", waiting)
    assert desk.uc.vote("bob", waiting).votes == ["bob"]


def test_a_trigger_for_parameters_its_runbook_refuses_is_never_created(desk: Desk) -> None:
    with pytest.raises(Exception, match="parameter host"):
        desk.uc.create_trigger("alice", "bad", "disk-check", {"host": "web-9", "threshold": 90},
                               every_seconds=3600)
    assert not desk.app.exists(trigger_id("bad"))


def test_a_trigger_that_shares_its_runbooks_turn_still_fires(desk: Desk) -> None:
    """Commands on one aggregate take turns on one of 64 locks: a firing holds the trigger's
    and reads the runbook, whose lock may be the same one."""
    shared = next(f"t-{i}" for i in range(10_000)
                  if trigger_id(f"t-{i}").int % 64 == runbook_id("disk-check").int % 64)
    schedule(desk, shared)
    at(desk, NOW + timedelta(hours=1))
    fired: list[UUID | None] = []
    thread = threading.Thread(target=lambda: fired.append(
        desk.app.fire_trigger(trigger_id(shared))), daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive() and fired[0] is not None
