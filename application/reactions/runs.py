"""Reactions of runs: start them, run what may run, wait, skip, complete."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from application.core import RUNNER, Reaction, run_id_of
from application.reactions.common import Event, Ports, meta_of
from application.reactions.task_steps import request_task
from domain.approval import GRANTED, OPEN, Approval
from domain.conditions import evaluate
from domain.plan import Plan, PlanStep
from domain.risk import GateKind
from domain.run import AT_REST, MANUAL, PENDING, RUNNING, SUCCEEDED, Run
from domain.task import Task


def start_run(event: Task.Segmented, r: Reaction, ports: Ports) -> None:
    """Start the run, with an approval for each gated step, unless the task is a dream or
    its run was started by hand already."""
    task = r.get(Task, event.originator_id)
    if task.mode == "dream" or r.app.exists(run_id_of(task.id)):
        return
    run, approvals = r.app.open_run(task, meta_of(task, task.requester, event), r.now)
    r.add(run, *approvals)


def advance_run(event: Event, r: Reaction, ports: Ports) -> None:
    """Skip what cannot run, claim what may run now for this worker, complete the run when
    every step is decided."""
    run_id = event.originator_id
    if isinstance(event, Approval.Event):
        approval_run = r.get(Approval, event.originator_id).run_id
        if approval_run is None:
            return
        run_id = approval_run
    run = r.get(Run, run_id)
    if run.completed:
        return
    plan = Plan.from_document(r.get(Task, run.task_id).plan)
    meta = meta_of(run, RUNNER, event)
    progressed = True
    while progressed:  # a skip can decide the steps that need it
        progressed = False
        for step in plan.topological_order():
            state = run.steps[step.id]
            if state.status != PENDING or state.retrying:
                continue
            decision = _decide(run, step, r)
            if decision.action == "skip":
                run.skip_step(step.id, decision.reason, meta, cancelled=decision.cancelled)
                _withdraw_approval(run, step.id, decision.reason, r, event)
                progressed = True
            elif decision.action == "ask":
                asked = r.app.step_approval(r.get(Task, run.task_id), run.id, step.id, meta,
                                            r.now)
                run.ask_approval(step.id, asked.id, meta)
                r.add(asked)
            elif decision.action == "post":
                run.post_manual_step(step.id, decision.reason, meta)
                progressed = True
            elif decision.action == "run":
                approval_id = run.steps[step.id].approval_id
                approval = r.get(Approval, UUID(approval_id)) if approval_id else None
                if step.kind == "task":  # recorded with the run: requested exactly once
                    request_task(run, step, r, meta, approval)
                    progressed = True
                    continue
                run.start_step(step.id, meta, r.worker, approval)
                r.claim(run.id, step.id)
    if all(s.status in AT_REST for s in run.steps.values()):
        run.complete(meta, duration_ms=r.app.duration_ms(run))




@dataclass(frozen=True)
class _Decision:
    action: str  # "wait", "skip", "ask" (for its approval), "post" (to a person) or "run"
    reason: str = ""
    cancelled: bool = False


_WAIT = _Decision("wait")


_RUN = _Decision("run")


def _decide(run: Run, step: PlanStep, r: Reaction) -> _Decision:
    state = run.steps[step.id]
    stopped = run.stopped_by
    if stopped is not None:
        return _Decision("skip", f"not run: the run stopped at {stopped.id}, whose outcome is "
                         "unknown", cancelled=True)
    for dep in state.needs:
        need = run.steps[dep]
        if need.status in (PENDING, RUNNING):
            return _WAIT
        if need.status == MANUAL:
            return _Decision("skip", f"needs {dep}, which is left to a person; do this by "
                             "hand too once it is done")
        if need.status != SUCCEEDED:
            how = "was cancelled" if need.cancelled else need.status
            return _Decision("skip", f"needs {dep}, which {how}", need.cancelled)
    condition = step.condition
    if condition is not None:
        verdict = evaluate(condition, {sid: s.facts for sid, s in run.steps.items()})
        if verdict.holds is None:
            return _Decision("skip", f"condition {condition} cannot be decided: "
                             f"{verdict.explanation}")
        if not verdict.holds:
            return _Decision("skip", f"condition not met: {verdict.explanation}")
    if state.gate == GateKind.MANUAL.value:
        return _Decision("post", f"{state.risk}: altlas never runs this; a person does it by "
                         "hand and confirms it")
    if state.gate == GateKind.APPROVAL.value:
        if state.approval_id is None:  # its condition held just now: people are asked
            return _Decision("ask")
        approval = r.get(Approval, UUID(state.approval_id))
        if approval.status == OPEN:
            return _WAIT
        if approval.status != GRANTED:
            return _Decision("skip", f"approval {approval.id} {approval.decision_reason}",
                             cancelled=True)
    return _RUN


def _withdraw_approval(run: Run, step_id: str, reason: str, r: Reaction, event: Event) -> None:
    """Nobody should be asked to approve a step that will not run."""
    approval_id = run.steps[step_id].approval_id
    if approval_id is None:
        return
    approval = r.get(Approval, UUID(approval_id))
    if approval.is_open:
        approval.cancel(f"step skipped: {reason}", meta_of(approval, RUNNER, event))
