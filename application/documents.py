"""The .alt and .last documents: views of the recorded events, checked by their JSON Schemas."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from application.snapshots import RunView, TaskView
from domain.errors import InvalidInputError
from domain.plan import Plan, PlanError
from domain.policy import Policy
from domain.secrets import plan_problems, redact, scope_problems


@cache
def _validator(name: str) -> Draft202012Validator:
    text = resources.files("altlas").joinpath(f"schemas/{name}.schema.json").read_text()
    return Draft202012Validator(json.loads(text))


def schema_errors(document: Any, name: str = "alt") -> list[str]:
    """Every schema violation, each as ``$.json.path: what is wrong``, in document order;
    a credential the message quotes is taken out (a refusal may be recorded, or logged)."""
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [redact(f"{e.json_path}: {e.message}") for e in errors]


def plan_checked(document: Any, policy: Policy, at: str = "$") -> tuple[Plan, dict[str, Any]]:
    """The checks of every path that records a plan (ARCHITECTURE.md §8): a hand-written or
    segmenter's plan, a remediation, an arena side, an .atlas import. The plan parses, its
    params match their kind's schema (nothing malformed reaches an executor), it holds no
    credential (the history would keep it for ever) and sends each secret only where its
    scope allows. Raises PlanError or DocumentError naming each problem's JSON path, ``at``
    the plan's place in the document it came in."""
    try:
        plan = Plan.from_document(document)
    except PlanError as e:
        raise PlanError(at + e.path[1:], e.problem) from None
    doc = plan.to_document()
    problems = (schema_errors(doc) + plan_problems(doc)
                + scope_problems(doc, policy.secrets, policy.local_host))
    if problems:
        raise DocumentError([at + problem[1:] for problem in problems])
    return plan, doc


def alt_document(task: TaskView) -> dict[str, Any]:
    """A task's plan as an .alt document, with the gate the policy chose for each step."""
    if task.plan is None:
        raise NotSegmentedError(f"task {task.id} is {task.status}: it has no plan yet")
    gates = {g["step_id"]: g for g in task.gates}
    steps = []
    for step in task.plan["steps"]:
        gate = gates[step["id"]]
        steps.append({**step, "environment": gate["environment"], "gate": {
            "kind": gate["gate"], "required": gate["required"], "eligible": gate["eligible"],
            "reason": gate["reason"]}})
    doc: dict[str, Any] = {
        "alt": 1, "task_id": task.id, "request": task.request, "requester": task.requester,
        "mode": task.mode, "persona": task.persona, "environment": task.environment,
        "segmenter": task.segmenter or "", "steps": steps,
    }
    if task.chaos_level is not None:
        doc["chaos_level"] = task.chaos_level
    return doc


def last_document(run: RunView, task: TaskView) -> dict[str, Any]:
    """What a run did, step by step, as a .last document."""
    planned = {s["id"]: s for s in (task.plan or {}).get("steps", [])}
    return {
        "last": 1, "run_id": run.id, "task_id": run.task_id, "request": task.request,
        "requester": task.requester, "outcome": run.outcome,
        "started_at": run.started_on.isoformat() if run.started_on else None,
        "updated_at": run.modified_on.isoformat() if run.modified_on else None,
        "summary": run.summary,
        "steps": [{
            "id": s.id, "kind": s.kind, "action": planned.get(s.id, {}).get("action", ""),
            "target": planned.get(s.id, {}).get("target"), "risk": s.risk, "gate": s.gate,
            "approval_id": s.approval_id, "status": s.status, "attempts": s.attempts,
            "exit_code": s.exit_code, "duration_ms": s.duration_ms, "error": s.error,
            "output": s.output, "facts": s.facts, "redacted": s.redacted,
        } for s in run.steps],
    }


class NotSegmentedError(InvalidInputError):
    """An .alt export of a task that has no plan (yet, or ever: it was rejected)."""


class DocumentError(InvalidInputError):
    """A document breaks its schema; the message lists each problem with its JSON path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def checked_plan(document: Any) -> dict[str, Any]:
    """The steps of an .alt document that passes its schema (annotations dropped: the policy
    decides gates again); raises DocumentError listing every schema problem."""
    problems = schema_errors(document)
    if problems:
        raise DocumentError(problems)
    steps = [{k: v for k, v in s.items() if k not in ("gate", "environment")}
             for s in document["steps"]]
    return {"alt": 1, "steps": steps}
