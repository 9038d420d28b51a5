"""The .alt and .last documents: views of the recorded events, checked by their JSON Schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from application.snapshots import RunView, TaskView
from domain.errors import ConflictError, InvalidInputError, NotAllowedError
from domain.plan import Plan, PlanError
from domain.policy import Policy
from domain.secrets import plan_problems, redact, scope_problems


def _schema(name: str) -> dict[str, Any]:
    text = resources.files("altlas").joinpath(f"schemas/{name}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


# What JSON Schema's patterns (ECMA-262) mean by these, which Python's re reads otherwise:
# its \s and \d take more characters, and its $ also matches before a final newline.
_ECMA = {"\\s": "[\t-\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]",
         "\\d": "[0-9]", "\\w": "[A-Za-z0-9_]"}
_ECMA_IN_CLASS = {"\\s": _ECMA["\\s"][1:-1], "\\d": "0-9", "\\w": "A-Za-z0-9_"}


@cache
def ecma_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` as every other reader of the schema reads it (ECMA-262), so that the
    server accepts exactly the strings a client's validator does."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        two = pattern[i:i + 2]
        if two in _ECMA:
            out.append(_ECMA_IN_CLASS[two] if in_class else _ECMA[two])
        elif two.lower() in _ECMA and not in_class:
            out.append("[^" + _ECMA_IN_CLASS[two.lower()] + "]")
        elif pattern[i] == "\\":
            out.append(two)
        else:
            char = pattern[i]
            in_class = (in_class and char != "]") or (not in_class and char == "[")
            out.append("\\Z" if char == "$" and not in_class else char)
            i += 1
            continue
        i += 2
    return re.compile("".join(out))


def _pattern(validator: Any, pattern: str, instance: Any, _: Any) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not ecma_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(  # type: ignore[no-untyped-call]  # the stubs leave it untyped
    Draft202012Validator, {"pattern": _pattern})


@cache
def _validator(name: str) -> Draft202012Validator:
    # formats checked as the schema's readers check them (a task_id that is no uuid)
    validator: Draft202012Validator = _Validator(
        _schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)
    return validator


def inlined_schema(name: str = "alt") -> dict[str, Any]:
    """A document's JSON Schema with its ``$defs`` written in where they are used, so that it
    can stand inside another document (an OpenAPI body), where ``#/$defs/…`` means nothing."""
    schema = _schema(name)
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                rest = {k: v for k, v in node.items() if k != "$ref"}
                return inline({**defs[ref.removeprefix("#/$defs/")], **rest})
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    inlined: dict[str, Any] = inline({k: v for k, v in schema.items()
                                      if k not in ("$schema", "$id")})
    return inlined


def schema_errors(document: Any, name: str = "alt") -> list[str]:
    """Every schema violation, each as ``$.json.path: what is wrong``, in document order;
    a credential the message quotes is taken out (a refusal may be recorded, or logged)."""
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [redact(f"{e.json_path}: {e.message}") for e in errors]


def plan_checked(document: Any, policy: Policy, at: str = "$") -> tuple[Plan, dict[str, Any]]:
    """The checks of every path that records a plan (ARCHITECTURE.md §8): a hand-written or
    segmenter's plan, a remediation, an arena side, an .atlas import. The whole .alt document
    against its schema first (422, every problem); then how its steps fit together (409);
    then the policy's rules (403): no credential in it (the history would keep it for ever)
    and each secret sent only where its scope allows. Each problem names its JSON path, ``at``
    the plan's place in the document it came in."""
    problems = schema_errors(document)
    if problems:
        raise DocumentError([at + problem[1:] for problem in problems])
    try:
        plan = Plan.from_document(document)
    except PlanError as e:
        raise type(e)(at + e.path[1:], e.problem) from None
    doc = plan.to_document()
    problems = plan_problems(doc) + scope_problems(doc, policy.secrets, policy.local_host)
    if problems:
        raise CredentialInPlanError([at + problem[1:] for problem in problems])
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


class NotSegmentedError(ConflictError):
    """An .alt export of a task that has no plan (yet, or ever: it was rejected): the task's
    state, not the request, is what stands in the way (HTTP 409)."""


class DocumentError(InvalidInputError):
    """A document breaks its schema; the message lists each problem with its JSON path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class CredentialInPlanError(DocumentError, NotAllowedError):
    """A well-formed plan that writes a credential in clear (or a reference where none may
    stand): never recorded, as a rule rather than a shape (HTTP 403)."""


def checked_plan(document: Any) -> dict[str, Any]:
    """The steps of an .alt document that passes its schema (annotations dropped: the policy
    decides gates again); raises DocumentError listing every schema problem."""
    problems = schema_errors(document)
    if problems:
        raise DocumentError(problems)
    steps = [{k: v for k, v in s.items() if k not in ("gate", "environment")}
             for s in document["steps"]]
    return {"alt": 1, "steps": steps}
