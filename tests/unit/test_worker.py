"""The worker with fakes for its ports: it runs what it claims, expires what is due, and
takes over from workers that are gone."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest

from application.app import AltlasApplication
from application.core import run_id_of
from application.ports import StepContext, StepOutcome, WorkerInfo
from application.reactions import LANES, Ports
from application.reactor import Lane, begin_tracking
from application.segmentation import SegmentationService
from application.worker import Worker
from domain.plan import PlanStep
from domain.run import Run
from testkit.fakes.ports import FakeExecutor, FakePersonKeys, FakeReads, FakeRegistry, FakeSegmenter
from testkit.helpers import FakeClock, default_policy, step

PLANS = {
    "check disk on this host, then its load": [step("a", action="df -h"),
                                               step("b", action="uptime", needs=["a"])],
    "check disk on this host, then set the maintenance flag": [step("a", action="df -h"),
             step("b", action="touch /srv/maintenance.flag", needs=["a"])],
    "show the load on this host": [step("a", action="uptime", retries=2)],
}


class Bench:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.app = AltlasApplication(default_policy(), self.clock,
                                     env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                     keys=FakePersonKeys())
        begin_tracking(self.app, LANES)
        self.executor = FakeExecutor()
        self.registry = FakeRegistry()
        self.reads = FakeReads(self.app)
        self.ports = Ports(SegmentationService(self.app, FakeSegmenter(PLANS), None))

    def worker(self) -> Worker:
        worker = Worker(self.app, self.ports, {"local": self.executor}, self.registry,
                        lambda: self.reads, lease=timedelta(seconds=15), idle_seconds=0.01)
        worker.steps.backoff_s = 0.01
        return worker

    def ask(self, request: str) -> UUID:
        task_id = self.app.request_task(request, "deniz", environment="prod")
        self.reads.runs.append(run_id_of(task_id))
        return task_id

    def run(self, task_id: UUID) -> Run:
        return self.app.load(Run, run_id_of(task_id))


@pytest.fixture
def bench() -> Iterator[Bench]:
    found = Bench()
    yield found
    found.app.close()


def test_a_worker_runs_what_it_claims_in_order_until_nothing_is_left(bench: Bench) -> None:
    task_id = bench.ask("check disk on this host, then its load")
    worker = bench.worker()
    worker.until_quiet()
    run = bench.run(task_id)
    assert run.outcome == "succeeded" and bench.executor.ran == ["df -h", "uptime"]
    assert {s.worker for s in run.steps.values()} == {worker.id}
    assert worker.id not in bench.registry.alive_ids  # it left when it was done


def test_a_failing_step_is_retried_by_the_worker_that_holds_it(bench: Bench) -> None:
    bench.executor.failing = frozenset({"uptime"})
    task_id = bench.ask("show the load on this host")
    bench.worker().until_quiet()
    step = bench.run(task_id).steps["a"]
    assert bench.executor.ran == ["uptime"] * 3  # one try and its two retries
    assert (step.status, step.attempts) == ("failed", 3)


def test_steps_held_by_a_worker_that_is_gone_are_taken_over(bench: Bench) -> None:
    task_id = bench.ask("check disk on this host, then set the maintenance flag")
    first = bench.worker()
    lanes = [Lane(bench.app, name, kinds, bench.ports, worker=first.id,
                  on_claims=lambda claims: None) for name, kinds in LANES.items()]
    while sum(lane.poll() for lane in lanes):  # it claims the read-only step, then dies
        pass
    assert bench.run(task_id).steps["a"].worker == first.id
    bench.registry.alive_ids.add(first.id)
    second = bench.worker()
    assert second.recover() == []  # alive: its steps are its own
    bench.registry.alive_ids.discard(first.id)
    assert second.recover() == [(str(run_id_of(task_id)), "a")]
    second.until_quiet()
    run = bench.run(task_id)
    assert run.steps["a"].status == "succeeded" and run.steps["a"].worker == second.id
    assert run.steps["a"].interruptions == 1


def test_approvals_nobody_decided_in_time_are_expired(bench: Bench) -> None:
    task_id = bench.ask("check disk on this host, then set the maintenance flag")
    worker = bench.worker()
    worker.until_quiet()
    approval_id = UUID(str(bench.run(task_id).steps["b"].approval_id))
    bench.reads.approvals.append(approval_id)
    assert worker.expire_due() == []
    bench.clock.advance(minutes=16)
    assert worker.expire_due() == [str(approval_id)]
    worker.until_quiet()
    run = bench.run(task_id)
    assert run.outcome == "cancelled" and "expired" in str(run.steps["b"].error)


class Stuck(FakeExecutor):
    """A step that does not return until the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        self.started.set()
        await asyncio.sleep(60)
        return await super().execute(step, context)


def test_a_stopping_worker_records_what_it_could_not_finish(bench: Bench) -> None:
    bench.executor = Stuck()
    task_id = bench.ask("check disk on this host, then set the maintenance flag")
    worker = bench.worker()
    worker.stop_timeout = 0.1
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    assert bench.executor.started.wait(10)
    stop.set()
    thread.join(timeout=10)
    step = bench.run(task_id).steps["a"]
    # read-only: free to run again, by whichever worker comes next
    assert (step.status, step.interruptions, step.retrying) == ("pending", 1, False)
    assert worker.id not in bench.registry.alive_ids


class Beats(FakeRegistry):
    """Notes when each lease was renewed."""

    def __init__(self) -> None:
        super().__init__()
        self.at: list[float] = []

    def beat(self, worker: WorkerInfo) -> None:
        super().beat(worker)
        self.at.append(time.monotonic())


def test_a_worker_renews_its_lease_while_its_housekeeping_takes_long(bench: Bench) -> None:
    bench.registry = Beats()
    worker = Worker(bench.app, bench.ports, {"local": bench.executor}, bench.registry,
                    lambda: bench.reads, lease=timedelta(seconds=0.3), idle_seconds=0.01)
    slow = threading.Event()

    def recover() -> list[tuple[str, str]]:  # catching the views up on a busy machine
        slow.wait(1.5)
        return []

    worker.recover = recover  # type: ignore[method-assign]
    stop = threading.Event()
    running = threading.Thread(target=worker.run, args=(stop,))
    running.start()
    time.sleep(1.2)
    stopped = time.monotonic()
    stop.set()
    slow.set()
    running.join(timeout=10)
    beats = [t for t in bench.registry.at if t < stopped]
    assert len(beats) >= 5  # one every third of the lease, housekeeping or not
    assert max(b - a for a, b in itertools.pairwise(beats)) < 0.3  # never a lease without one
