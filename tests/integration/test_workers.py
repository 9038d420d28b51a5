"""`altlas worker` processes on one PostgreSQL store: they share the work, never run a step
twice, and when one is killed (-9) at any moment the others, or its restart, leave no run
waiting for ever and never run a change again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.core import run_id_of
from application.snapshots import RunView
from testkit.helpers import plan, side_effects_policy, step

pytestmark = pytest.mark.long(80)  # seconds, about

SEED = 20261130


class Workers:
    """Worker processes started like an operator would, on one store."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *, ready: bool = False) -> subprocess.Popen[bytes]:
        """A worker; with ``ready``, once it has started reacting (Python takes a second or
        two to load before that)."""
        path = self.logs / f"worker-{len(self.procs)}.log"
        with open(path, "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "altlas", "worker"], env=self.env,
                                    stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        deadline = time.monotonic() + 30
        while ready and b"reacting to events" not in path.read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, path.read_text()
            time.sleep(0.02)
        return proc

    def until_lanes_shared(self, timeout: float = 30) -> None:
        """Each worker says it follows lanes of its own (the first took them all, and
        shares them out within a second or two of the next one starting)."""
        deadline = time.monotonic() + timeout
        logs = [self.logs / f"worker-{i}.log" for i in range(len(self.procs))]
        while not all(b"following the" in path.read_bytes() for path in logs):
            assert time.monotonic() < deadline, [path.read_text() for path in logs]
            time.sleep(0.05)

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=60)


@pytest.fixture
def store(postgres_url: str, pg_schema: str, tmp_path: Path) -> Iterator[tuple[System, Any]]:
    policy, script = side_effects_policy(tmp_path)
    settings = Settings(database_url=f"{postgres_url}?schema={pg_schema}",
                        views_database_url=f"{postgres_url}?schema={pg_schema}v",
                        policy_file=policy, segmenter="rules", data_dir=tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    env.update(ALTLAS_DATABASE_URL=settings.database_url.get_secret_value(),  # type: ignore[union-attr]
               ALTLAS_VIEWS_DATABASE_URL=f"{postgres_url}?schema={pg_schema}v",
               ALTLAS_POLICY_FILE=str(policy), ALTLAS_SEGMENTER="rules",
               ALTLAS_DATA_DIR=str(tmp_path / "data"), ALTLAS_WORKER_LEASE_SECONDS="3",
               ALTLAS_LOG_LEVEL="INFO")
    workers = Workers(env, tmp_path)
    system = bootstrap(settings)
    yield system, (workers, script)
    workers.stop_all()
    system.close()


def submit(system: System, script: Path, out: Path, i: int, pause: float = 0.0) -> UUID:
    """A run with a read-only step and two changes; each change appends its line once."""
    extra = f" {pause}" if pause else ""
    task = system.app.submit_plan(f"run {i}", plan(
        step("look", action="sleep 0.05"),
        step("one", action=f"{script} {out} run{i}-one{extra}", needs=["look"]),
        step("two", action=f"{script} {out} run{i}-two{extra}", needs=["one"]),
    ), "deniz")
    return UUID(task.id)


def wait_for_runs(system: System, tasks: list[UUID], timeout: float) -> list[RunView]:
    deadline = time.monotonic() + timeout
    while True:
        runs = [system.app.get_run(run_id_of(t)) if system.app.exists(run_id_of(t)) else None
                for t in tasks]
        if all(r is not None and r.outcome for r in runs):
            return [r for r in runs if r is not None]
        waiting = [str(t)[:8] for t, r in zip(tasks, runs, strict=True)
                   if r is None or not r.outcome]
        assert time.monotonic() < deadline, f"runs still waiting: {waiting}"
        time.sleep(0.2)


def told(workers: Workers, what: object) -> str:
    """A failure's message: what went wrong, and what the workers logged meanwhile."""
    logs = "".join(path.read_text() for path in sorted(workers.logs.glob("worker-*.log")))
    return f"{what}\n{logs}"


def lines(out: Path) -> Counter[str]:
    return Counter(out.read_text().split()) if out.exists() else Counter()


def test_two_workers_share_fifty_runs_and_run_each_step_once(
    store: tuple[System, Any], tmp_path: Path
) -> None:
    system, (workers, script) = store
    out = tmp_path / "side-effects.txt"
    workers.start(ready=True)
    workers.start(ready=True)
    workers.until_lanes_shared()
    tasks = [submit(system, script, out, i) for i in range(50)]
    runs = wait_for_runs(system, tasks, timeout=180)
    assert {r.outcome for r in runs} == {"succeeded"}, told(workers, [
        (s.id, s.status, s.error) for r in runs if r.outcome != "succeeded" for s in r.steps])
    written = lines(out)
    assert written == Counter({f"run{i}-{s}": 1 for i in range(50) for s in ("one", "two")})
    holders = Counter(r.state["worker"] for r in system.history.read()
                      if r.type_name == "StepStarted")
    assert sum(holders.values()) == 150  # each step started once, by one worker
    assert len(holders) == 2, told(workers, f"one worker did all the work: {holders}")
    assert system.history.verify().ok


def test_a_worker_killed_at_random_moments_leaves_nothing_waiting_and_runs_no_change_twice(
    store: tuple[System, Any], tmp_path: Path
) -> None:
    """The soak: 20 runs (some asked in words, so planning is cut too), the worker killed
    with SIGKILL at seeded random moments and restarted each time."""
    system, (workers, script) = store
    out = tmp_path / "side-effects.txt"
    rng = random.Random(SEED)
    worker = workers.start(ready=True)
    tasks = []
    for i in range(20):
        if i % 5 == 4:
            tasks.append(system.app.request_task("check disk and load on the altlas host",
                                                 "deniz"))
        else:
            tasks.append(submit(system, script, out, i, pause=rng.choice((0.1, 0.3, 0.6))))
    kills = 0
    for _ in range(10):
        time.sleep(rng.uniform(0.0, 1.2))  # a moment in the middle of the work
        workers.kill(worker)
        kills += 1
        worker = workers.start(ready=True)
    runs = wait_for_runs(system, tasks, timeout=240)
    written = lines(out)
    assert all(n == 1 for n in written.values()), f"a change ran twice: {written}"
    for run in runs:
        for s in run.steps:
            if s.status == "failed":
                assert s.error is not None and "interrupted: the outcome is unknown" in s.error
    unknown = [s for r in runs for s in r.steps if s.error and "outcome is unknown" in s.error]
    outcomes = Counter(r.outcome for r in runs)
    assert outcomes["succeeded"] + outcomes["failed"] == 20 and kills == 10
    assert unknown, "no kill landed in a change: the soak tested nothing"
    # what did run is what the events say ran
    for run in runs:
        for s in run.steps:
            line = f"run{tasks.index(UUID(run.task_id))}-{s.id}"
            if s.id in ("one", "two") and s.status == "succeeded":
                assert written[line] == 1
            if s.status == "skipped":
                assert written[line] == 0
    assert system.history.verify().ok
    print(f"soak: {kills} kills, {outcomes}, {len(unknown)} step(s) of unknown outcome")
