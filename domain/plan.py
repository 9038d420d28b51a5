"""The plan of a task: a DAG of steps, the body of an .alt document (ARCHITECTURE.md §1, §7)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.conditions import Condition, ConditionError, parse_condition
from domain.errors import ConflictError, InvalidInputError
from domain.risk import RiskLevel

ALT_VERSION = 1
STEP_KINDS = ("local", "ssh", "promql", "http", "llm", "manual", "task")
MAX_STEPS = 50
MAX_ACTION_CHARS = 4000
MAX_TIMEOUT_S = 3600.0
MAX_RETRIES = 5
_STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")  # \Z: no final newline
# Written by an export for the reader; on the way in the policy decides them again.
_ANNOTATIONS = ("gate", "environment")


@dataclass(frozen=True)
class PlanStep:
    id: str
    kind: str
    action: str
    target: str | None = None
    needs: tuple[str, ...] = ()
    timeout_s: float = 60.0
    retries: int = 0
    risk: RiskLevel | None = None
    description: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    when: str | None = None

    @property
    def condition(self) -> Condition | None:
        return parse_condition(self.when) if self.when else None

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, "kind": self.kind, "action": self.action}
        if self.target is not None:
            doc["target"] = self.target
        doc["needs"] = list(self.needs)
        doc["timeout_s"] = self.timeout_s
        doc["retries"] = self.retries
        if self.risk is not None:
            doc["risk"] = self.risk.value
        if self.description:
            doc["description"] = self.description
        if self.params:
            doc["params"] = dict(self.params)
        if self.when:
            doc["when"] = self.when
        return doc


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlanStep, ...]

    @classmethod
    def from_document(cls, doc: Any) -> Plan:
        """Parse and check an .alt body; errors name the JSON path of the problem."""
        if not isinstance(doc, Mapping):
            raise PlanError("$", "a plan must be a JSON object")
        if doc.get("alt") != ALT_VERSION:
            raise PlanError("$.alt", f"must be {ALT_VERSION} (the .alt format version)")
        raw_steps = doc.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise PlanError("$.steps", "must be a non-empty list of steps")
        if len(raw_steps) > MAX_STEPS:
            raise PlanError("$.steps", f"has {len(raw_steps)} steps; at most {MAX_STEPS}")
        steps = tuple(_parse_step(raw, f"$.steps[{i}]") for i, raw in enumerate(raw_steps))
        plan = cls(steps)
        plan._check_graph()
        return plan

    def to_document(self) -> dict[str, Any]:
        return {"alt": ALT_VERSION, "steps": [s.to_document() for s in self.steps]}

    def step(self, step_id: str) -> PlanStep:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise PlanError("$.steps", f"no step with id {step_id!r}")

    def topological_order(self) -> list[PlanStep]:
        """Steps in an order where every step comes after what it needs (stable)."""
        done: set[str] = set()
        ordered: list[PlanStep] = []
        remaining = list(self.steps)
        while remaining:
            ready = [s for s in remaining if set(s.needs) <= done]
            if not ready:
                cycle = ", ".join(s.id for s in remaining)
                raise StepsConflictError("$.steps", f"dependencies form a cycle among: {cycle}")
            for s in ready:
                ordered.append(s)
                done.add(s.id)
            remaining = [s for s in remaining if s.id not in done]
        return ordered

    def ancestors(self, step_id: str) -> set[str]:
        """Every step that must finish before this one, directly or through others."""
        by_id = {s.id: s for s in self.steps}
        seen: set[str] = set()
        todo = list(by_id[step_id].needs)
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(by_id[current].needs)
        return seen

    def _check_graph(self) -> None:
        seen: dict[str, int] = {}
        for i, s in enumerate(self.steps):
            if s.id in seen:
                raise StepsConflictError(f"$.steps[{i}].id", f"duplicate step id {s.id!r}")
            seen[s.id] = i
        for i, s in enumerate(self.steps):
            for j, dep in enumerate(s.needs):
                if dep == s.id:
                    raise StepsConflictError(f"$.steps[{i}].needs[{j}]",
                                             "a step cannot need itself")
                if dep not in seen:
                    raise StepsConflictError(f"$.steps[{i}].needs[{j}]",
                                             f"unknown step {dep!r}")
        self.topological_order()
        for i, s in enumerate(self.steps):
            condition = s.condition
            if condition is None:
                continue
            earlier = self.ancestors(s.id)
            for name in sorted(condition.steps - earlier):
                raise StepsConflictError(
                    f"$.steps[{i}].when",
                    f"refers to {name}, which is not among the steps it needs")


def _parse_step(raw: Any, path: str) -> PlanStep:
    if not isinstance(raw, Mapping):
        raise PlanError(path, "a step must be an object")
    known = {"id", "kind", "action", "target", "needs", "timeout_s", "retries", "risk",
             "description", "params", "when", *_ANNOTATIONS}
    for key in raw:
        if key not in known:
            raise PlanError(f"{path}.{key}", "unknown field")
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not _STEP_ID.match(step_id):
        raise PlanError(f"{path}.id", "must be 1-40 lowercase letters, digits, '-' or '_'")
    kind = raw.get("kind")
    if kind not in STEP_KINDS:
        raise PlanError(f"{path}.kind", f"must be one of {', '.join(STEP_KINDS)}")
    action = raw.get("action")
    if not isinstance(action, str) or not action.strip():
        raise PlanError(f"{path}.action", "must be a non-empty string")
    if len(action) > MAX_ACTION_CHARS:
        raise PlanError(f"{path}.action", f"is longer than {MAX_ACTION_CHARS} characters")
    target = raw.get("target")
    if target is not None and (not isinstance(target, str) or not target.strip()):
        raise PlanError(f"{path}.target", "must be a host or service name")
    needs = raw.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise PlanError(f"{path}.needs", "must be a list of step ids")
    timeout = raw.get("timeout_s", 60.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
        0 < timeout <= MAX_TIMEOUT_S
    ):
        raise PlanError(f"{path}.timeout_s", f"must be a number in (0, {MAX_TIMEOUT_S:g}]")
    retries = raw.get("retries", 0)
    if isinstance(retries, float) and retries.is_integer():
        retries = int(retries)  # 2.0 is an integer in JSON (and in the .alt schema)
    if isinstance(retries, bool) or not isinstance(retries, int) or not (
        0 <= retries <= MAX_RETRIES
    ):
        raise PlanError(f"{path}.retries", f"must be an integer from 0 to {MAX_RETRIES}")
    risk_raw = raw.get("risk")
    risk = None
    if risk_raw is not None:
        try:
            risk = RiskLevel(risk_raw)
        except ValueError:
            levels = ", ".join(r.value for r in RiskLevel)
            raise PlanError(f"{path}.risk", f"must be one of {levels}") from None
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise PlanError(f"{path}.description", "must be a string")
    params = raw.get("params", {})
    if not isinstance(params, Mapping):
        raise PlanError(f"{path}.params", "must be an object")
    when = raw.get("when")
    if when is not None:
        if not isinstance(when, str) or not when.strip():
            raise PlanError(f"{path}.when", "must be a condition such as s1.max_percent > 90")
        try:
            parse_condition(when)
        except ConditionError as e:
            raise PlanError(f"{path}.when", str(e)) from None
    return PlanStep(
        id=step_id,
        kind=kind,
        action=action.strip(),
        target=target.strip() if isinstance(target, str) else None,
        needs=tuple(needs),
        timeout_s=float(timeout),
        retries=retries,
        risk=risk,
        description=description,
        params=dict(params),
        when=when.strip() if isinstance(when, str) else None,
    )


class PlanError(InvalidInputError):
    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class StepsConflictError(PlanError, ConflictError):
    """Steps that each look right but do not fit together (two with one id, a need of a step
    the plan lacks, a cycle, a condition on a step not needed): what the .alt schema cannot
    say, as a conflict (HTTP 409) rather than a malformed body."""
