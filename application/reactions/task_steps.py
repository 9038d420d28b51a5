"""A runbook's task step: it requests a new task instead of acting ("open a task if above 90%").

The task is requested by ``altlas:runbook:NAME`` on behalf of the run's requester and has no
plan: it is planned and gated like any request, so the step cannot choose its steps, its gates
or who asks. Its source names the step that asked (``step:RUN/STEP``), so how deep a chain of
such requests is can be read back, and the policy's depth bounds it: no step loops.
"""

from __future__ import annotations

from uuid import UUID

from application.core import Reaction
from domain.approval import Approval
from domain.base import EventMeta
from domain.conditions import evaluate
from domain.errors import DomainError
from domain.plan import PlanStep
from domain.run import Run
from domain.task import Task

STEP_SOURCE = "step:"  # the source of a task a step requested: step:RUN/STEP
RUNBOOK_SOURCE = "runbook:"  # the source of a runbook's run
RUNBOOK_ACTOR = "altlas:runbook:"
MAX_SHOWN = 600  # characters of the outputs that made it so, quoted in the request


def request_task(run: Run, step: PlanStep, r: Reaction, meta: EventMeta,
                 approval: Approval | None) -> None:
    """Record the task the step asks for and the step as done, together; a step that may
    not ask (outside a runbook, or beyond the policy's depth) is skipped, saying why."""
    parent = r.get(Task, run.task_id)
    refusal, depth = _refusal(parent, r)
    if refusal is not None:
        run.skip_step(step.id, refusal, meta)
        return
    requester = (parent.requester if parent.requester.startswith(RUNBOOK_ACTOR)
                 else RUNBOOK_ACTOR + parent.source.removeprefix(RUNBOOK_SOURCE))
    person = parent.on_behalf_of or parent.requester
    run.start_step(step.id, meta, r.worker, approval)
    try:
        task = Task.request_work(step.action, requester, EventMeta(
            requester, run.correlation_id, meta.causation_id), environment=parent.environment,
            source=f"{STEP_SOURCE}{run.id}/{step.id}", on_behalf_of=person,
            because=_because(run, step))
    except DomainError as e:
        run.fail_step(step.id, meta, error=f"the task was not requested: {e}", exit_code=None,
                      output="", duration_ms=0)
        return
    r.add(task)
    run.succeed_step(step.id, meta, exit_code=None, duration_ms=0,
                     output=f"requested task {task.id} (depth {depth + 1})",
                     facts={"task_id": str(task.id)})


def depth_of(task: Task, r: Reaction) -> int:
    """How many steps asked, one for the next, before this task: 0 for a person's."""
    depth = 0
    while task.source.startswith(STEP_SOURCE) and task.requester.startswith(RUNBOOK_ACTOR):
        run_id = task.source.removeprefix(STEP_SOURCE).split("/", 1)[0]
        task = r.get(Task, r.get(Run, UUID(run_id)).task_id)
        depth += 1
    return depth


def _refusal(parent: Task, r: Reaction) -> tuple[str | None, int]:
    if not (_runbook_run(parent) or parent.requester.startswith(RUNBOOK_ACTOR)):
        return "not run: a task step requests work only in a runbook's run", 0
    depth = depth_of(parent, r)
    limit = r.app.policy.task_depth
    if depth + 1 > limit:
        return (f"not run: this task was itself requested {depth} step(s) deep and the policy "
                f"allows {limit} (triggers.task_depth), so it asks for no more"), depth
    return None, depth


def _runbook_run(task: Task) -> bool:
    """A run of a published runbook: its plan is recorded as filled from the runbook, which
    a person naming their own task's source ``runbook:NAME`` cannot claim (no front lets a
    person name the segmenter)."""
    name = task.source.removeprefix(RUNBOOK_SOURCE)
    return task.source.startswith(RUNBOOK_SOURCE) and (
        (task.segmenter or "").startswith(f"{RUNBOOK_SOURCE}{name}@v"))


def _because(run: Run, step: PlanStep) -> str | None:
    """Why, beside the words planned: the condition as it held and the outputs it read."""
    condition = step.condition
    if condition is None:
        return None
    facts = {sid: s.facts for sid, s in run.steps.items()}
    outputs = "; ".join(f"{sid}: {run.steps[sid].output.strip()}"
                        for sid in sorted(condition.steps) if run.steps[sid].output.strip())
    said = evaluate(condition, facts).explanation
    return f"{said}; output {outputs[:MAX_SHOWN]}" if outputs else said
