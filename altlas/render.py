"""Plain-text rendering of views for the terminal."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from application.views import ApprovalView, RunView, TaskView
from domain.records import RecordedEvent


def short(value: str | None, n: int = 8) -> str:
    return (value or "-")[:n]


def clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def task_text(task: TaskView) -> str:
    lines = [
        f"task {task.id}  {task.status}",
        f"  request   {task.request}",
        f"  by        {task.requester} via {task.source}, mode {task.mode}, "
        f"env {task.environment or '-'}",
    ]
    if task.rejection:
        lines.append(f"  rejected  {task.rejection}")
    if task.plan:
        lines.append(f"  plan      by {task.segmenter}")
        lines.extend("    " + line for line in plan_lines(task))
    return "\n".join(lines)


def plan_lines(task: TaskView) -> list[str]:
    assert task.plan is not None
    gates = {g["step_id"]: g for g in task.gates}
    out = []
    for step in task.plan["steps"]:
        gate = gates[step["id"]]
        needs = f" ← {','.join(step['needs'])}" if step["needs"] else ""
        where = f"@{gate['target']}" if gate["target"] else ""
        out.append(
            f"{step['id']:<4} {step['kind']:<6} {clip(step['action'], 38):<38}{where:<12}"
            f"{needs:<10} {gate['risk']:<11} {gate['gate']}"
            + (f" ({gate['required']} of {', '.join(gate['eligible'])})"
               if gate["gate"] == "approval" else "")
        )
    return out


def run_text(run: RunView, with_output: bool = False) -> str:
    lines = [f"run {run.id}  {run.outcome or 'in progress'}  (task {run.task_id})"]
    for s in run.steps:
        took = f"{s.duration_ms} ms" if s.duration_ms is not None else ""
        extra = f"  {s.error}" if s.error else ""
        lines.append(f"  {s.id:<4} {s.status:<10} {s.risk:<11} {took:>8}{extra}")
        if with_output and s.output.strip():
            for out_line in s.output.rstrip().splitlines()[:6]:
                lines.append(f"       | {out_line}")
    return "\n".join(lines)


def approval_text(a: ApprovalView, now: datetime) -> str:
    left = a.expires_at - now
    minutes = max(int(left.total_seconds() // 60), 0)
    time_left = f"{minutes} min left" if a.status == "open" else a.status
    votes = ", ".join(a.votes) or "nobody yet"
    return "\n".join([
        f"approval {a.id}  {a.status}  ({time_left})",
        f"  step      {a.step_id} of run {a.run_id}: {a.risk} in {a.environment}",
        f"  why       {a.reason}",
        f"  asked by  {a.requester}; approvers: {', '.join(a.eligible)}",
        f"  approved  {votes}; {a.remaining} more needed" if a.status == "open"
        else f"  approved  {votes}" + (f"; {a.decision_reason}" if a.decision_reason else ""),
    ])


def events_table(records: Iterable[RecordedEvent]) -> str:
    lines = [f"{'pos':>5}  {'time':<12} {'type':<17} {'aggregate':<9} {'v':>3}  "
             f"{'actor':<14} {'prevhash':<8} hash"]
    for r in records:
        lines.append(
            f"{r.position:>5}  {r.timestamp.strftime('%H:%M:%S.%f')[:12]:<12} "
            f"{r.type_name:<17} {short(str(r.aggregate_id)):<9} {r.version:>3}  "
            f"{clip(r.actor, 14):<14} {short(r.prevhash):<8} {short(r.hash)}"
        )
    return "\n".join(lines)
