"""Following a request from the command line: what altlas does with it, as it happens.

The command records what the person asked, then reads the events that follow, printing the
plan, each step as it finishes, what waits for people, and the result. Where no worker is
running (the embedded default, or a store no worker serves), the command runs one itself
until the work it can do is done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from altlas.bootstrap import System
from altlas.progress import Waiting
from application.core import run_id_of
from application.errors import NotFoundError
from application.presenters import PlanModel, RunModel
from application.signal import IDLE, Outcome, follow
from application.snapshots import RunView, TaskView
from application.text import output_lines, plan_text, question_text, run_step_line, run_text
from domain.records import RecordedEvent

STEP_ENDS = frozenset({"StepSucceeded", "StepFailed", "StepSkipped", "StepInterrupted"})


@dataclass
class Followed:
    """Where a request stands when the command stops following it."""

    task: TaskView
    run: RunView | None

    @property
    def failed(self) -> bool:
        if self.task.status in ("rejected", "unanswered"):
            return True
        return self.run is not None and self.run.outcome in ("failed", "cancelled")


def waited_for(state: Followed) -> str | None:
    """What a request waits for that takes time by itself: its plan, or its running steps
    (waits for people are printed as such, and do not count)."""
    task, run = state.task, state.run
    if task.status == "requested":
        return "planning the request"
    if run is None or run.outcome is not None:
        return None
    planned = {step["id"]: step for step in (task.plan or {}).get("steps", [])}
    running = [planned.get(step.id, {"id": step.id}) for step in run.steps
               if step.status == "running"]
    if not running:
        return None
    return "running " + ", ".join(
        f"{step['id']} ({step.get('action', '?')} on {step.get('target', '?')})"
        for step in running)


def worker_running(system: System) -> bool:
    """Whether a worker (`altlas worker`, or the one inside `altlas serve`) would take
    what is recorded now."""
    return bool(system.registry().live())


class Follower:
    def __init__(self, system: System, locale: str,
                 say: Callable[[str], None] | None = None,
                 waiting: Waiting | None = None) -> None:
        self.system = system
        self.locale = locale
        self.say = say
        self.waiting = waiting

    def request(self, task_id: UUID, after: int) -> Followed:
        """From the request to its plan, its run's steps, and its end (or its wait for
        people)."""
        return self._follow(task_id, after, show_plan=True)

    def run(self, task_id: UUID, after: int) -> Followed:
        """A run taken on after a vote: its steps and its end."""
        return self._follow(task_id, after, show_plan=False)

    def settle(self) -> None:
        """Let the reactions to what was just recorded happen, where no worker runs."""
        if self._needs_worker():
            self.system.worker().until_quiet()

    def _follow(self, task_id: UUID, after: int, *, show_plan: bool) -> Followed:
        app = self.system.app
        correlation = app.get_task(task_id).correlation_id
        self.system.wake_on_other_processes()  # the workers may be elsewhere
        thread = None
        stop = threading.Event()
        if self._needs_worker():
            thread = threading.Thread(target=self.system.worker().until_quiet, args=(stop,),
                                      daemon=True, name="cli-worker")
            thread.start()
        position = after
        state = self._state(task_id)

        def step() -> Outcome:
            nonlocal position, state
            for record in self.system.history.read(after=position):
                position = record.position or position
                if record.correlation_id == correlation:
                    self._show(record, show_plan)
            state = self._state(task_id)
            if self.waiting is not None:
                self.waiting.update(waited_for(state))
            return None if self._settled(state, thread) else IDLE

        try:
            follow(threading.Event(), app.recorded, step, 0.25)  # until settled
            return state
        finally:
            if self.waiting is not None:
                self.waiting.clear()
            stop.set()  # interrupted (Ctrl-C): the steps still running are recorded as such
            if thread is not None:
                thread.join()

    def _needs_worker(self) -> bool:
        return self.system.local_store or not worker_running(self.system)

    def _state(self, task_id: UUID) -> Followed:
        task = self.system.app.get_task(task_id)
        try:
            run = self.system.app.get_run(run_id_of(task_id))
        except NotFoundError:
            run = None
        return Followed(task, run)

    def _settled(self, state: Followed, worker: threading.Thread | None) -> bool:
        """Nothing more happens without people: rejected, a dream, done, or every step left
        waits for an approval (and this command's worker has finished what it could)."""
        if worker is not None and worker.is_alive():
            return False
        task, run = state.task, state.run
        if task.status in ("rejected", "asking", "unanswered") or (
                task.status == "segmented" and task.mode == "dream"):
            return True
        if run is None:
            return False
        if run.outcome is not None:
            return True
        undecided = [s for s in run.steps if s.status in ("pending", "running")]
        return bool(undecided) and all(
            s.status == "pending" and s.approval_id is not None for s in undecided)

    def _show(self, record: RecordedEvent, show_plan: bool) -> None:
        if self.say is None:
            return
        if self.waiting is not None:
            self.waiting.clear()  # a result never shares its line with the waiting one
        uc = self.system.use_cases(catch_up=False)
        kind = record.type_name
        if kind in ("TaskSegmented", "TaskRejected") and show_plan:
            self.say(plan_text(PlanModel.of(self.system.app.get_task(record.aggregate_id)),
                               self.locale))
        elif kind == "TaskClarificationRequested" and show_plan:
            self.say(question_text(self.system.app.get_task(record.aggregate_id), self.locale,
                                   "cli"))
        elif kind in STEP_ENDS:
            step_id = record.data["step_id"]
            run = uc.run_model(record.aggregate_id)
            step = next(s for s in run.steps if s.id == step_id)
            if step.status != "pending":  # a retry or a rerun comes later
                self.say("\n".join([run_step_line(step, self.locale), *output_lines(step)]))
        elif kind == "ApprovalRequested":
            run = uc.run_model(UUID(record.data["run_id"]))
            self._waiting(run, record.data["step_id"])
        elif kind == "RunCompleted":
            self.say(run_text(uc.run_model(record.aggregate_id), self.locale).splitlines()[0])

    def _waiting(self, run: RunModel, step_id: str) -> None:
        assert self.say is not None
        step = next(s for s in run.steps if s.id == step_id)
        self.say(run_step_line(step, self.locale))
