"""What the tasks and runs pages show: the listings as the API's /tasks and /runs give them,
and one run with its plan as a graph, its approvals and its timeline (the events of its task,
of itself and of its approvals, in the order they were recorded)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from adapters.pages.dag import Graph, layout
from application.snapshots import ApprovalView, RunView, TaskView
from application.use_cases import UseCases

TIMELINE_LIMIT = 500


@dataclass(frozen=True)
class RunPage:
    run: RunView
    task: TaskView
    planned: dict[str, dict[str, Any]]  # the plan's steps by id: what each runs, and when
    graph: Graph
    approvals: list[ApprovalView]
    timeline: list[dict[str, Any]]


def run_page(uc: UseCases, who: str, ref: str) -> RunPage:
    run = uc.run(who, ref)
    task = uc.task(who, run.task_id)
    planned = {s["id"]: s for s in (task.plan or {}).get("steps", [])}
    approvals = [uc.approval(who, s.approval_id) for s in run.steps if s.approval_id]
    graph = layout([asdict(s) for s in run.steps], planned)
    return RunPage(run, task, planned, graph, approvals, run_timeline(uc, who, run, approvals))


def run_timeline(uc: UseCases, who: str, run: RunView,
                 approvals: list[ApprovalView]) -> list[dict[str, Any]]:
    """The run's own events, its task's and its approvals', oldest first."""
    rows = [row for aggregate in (run.task_id, run.id, *(a.id for a in approvals))
            for row in uc.timeline(who, aggregate_id=aggregate, limit=TIMELINE_LIMIT)]
    return sorted(rows, key=lambda row: row["position"] or 0)
