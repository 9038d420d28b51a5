"""A worker: what moves altlas on by itself, in whatever process runs one.

It follows the events on the lanes of application/reactions/ and reacts to each once (across
every worker on the store), runs the steps it claimed, expires approvals whose time is up and
alerts whose endsAt passed with no resolved notice, and
takes over what workers that died left behind: a step one of them was running is run again if
it is read-only, or recorded as interrupted with its outcome unknown, never re-run silently.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from uuid import UUID, uuid4

from application.app import AltlasApplication
from application.core import SCHEDULER, TRAINER
from application.lane_shares import LaneShares
from application.ports import (
    ReadModels,
    SessionLocks,
    StepExecutor,
    WorkerInfo,
    WorkerRegistry,
)
from application.reactions import LANES, Ports
from application.reactor import Lane
from application.signal import AGAIN, IDLE, Outcome, Signal, follow
from application.steps import StepRunner
from domain.base import EventMeta
from domain.correlation import Ended
from domain.errors import ConflictError, DomainError
from domain.training import RUNNING, Training

log = logging.getLogger("altlas.worker")

# How often (seconds) a long-running worker looks at who is live and shares the lanes out.
SHARE_EVERY = 1.0


def new_worker_info() -> WorkerInfo:
    host = socket.gethostname()
    pid = os.getpid()
    return WorkerInfo(f"{host}:{pid}:{uuid4().hex[:6]}", host, pid, datetime.now(UTC))


class Worker:
    def __init__(self, app: AltlasApplication, ports: Ports,
                 executors: Mapping[str, StepExecutor], registry: WorkerRegistry,
                 reads: Callable[[], ReadModels], *, parallelism: int = 4,
                 lease: timedelta = timedelta(seconds=15), idle_seconds: float = 0.25,
                 stop_timeout: float = 30.0, wake: bool = True,
                 secrets: Mapping[str, str] | None = None,
                 training_heartbeat: timedelta = timedelta(seconds=120),
                 auto_train: Callable[[], object] | None = None,
                 alerts_due: Callable[[datetime], list[Ended]] | None = None,
                 locks: SessionLocks | None = None) -> None:
        self.app = app
        self.alerts_due = alerts_due  # alerts over by their endsAt, as the history says
        self.training_heartbeat = training_heartbeat
        self.auto_train = auto_train  # asks for a training once enough examples accumulated
        self.info = new_worker_info()
        self.registry = registry
        self.reads = reads
        self.lease = lease
        self.idle_seconds = idle_seconds
        self.stop_timeout = stop_timeout
        self.wake = wake  # woken when something is recorded; else it polls
        self.steps = StepRunner(app, executors, worker=self.id, parallelism=parallelism,
                                secrets=secrets)
        self.lanes = [Lane(app, name, kinds, ports, worker=self.id, on_claims=self.steps.submit)
                      for name, kinds in LANES.items()]
        # with several workers on one store, each lane is followed by one of them at a time
        self.shares = LaneShares(locks, list(LANES)) if locks is not None else None
        self._last_beat = 0.0

    @property
    def id(self) -> str:
        return self.info.id

    def reacting(self) -> bool:
        """A lane is reacting to an event right now."""
        return any(lane.busy for lane in self.lanes)

    # -- in a long-running process -----------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set: each lane in its own thread, housekeeping here."""
        self._beat()
        if self.shares is not None:
            for name, lane in zip(LANES, self.lanes, strict=True):
                lane.owns = partial(self.shares.owns, name)
        threads = [threading.Thread(target=self._follow, args=(lanes, stop), daemon=True,
                                    name=lanes[0].name) for lanes in self._threads()]
        threads.append(threading.Thread(target=self._heartbeat, args=(stop,), daemon=True,
                                        name="heartbeat"))
        for thread in threads:
            thread.start()
        log.info("worker %s: reacting to events and running steps", self.id)
        try:
            due = 0.0
            while not stop.is_set():
                self._share()
                self.fire_triggers()
                if time.monotonic() >= due:
                    self.housekeeping()
                    due = time.monotonic() + self.lease.total_seconds() / 3
                stop.wait(min(SHARE_EVERY, self.lease.total_seconds() / 3))
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            if self.shares is not None:
                self.shares.release_all()
            self._leave(self.stop_timeout, "its worker was stopped")

    def _heartbeat(self, stop: threading.Event) -> None:
        """Renew the lease on a thread of its own: housekeeping that takes long on a busy
        machine (catching the views up to find the claimed steps) must not make the others
        count this worker gone and interrupt the changes it is running."""
        while not stop.wait(self.lease.total_seconds() / 3):
            try:
                self._beat()
            except Exception:
                log.exception("worker %s: renewing its lease failed; trying again", self.id)

    def _threads(self) -> list[list[Lane]]:
        """The lanes each thread follows. Shared among workers (PostgreSQL), a lane has a
        thread of its own; a worker alone on the embedded store follows the shares of one
        lane in one thread, taking turns (two would only wait for SQLite's one writer)."""
        if self.shares is not None:
            return [[lane] for lane in self.lanes]
        grouped: dict[str, list[Lane]] = {}
        for name, lane in zip(LANES, self.lanes, strict=True):
            grouped.setdefault(name.partition(".")[0], []).append(lane)
        return list(grouped.values())

    def _follow(self, lanes: list[Lane], stop: threading.Event) -> None:
        def step() -> Outcome:
            try:
                return AGAIN if sum(lane.poll() for lane in lanes) else IDLE
            except Exception:
                log.exception("%s: reading new events failed; trying again", lanes[0].name)
                return 1.0

        follow(stop, self._wake(), step, self.idle_seconds)

    def _wake(self) -> Signal | None:
        return self.app.recorded if self.wake else None

    # -- in a command that waits for its effects -------------------------------------

    def until_quiet(self, stop: threading.Event | None = None) -> None:
        """React and run steps until nothing is left to do (or ``stop`` is set): for the
        command line on the embedded default, where no long-running worker may be there."""
        stop = stop or threading.Event()
        self._beat()
        def step() -> Outcome:
            if sum(lane.poll() for lane in self.lanes):
                return AGAIN
            if self.steps.busy:  # what they record comes next
                self._beat(every=self.lease.total_seconds() / 3)
                return IDLE
            return AGAIN if any(lane.pending() for lane in self.lanes) else None

        try:
            self.housekeeping()
            follow(stop, self._wake(), step, self.idle_seconds)
        finally:
            self._leave(0.0, "the command that ran it stopped")

    # -- housekeeping ----------------------------------------------------------------

    def _share(self) -> None:
        """Hold an even share of the lanes for the workers live now: a worker that just
        started gets its share within a second or two, not a lease later."""
        if self.shares is None:
            return
        try:
            self.shares.share(len(self.registry.live()))
        except Exception:
            log.exception("worker %s: sharing the lanes out failed; trying again", self.id)

    def housekeeping(self) -> None:
        """Renew this worker's lease, take over what dead workers left, expire approvals."""
        try:
            self._beat()
            self.recover()
            self.expire_due()
            self.expire_alerts()
            self.fail_stopped_trainings()
            if self.auto_train is not None:
                self.auto_train()
        except Exception:
            log.exception("worker %s: housekeeping failed; trying again later", self.id)

    def fire_triggers(self) -> list[UUID]:
        """Run the runbooks whose triggers are due, each firing once across every worker
        (the trigger's own optimistic concurrency decides); checked every second. Each
        worker takes the due ones in an order of its own, so that two rarely race one."""
        fired = []
        try:
            due = self.reads().triggers(due_by=self.app.clock())
            random.shuffle(due)
            for row in due:
                try:
                    task_id = self.app.fire_trigger(UUID(row["trigger_id"]))
                except DomainError as e:
                    log.warning("trigger %s: not fired: %s", row["name"], e)
                    continue
                if task_id is not None:
                    fired.append(task_id)
        except Exception:
            log.exception("worker %s: firing triggers failed; trying again", self.id)
        return fired

    def recover(self) -> list[tuple[str, str]]:
        """Steps held by workers that are gone: run again or recorded as interrupted."""
        taken = []
        for run_id, step_id, holder in self.reads().claimed_steps():
            if holder == self.id or self.registry.alive(holder):
                continue
            try:
                self.app.interrupt_step(UUID(run_id), step_id, worker=holder,
                                        why=f"worker {holder} stopped")
            except DomainError as e:
                log.info("step %s of run %s: not taken over: %s", step_id, run_id, e)
                continue
            log.warning("step %s of run %s: its worker %s is gone", step_id, run_id, holder)
            taken.append((run_id, step_id))
        return taken

    def fail_stopped_trainings(self) -> list[str]:
        """Trainings whose worker process said nothing for too long (killed, or its machine
        gone): TrainingFailed, so nobody waits for them."""
        now = self.app.clock()
        failed = []
        for ident in self.reads().open_trainings():
            training = self.app.load(Training, UUID(ident))
            if (training.status != RUNNING or training.beat is None
                    or now - training.beat < self.training_heartbeat):
                continue
            reason = (f"the training worker {training.worker} stopped: nothing heard from it "
                      f"since {training.beat:%H:%M:%S} UTC (step {training.step})")

            def fail(t: Training, m: EventMeta, why: str = reason) -> None:
                t.fail(why, m)

            try:
                self.app.change_training(UUID(ident), TRAINER, fail)
            except DomainError as e:
                log.info("training %s: not failed: %s", ident, e)
                continue
            log.warning("training %s: %s", ident, reason)
            failed.append(ident)
        return failed

    def expire_due(self) -> list[str]:
        """Approvals nobody decided in time: expired, and their runs move on by policy; and
        questions nobody answered in time."""
        now = self.app.clock()
        approvals = [(r["approval_id"], r["expires_at"]) for r in self.reads().open_approvals()]
        questions = []
        for row in self.reads().list_tasks(status="asking", requester=None, since=None,
                                           limit=200, before=None):
            question = self.app.get_task(UUID(row["task_id"])).question
            if question is not None:
                questions.append((row["task_id"], question["expires_at"]))
        return (self._expire("approval", approvals, now,
                             lambda i: self.app.expire_approval(i, actor=SCHEDULER))
                + self._expire("the question of task", questions, now,
                               lambda i: self.app.expire_question(i, actor=SCHEDULER)))

    def expire_alerts(self) -> list[str]:
        """Alerts whose endsAt passed with no resolved notice (in a quiet hour: when alerts
        keep coming, correlating them finds these first): AlertExpired, and their incidents
        follow."""
        if self.alerts_due is None:
            return []
        expired = []
        for ended in self.alerts_due(self.app.clock()):
            if self.app.expire_alert(UUID(ended.key), ended.at, ended.reason, ended.incident):
                log.info("alert %s expired: %s", ended.key, ended.reason)
                expired.append(ended.key)
        return expired

    @staticmethod
    def _expire(what: str, due: list[tuple[str, str]], now: datetime,
                expire: Callable[[UUID], object]) -> list[str]:
        expired = []
        for ident, expires_at in due:
            if datetime.fromisoformat(expires_at) > now:
                continue
            try:
                expire(UUID(ident))
            except ConflictError:
                continue  # decided or answered meanwhile
            log.info("%s %s expired", what, ident)
            expired.append(ident)
        return expired

    def _beat(self, every: float = 0.0) -> None:
        if time.monotonic() - self._last_beat >= every:
            self.registry.beat(self.info)
            self._last_beat = time.monotonic()

    def _leave(self, wait: float, why: str) -> None:
        """Let running steps finish for ``wait`` seconds; those that do not are interrupted,
        as another worker would record them, and the lease ends."""
        for run_id, step_id in self.steps.stop(wait):
            try:
                self.app.interrupt_step(run_id, step_id, worker=self.id, why=why)
            except DomainError as e:
                log.warning("step %s of run %s: %s", step_id, run_id, e)
        self.registry.leave(self.id)
