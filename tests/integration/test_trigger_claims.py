"""Triggers on PostgreSQL: two worker processes racing the same firings run each once, and
firings missed while no worker ran follow the trigger's policy on the store's own clock."""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from typing import Any
from uuid import UUID

import pytest

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from domain.triggers import trigger_id
from testkit.backends import Backend, OnPostgres
from testkit.helpers import FakeClock

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
FIRINGS = 30
DISK = {"host": {"kind": "host"}}
PLAN = {"alt": 1, "steps": [{"id": "up", "kind": "ssh", "action": "uptime",
                             "target": "{param:host}"}]}


class FixedClock:
    """A clock a spawned process can be given: always the same moment."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _racer(settings: dict[str, Any], names: list[str], barrier: Barrier, results: Any) -> None:
    system = bootstrap(Settings(**settings), clock=FixedClock(NOW + timedelta(hours=1)))
    try:
        barrier.wait(timeout=60)
        for name in names:
            results.put((name, str(system.app.fire_trigger(trigger_id(name)))))
    finally:
        system.close()


def _schedule(system: System, names: list[str], **options: Any) -> None:
    system.app.publish_runbook("uptime", PLAN, DISK, "alice")
    for name in names:
        system.app.create_trigger(name, "uptime", {"host": "web-1"}, "alice",
                                  every_seconds=3600, **options)


class TestTriggerClaims(OnPostgres):
    def test_two_workers_racing_each_firing_run_it_once(self, backend: Backend) -> None:
        names = [f"up-{i}" for i in range(FIRINGS)]
        system = backend.open(FixedClock(NOW))
        try:
            _schedule(system, names)
        finally:
            system.close()
        ctx = mp.get_context("spawn")
        barrier, results = ctx.Barrier(2), ctx.Queue()
        settings = backend.settings().model_dump()
        settings["database_url"] = settings["database_url"].get_secret_value()
        procs = [ctx.Process(target=_racer, args=(settings, names, barrier, results))
                 for _ in range(2)]
        for p in procs:
            p.start()
        answers = [results.get(timeout=120) for _ in range(2 * FIRINGS)]
        for p in procs:
            p.join(timeout=30)
            assert p.exitcode == 0
        won = Counter(name for name, task in answers if task != "None")
        assert won == Counter(names)  # exactly one of the two ran each firing
        system = backend.open()
        try:
            records = list(system.history.read())
        finally:
            system.close()
        fired = Counter(str(r.aggregate_id) for r in records if r.type_name == "TriggerFired")
        assert sorted(fired.values()) == [1] * FIRINGS
        tasks = [r for r in records if r.type_name == "TaskRequested"]
        assert len(tasks) == FIRINGS  # no task without its firing, none twice

    @pytest.mark.parametrize(("late", "fired", "missed"), [("skip", 0, 5), ("run_once", 1, 0)])
    def test_firings_missed_while_no_worker_ran_follow_the_stated_policy(
            self, backend: Backend, late: str, fired: int, missed: int) -> None:
        clock = FakeClock(NOW)
        system = backend.open(clock)
        try:
            _schedule(system, ["up"], late=late)
            clock.advance(hours=5, minutes=30)  # no worker ran for five firings
            system.worker().fire_triggers()
            system.worker().fire_triggers()  # a second look changes nothing
            records = [r for r in system.history.read()
                       if r.aggregate_id == trigger_id("up")]
            view = system.use_cases().trigger(None, "up")
        finally:
            system.close()
        assert sum(r.type_name == "TriggerFired" for r in records) == fired
        assert sum(len(r.data["scheduled"]) for r in records
                   if r.type_name == "TriggerMissed") == missed
        assert view["next_at"] == (NOW + timedelta(hours=6)).isoformat()
        assert UUID(view["id"]) == trigger_id("up")
