"""A segmenter backed by a language model, its output constrained to a bounded JSON schema so
it always parses; whether the plan is any good the policy and the service decide."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from altlas.application.errors import SegmentationError
from altlas.application.ports import LanguageModel, SegmentationRequest
from altlas.domain.policy import Policy

MAX_STEPS = 5
_IDS = [f"s{i}" for i in range(1, MAX_STEPS + 1)]

# Every string and list is bounded: an unbounded schema lets a small model run to max_tokens.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"steps": {"type": "array", "minItems": 1, "maxItems": MAX_STEPS, "items": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "enum": _IDS},
            "kind": {"type": "string", "enum": ["ssh", "promql", "http", "llm", "manual"]},
            "action": {"type": "string", "maxLength": 160},
            "target": {"type": "string", "maxLength": 40},
            "needs": {"type": "array", "maxItems": 4, "items": {"type": "string", "enum": _IDS}},
            "when": {"type": "string", "maxLength": 60},
        },
        "required": ["id", "kind", "action", "target", "needs"],
    }}},
    "required": ["steps"],
}

SYSTEM = """You turn an operations request into a JSON plan of steps.
Kinds: "ssh" runs a shell command (action) on a host (target); "promql" runs a Prometheus \
query (action) in an environment (target); "http" requests a URL on a host; "llm" summarises \
earlier outputs (target "-"); "manual" is for destructive work a person must do.
"needs" lists the ids of steps that must finish first. "when" is an optional condition on an \
earlier step's facts: max_percent (from df), load1 (from uptime), exit_code, value (PromQL).
Use only the hosts and environments listed. Use the fewest steps that do what was asked."""

_BUILT_IN_EXAMPLES: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("check disk on web-2 and restart nginx if it is above 90%", {"steps": [
        {"id": "s1", "kind": "ssh", "action": "df -h", "target": "web-2", "needs": []},
        {"id": "s2", "kind": "ssh", "action": "systemctl restart nginx", "target": "web-2",
         "needs": ["s1"], "when": "s1.max_percent > 90"}]}),
    ("how many targets are down in staging?", {"steps": [
        {"id": "s1", "kind": "promql", "action": "count(up == 0) or vector(0)",
         "target": "staging", "needs": []}]}),
)


class ModelSegmenter:
    def __init__(self, model: LanguageModel, policy: Policy, max_tokens: int = 400) -> None:
        self._model = model
        self._policy = policy
        self._max_tokens = max_tokens
        self.name = model.name

    def prompt(self, request: SegmentationRequest) -> str:
        hosts = ", ".join(f"{h.name} ({h.environment})" for h in self._policy.hosts.values()
                          if h.name != self._policy.local_host)
        lines = [f"Hosts: {hosts}", f"Environments: {', '.join(self._policy.environments)}",
                 ""]
        for text, plan in (*request.examples, *_BUILT_IN_EXAMPLES)[:3]:
            lines += [f"Request: {text}", f"Plan: {json.dumps(_compact(plan))}", ""]
        if request.mode == "explore":
            lines.append("Mode explore: add read-only discovery steps first (uptime, df -h).")
        lines += [f"Request: {request.text}", "Plan:"]
        return "\n".join(lines)

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        reply = self._model.complete(SYSTEM, self.prompt(request), max_tokens=self._max_tokens,
                                     json_schema=SCHEMA)
        try:
            raw = json.loads(reply)
        except json.JSONDecodeError as e:
            raise SegmentationError(f"{self.name} did not answer with JSON: {e}") from None
        steps = raw.get("steps") if isinstance(raw, dict) else None
        if not isinstance(steps, list) or not steps:
            raise SegmentationError(f"{self.name} answered without steps")
        return {"alt": 1, "steps": [_step(s) for s in steps]}


def _compact(plan: Mapping[str, Any]) -> dict[str, Any]:
    """An .alt plan in the few fields the model is asked for."""
    keep = ("id", "kind", "action", "target", "needs", "when")
    return {"steps": [{k: s[k] for k in keep if k in s} for s in plan.get("steps", [])]}


def _step(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SegmentationError("a step is not an object")
    step = {k: raw[k] for k in ("id", "kind", "action", "target", "needs") if k in raw}
    if step.get("kind") == "llm" or step.get("target") in ("", "-"):
        step.pop("target", None)
    if raw.get("when"):
        step["when"] = raw["when"]
    return step
