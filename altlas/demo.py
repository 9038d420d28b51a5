"""`altlas demo`: one complete journey through the real application: the configured
segmenter plans a request, the policy gates it, the runner executes it on this host with
`local` steps (allow-listed commands, no shell), two people approve the risky step."""

from __future__ import annotations

from typing import TextIO
from uuid import UUID

from altlas.bootstrap import System
from altlas.render import approval_text, events_table, plan_lines, run_text, short
from domain.errors import DomainError

REQUEST = "check disk and load on the altlas host, then set its maintenance flag"
REQUESTER, APPROVERS = "deniz", ("alice", "bob")


def run_demo(system: System, out: TextIO) -> int:
    app, worker, history = system.app, system.worker, system.history

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    store = (f"SQLite in {system.settings.data_dir}" if system.settings.backend == "sqlite"
             else "PostgreSQL")
    say(f"altlas demo — event store: {store}")
    say()
    task_id = app.request_task(REQUEST, REQUESTER, environment="prod", source="demo")
    say(f"1. request   {REQUESTER}: \"{REQUEST}\"")
    say(f"             → TaskRequested, task {short(str(task_id))}")

    system.settings.data_dir.mkdir(parents=True, exist_ok=True)
    flag = system.settings.data_dir / "maintenance.flag"
    flag.unlink(missing_ok=True)
    task = system.segmentation.segment(task_id)
    if task.status != "segmented":
        say(f"2. plan      rejected: {task.rejection}")
        return 1
    fallback = f" (fell back: {task.fallback_reason})" if task.fallback_reason else ""
    say(f"2. plan      by the {task.segmenter} segmenter{fallback}; each step classified "
        "by the policy → TaskSegmented")
    for line in plan_lines(task):
        say(f"             {line}")

    run = app.start_run(task_id, actor=REQUESTER)
    run_id = UUID(run.id)
    gated = next(s for s in run.steps if s.approval_id)
    approval_id = UUID(str(gated.approval_id))
    say(f"3. run       run {short(run.id)} started; approval {short(str(approval_id))} opened "
        f"for {gated.id} ({gated.risk})")
    run = worker.advance(run_id)
    for s in run.steps:
        say(f"             {s.id} {s.status}" + (" — waiting for approval" if s.id == gated.id
                                                  else ""))
    say()
    for line in approval_text(app.get_approval(approval_id), app.clock()).splitlines():
        say(f"   {line}")
    say()
    say("4. approvals")
    for voter in (APPROVERS[0], REQUESTER, APPROVERS[0], APPROVERS[1]):
        try:
            view = app.cast_vote(approval_id, voter)
        except DomainError as refusal:
            say(f"             {voter:<6} clicks Approve → refused: {refusal}")
            continue
        state = ("granted" if view.status == "granted"
                 else f"{len(view.votes)} of {view.required}, {view.remaining} more needed")
        say(f"             {voter:<6} clicks Approve → {state}")

    run = worker.advance(run_id)
    say(f"5. result    run {short(run.id)} {run.outcome}; "
        f"maintenance flag {'set' if flag.exists() else 'NOT set'} at {flag}")
    for line in run_text(run, with_output=True).splitlines()[1:]:
        say(f"          {line}")

    correlation = app.get_task(task_id).correlation_id
    journey = [r for r in history.read() if r.correlation_id == correlation]
    say()
    say(f"6. events    {len(journey)} recorded for this journey (correlation {short(correlation)})")
    for line in events_table(journey).splitlines():
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
    return 0 if report.ok and run.outcome == "succeeded" else 1
