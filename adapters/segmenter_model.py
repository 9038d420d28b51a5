"""A segmenter backed by a language model.

Its output is constrained to a JSON schema built for each request — every string and list
bounded (an unbounded schema lets a small model run to max_tokens), an ssh step's target one
of the hosts the request names or "ask" (it cannot invent one), a promql step's one of the
policy's environments, a shell step's command one the request quotes or one whose meaning
altlas knows (domain.commands.meaning), the target chosen before the
kind — so it always parses; whether the plan does what was asked the policy and the grounding
check decide.
The system prompt and the built-in examples come first and never change, so the model's
prompt cache spares them on every request after the first.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from application.errors import SegmentationError
from application.ports import LanguageModel, Message, SegmentationRequest
from domain.commands.meaning import SHELL_COMMANDS
from domain.grounding import Inventory, read_request
from domain.policy import Policy

MAX_STEPS = 5
_IDS = [f"s{i}" for i in range(1, MAX_STEPS + 1)]
_ORDER = ("id", "target", "kind", "action", "needs", "when")


ASK = "ask"  # the target a model picks when the request names no host it could use


# The regular-expression dialect of llama.cpp's grammar converter: no "(?:", no classes, no
# escaped characters (the converter copies them into GBNF literals, where they are invalid). A
# word (\S) holds no quote, backslash or shell operator: it cannot end the JSON string or
# start a second command.
_DIALECT = (("(?:", "("), (r"\S", r'[^ "\\;|&`$<>()\n]'), (r"\d", "[0-9]"),
            (r"\w", "[a-zA-Z0-9_]"), (r"\.", "[.]"), (r"\+", "[+]"))


def _grammar_regex(pattern: str) -> str:
    for python, grammar in _DIALECT:
        pattern = pattern.replace(python, grammar)
    return pattern


# A known command, optionally piped into "head -n N" (the listings are), as it is or run by
# "sh -c '…'" (the pipe is then the remote shell's).
_ONE = ("(" + "|".join(_grammar_regex(p) for p in SHELL_COMMANDS)
        + ")( [|] head -n [0-9]{1,3})?")
KNOWN_COMMANDS = f"^({_ONE}|sh -c '{_ONE}')$"
_FREE = {"type": "string", "maxLength": 160}


def command_schema(quoted: Collection[str] = ()) -> dict[str, Any]:
    """A shell step's command: one the request gives word for word, or a known one."""
    known = {"type": "string", "pattern": KNOWN_COMMANDS}
    if not quoted:
        return known
    return {"anyOf": [{"type": "string", "enum": sorted(set(quoted))}, known]}


def plan_schema(policy: Policy, named: Collection[str] | None = None,
                quoted: Collection[str] = ()) -> dict[str, Any]:
    """``named``: the hosts the request names (None: every host of the inventory);
    ``quoted``: the commands it gives word for word."""
    every = set(policy.hosts) if named is None else set(named)
    hosts = [*sorted(every - {policy.local_host}), ASK]
    command = command_schema(quoted)

    def shape(kinds: list[str], target: dict[str, Any]) -> dict[str, Any]:
        props: dict[str, Any] = {
            "id": {"type": "string", "enum": _IDS},
            "target": target,
            "kind": {"type": "string", "enum": kinds},
            "action": command if kinds != ["promql"] and kinds != ["llm"] else _FREE,
            "needs": {"type": "array", "maxItems": 4, "items": {"type": "string", "enum": _IDS}},
            "when": {"type": "string", "maxLength": 60},
        }
        return {"type": "object", "properties": props,
                "required": ["id", "target", "kind", "action", "needs"]}

    kinds = [shape(["ssh"], {"type": "string", "enum": hosts}),
             shape(["promql"], {"type": "string", "enum": sorted(policy.environments)})]
    if policy.local_host in every:
        kinds.append(shape(["local"], {"type": "string", "enum": [policy.local_host]}))
    kinds.append(shape(["llm"], {"type": "string", "enum": ["-"]}))
    return {"type": "object", "required": ["steps"], "properties": {"steps": {
        "type": "array", "minItems": 1, "maxItems": MAX_STEPS, "items": {"anyOf": kinds}}}}


def system_prompt(policy: Policy, maintenance_flag: str) -> str:
    by_env: dict[str, list[str]] = {}
    for host in policy.hosts.values():
        if host.name != policy.local_host:
            by_env.setdefault(host.environment, []).append(host.name)
    hosts = "; ".join(f"{', '.join(sorted(names))} in {env}"
                      for env, names in sorted(by_env.items()))
    return f"""You write a JSON plan for an operations request. Reply with JSON only.
Step kinds:
- ssh: run one shell command (action) on one host (target).
- local: run one command on the altlas host itself (target: {policy.local_host}).
- promql: run one Prometheus query (action) in an environment (target: \
{', '.join(sorted(policy.environments))}).
- llm: summarise the outputs of the steps it needs (target "-").
Hosts: {hosts}; {policy.local_host} is the altlas host.
Common single steps:
- disk usage of a host: ssh "df -h"
- load of a host: ssh "uptime"
- memory of a host: ssh "free -m"
- is a service running: ssh "systemctl is-active <service>"
- logs of a service: ssh "journalctl -u <service> -n 100 --no-pager"
- processes of a service: ssh "pgrep -a <service>"
- the top N processes by cpu (or memory): ssh "sh -c 'ps -eo pid,user,%cpu,%mem,comm \
--sort=-%cpu --no-headers | head -n N'"
- restart, reload, stop or start a service: ssh "systemctl restart <service>"
- targets down in an environment: promql "count(up == 0) or vector(0)"
- anything on the altlas host: local, e.g. "df -h", "uptime", "free -m"
- set the maintenance flag: local "touch {maintenance_flag}"
Make one step per action the user asked for, and no more. Most requests need only one step.
Steps are s1, s2, ... in order. "needs" lists earlier steps that must finish first, else []; \
a step after "then" needs the steps before it.
Add "when" only if the user said "if": a condition on an earlier step's facts, such as \
s1.max_percent (disk use % from df), s1.load1 (from uptime), s1.exit_code (0 when a service \
is running) or s1.value (a PromQL result). For example "check disk on db-1 and restart \
postgresql if it is above 85%" is s1 ssh "df -h /" on db-1 (the file system the condition is \
about), then s2 ssh "systemctl restart postgresql" on db-1 with needs ["s1"] and when \
"s1.max_percent > 85"."""


_BUILT_IN_EXAMPLES: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("what is the 5xx error rate in staging?", {"steps": [
        {"id": "s1", "target": "staging", "kind": "promql",
         "action": 'sum(rate(http_requests_total{status=~"5.."}[5m])) or vector(0)',
         "needs": []}]}),
    ("show memory on web-2", {"steps": [
        {"id": "s1", "target": "web-2", "kind": "ssh", "action": "free -m", "needs": []}]}),
)


class Prompt:
    """What a model is asked when it plans a request: the system prompt, two worked examples
    (and the similar past runs given), the request with the hosts it names spelled out. A
    LoRA adapter is trained on exactly this, so it learns what it will be asked."""

    def __init__(self, policy: Policy, maintenance_flag: str) -> None:
        self.inventory = Inventory.of(policy)
        self._system = system_prompt(policy, maintenance_flag)

    def __call__(self, request: SegmentationRequest) -> list[Message]:
        out: list[Message] = [{"role": "system", "content": self._system}]
        for text, plan in (*_BUILT_IN_EXAMPLES, *request.examples):
            out.append({"role": "user", "content": text})
            out.append({"role": "assistant", "content": json.dumps(in_order(plan))})
        text = request.text
        if request.mode == "explore":
            text += " (explore: first add read-only discovery steps, uptime and df -h)"
        named = read_request(request.text, self.inventory).hosts
        if named:  # spelled out as the inventory spells them ("web1" is web-1)
            text += f"\n(hosts named: {', '.join(named)})"
        out.append({"role": "user", "content": text})
        return out

    def of(self, text: str) -> list[Message]:
        """The messages for a person's plain request."""
        return self(SegmentationRequest(text=text))


class ModelSegmenter:
    def __init__(self, model: LanguageModel, policy: Policy, maintenance_flag: str,
                 max_tokens: int = 400) -> None:
        self._model = model
        self._policy = policy
        self._max_tokens = max_tokens
        self._prompt = Prompt(policy, maintenance_flag)
        self._inventory = self._prompt.inventory

    @property
    def name(self) -> str:
        """The model's name now: the registry may have activated another since."""
        return self._model.name

    def messages(self, request: SegmentationRequest) -> list[Message]:
        return self._prompt(request)

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        reading = read_request(request.text, self._inventory)
        reply = self._model.complete(self.messages(request), max_tokens=self._max_tokens,
                                     json_schema=plan_schema(self._policy, reading.hosts,
                                                             reading.quoted),
                                     temperature=request.temperature)
        try:
            raw = json.loads(reply, strict=False)
        except json.JSONDecodeError as e:
            raise SegmentationError(f"{self.name} did not answer with JSON: {e}") from None
        steps = raw.get("steps") if isinstance(raw, dict) else None
        if not isinstance(steps, list) or not steps:
            raise SegmentationError(f"{self.name} answered without steps")
        out: list[dict[str, Any]] = []
        for raw_step in steps:
            out.append(_step(raw_step, [s["id"] for s in out]))
        if any(s.get("target") == ASK for s in out):
            raise SegmentationError(f"{self.name} asks which host is meant")
        return {"alt": 1, "steps": out}


def in_order(plan: Mapping[str, Any]) -> dict[str, Any]:
    """A plan in the fields and key order the schema makes the model write."""
    steps = []
    for s in plan.get("steps", []):
        step = {k: s[k] for k in _ORDER if k in s}
        step.setdefault("target", "-")
        steps.append({k: step[k] for k in _ORDER if k in step})
    return {"steps": steps}


def _step(raw: Any, earlier: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SegmentationError("a step is not an object")
    step = {k: raw[k] for k in ("id", "kind", "action", "target", "needs") if k in raw}
    # A small model sometimes lists the step itself among what it needs: dropping that
    # only removes an impossible wait. A condition is never dropped (the step would then run
    # unconditionally); a bad one makes the plan invalid.
    step["needs"] = [n for n in step.get("needs", []) if n in earlier]
    if step.get("kind") == "llm" or step.get("target") in ("", "-"):
        step.pop("target", None)
    if raw.get("when"):
        step["when"] = raw["when"]
    return step
