"""`altlas demo`: one complete journey through the real application. A request is recorded;
the worker's reactions plan it with the configured segmenter, gate it by the policy and run
what may run, on this host with `local` steps (allow-listed commands, no shell); people
vote through the same use case every front calls, and the run moves on by itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO
from uuid import UUID

from altlas.bootstrap import System
from altlas.render import events_table
from application.core import run_id_of
from application.presenters import PlanModel
from application.text import approval_text, plan_step_line, run_step_line, short
from domain.errors import DomainError

REQUEST = "check disk and load on the altlas host, then set its maintenance flag"
REQUESTER, APPROVERS = "deniz", ("alice", "bob")


@dataclass(frozen=True)
class Demo:
    """How the journey ended, for `altlas demo --json`."""

    task: str
    run: str | None
    outcome: str | None
    events: int
    verified: bool

    @property
    def ok(self) -> bool:
        return self.verified and self.outcome == "succeeded"


def run_demo(system: System, out: TextIO, locale: str = "en") -> Demo:
    app, history, use_cases = system.app, system.history, system.use_cases()
    worker = system.worker()

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    store = (f"SQLite in {system.settings.data_dir}" if system.settings.backend == "sqlite"
             else "PostgreSQL")
    say(f"altlas demo — event store: {store}")
    say()
    system.settings.data_dir.mkdir(parents=True, exist_ok=True)
    flag = system.settings.data_dir / "maintenance.flag"
    flag.unlink(missing_ok=True)
    task_id = UUID(use_cases.request_work(REQUESTER, REQUEST, environment="prod",
                                          source="demo").id)
    say(f"1. request   {REQUESTER}: \"{REQUEST}\"")
    say(f"             → TaskRequested, task {short(str(task_id))}; the worker takes it from "
        "here")

    worker.until_quiet()
    task = app.get_task(task_id)
    if task.status != "segmented":
        say(f"2. plan      rejected: {task.rejection}")
        return Demo(str(task_id), None, "rejected", 0, verified=False)
    fallback = f" (fell back: {task.fallback_reason})" if task.fallback_reason else ""
    say(f"2. plan      by the {task.segmenter} segmenter{fallback}; each step classified "
        "by the policy → TaskSegmented")
    for planned in PlanModel.of(task).steps:
        say(f"             {plan_step_line(planned)}")

    run_id = run_id_of(task_id)
    run = use_cases.run_model(run_id)
    gated = next(s for s in run.steps if s.approval_id)
    approval_id = UUID(str(gated.approval_id))
    say(f"3. run       run {short(str(run_id))} started by policy; approval "
        f"{short(str(approval_id))} opened for {gated.id} ({gated.risk})")
    for step in run.steps:
        say(f"             {run_step_line(step, locale)}")
    say()
    for line in approval_text(app.get_approval(approval_id), locale, app.clock()).splitlines():
        say(f"   {line}")
    say()
    say("4. approvals (each click through the use case every front calls)")
    for voter in (APPROVERS[0], REQUESTER, APPROVERS[0], APPROVERS[1]):
        try:
            view = use_cases.vote(voter, str(approval_id))
        except DomainError as refusal:
            say(f"             {voter:<6} clicks Approve → refused: {refusal}")
            continue
        state = ("granted" if view.status == "granted"
                 else f"{len(view.votes)} of {view.required}, {view.remaining} more needed")
        say(f"             {voter:<6} clicks Approve → {state}")

    worker.until_quiet()
    result = use_cases.run_model(run_id)
    say(f"5. result    run {short(str(run_id))} {result.outcome}; "
        f"maintenance flag {'set' if flag.exists() else 'NOT set'} at {flag}")
    for step in result.steps:
        say(f"             {run_step_line(step, locale)}")

    journey = [r for r in history.read() if r.correlation_id == task.correlation_id]
    say()
    say(f"6. events    {len(journey)} recorded for this journey (correlation "
        f"{short(task.correlation_id)}), refused clicks included")
    for line in events_table(app.privacy.reveal(journey)).splitlines():
        say(f"   {line}")
    report = history.verify()
    say()
    if report.ok:
        say(f"   hash chains verified: {report.events} events in {report.aggregates} aggregates, "
            "every hash recomputed and linked")
    else:
        say(f"   hash chains BROKEN: {len(report.breaks)} problem(s)")
        for problem in report.breaks:
            say(f"   - {problem}")
    return Demo(str(task_id), str(run_id), result.outcome, len(journey), report.ok)
