"""A runbook: a named .alt plan kept to be run again, with typed parameters filled in at each run.

Each version is an event. A version whose steps are gated is the thing someone else approves
before it is published (runs of it still pass their own gates). Parameters stand in a plan as
``{param:NAME}`` and are filled so that a value stays one argument of the program the author
wrote: a value that would run as a command, or change which programs run, is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import AuditedAggregate, EventMeta
from domain.commands import analyse, mode_of
from domain.errors import ConflictError, InvalidInputError

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
PLACEHOLDER = re.compile(r"\{param:([a-z_][a-z0-9_]{0,31})\}")
KINDS = ("host", "service", "number", "text")
SHELL_KINDS = ("ssh", "local", "manual")
MAX_TEXT = 200
# What a value may be where no shell quoting protects it (a PromQL query, a URL, a prompt).
PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_.:@-]{1,200}$")
# A value tried at publication where each placeholder stands: it must still be one argument.
# (No single quote: the shell reader does not join quoted parts of one word, so a value with
# one is refused in shell code at run time, the safe way round.)
_PROBE = "a\"b $(c) `d`;e|f&g\\h *"
_SENTINEL = "altlasparam{}x"
_RUNBOOKS = uuid5(NAMESPACE_URL, "urn:altlas:runbooks")
PENDING, PUBLISHED = "pending", "published"


def runbook_id(name: str) -> UUID:
    """One aggregate per name: publishing a name again adds a version to it."""
    return uuid5(_RUNBOOKS, name)


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise RunbookError(f"runbook name {name!r}: lowercase letters, digits and dashes, "
                           "at most 40, e.g. disk-check")
    return name


def parameters_schema(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Schema of a runbook's parameters from what its author declared (``kind``
    and, by kind, ``minimum``/``maximum`` or ``pattern``). Hosts and services are checked
    against the policy when a run fills them, so the schema names their kind only."""
    properties: dict[str, Any] = {}
    for name, declared in spec.items():
        if not isinstance(declared, Mapping) or not PLACEHOLDER.fullmatch(f"{{param:{name}}}"):
            raise RunbookError(f"parameter {name!r}: a name like threshold, with a kind")
        kind = declared.get("kind")
        extra = set(declared) - {"kind", "minimum", "maximum", "pattern", "description"}
        if kind not in KINDS or extra:
            raise RunbookError(f"parameter {name}: kind is one of {', '.join(KINDS)}"
                               + (f"; unknown {', '.join(sorted(extra))}" if extra else ""))
        prop: dict[str, Any] = {"x-altlas-kind": kind}
        if "description" in declared:
            prop["description"] = str(declared["description"])[:200]
        if kind == "number":
            low, high = declared.get("minimum"), declared.get("maximum")
            if not all(isinstance(v, int | float) and not isinstance(v, bool)
                       for v in (low, high)) or low > high:  # type: ignore[operator]
                raise RunbookError(f"parameter {name}: a number needs minimum <= maximum")
            prop.update(type="number", minimum=low, maximum=high)
        elif kind == "text":
            pattern = declared.get("pattern")
            if not isinstance(pattern, str) or not pattern.startswith("^") or (
                    not pattern.endswith("$")):
                raise RunbookError(f"parameter {name}: text needs a pattern from ^ to $")
            try:
                re.compile(pattern)
            except re.error as e:
                raise RunbookError(f"parameter {name}: pattern does not compile: {e}") from None
            prop.update(type="string", pattern=pattern, minLength=1, maxLength=MAX_TEXT)
        else:
            prop.update(type="string")
        properties[name] = prop
    return {"type": "object", "properties": properties, "required": sorted(properties),
            "additionalProperties": False}


def kinds_of(schema: Mapping[str, Any]) -> dict[str, str]:
    return {name: str(p["x-altlas-kind"]) for name, p in schema["properties"].items()}


def check_template(plan: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
    """What a publication refuses: a placeholder nobody declared, a parameter no step uses,
    a target that is not one host parameter, a placeholder a value could escape from."""
    kinds = kinds_of(schema)
    used: set[str] = set()
    for step in plan["steps"]:
        for field in ("action", "target"):
            names = PLACEHOLDER.findall(str(step.get(field) or ""))
            unknown = sorted(set(names) - set(kinds))
            if unknown:
                raise RunbookError(f"step {step['id']}: {{param:{unknown[0]}}} is not a "
                                   "declared parameter; declare it under parameters")
            used.update(names)
        target = step.get("target") or ""
        if PLACEHOLDER.search(target) and not (
                (m := PLACEHOLDER.fullmatch(target)) and kinds[m.group(1)] == "host"):
            raise RunbookError(f"step {step['id']}: a target is a whole host parameter, "
                               "like {param:host}")
        if step["kind"] in SHELL_KINDS:  # each placeholder probed alone, to name the one
            names = PLACEHOLDER.findall(step["action"])
            for probed in names:
                _filled_action(step, {n: _PROBE if n == probed else "x" for n in names})
    unused = sorted(set(kinds) - used)
    if unused:
        raise RunbookError(f"parameter {unused[0]} is used by no step; remove it or use it")


def fill(plan: Mapping[str, Any], schema: Mapping[str, Any],
         values: Mapping[str, Any]) -> dict[str, Any]:
    """The plan with each placeholder replaced by its value (already valid for its schema):
    quoted as one word in shell code, and refused where no quoting would hold it."""
    kinds = kinds_of(schema)
    words = {name: _word(name, values[name]) for name in kinds}
    steps = []
    for step in plan["steps"]:
        filled = dict(step)
        if step["kind"] in SHELL_KINDS:
            filled["action"] = _filled_action(step, words)
        else:
            filled["action"] = _substitute(step["action"], lambda n: _plain(n, words[n]))
        if step.get("target"):
            filled["target"] = _substitute(step["target"], lambda n: words[n])
        steps.append(filled)
    return {**plan, "steps": steps}


def plan_hash(plan: Mapping[str, Any], schema: Mapping[str, Any]) -> str:
    """What is approved: the plan and its parameters, as canonical JSON."""
    text = json.dumps({"plan": plan, "parameters": schema}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _word(name: str, value: Any) -> str:
    text = (str(int(value)) if isinstance(value, float) and value.is_integer()
            else str(value))
    if any(c in text for c in "{}") or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ParameterError(name, f"parameter {name}: no braces or control characters")
    return text


def _plain(name: str, value: str) -> str:
    if not PLAIN_VALUE.match(value):
        raise ParameterError(name, f"parameter {name}: {value!r} cannot stand in this step; "
                                   "letters, digits and . _ : @ - only")
    return value


def _substitute(text: str, value: Callable[[str], str]) -> str:
    return PLACEHOLDER.sub(lambda m: value(m.group(1)), text)


def _filled_action(step: Mapping[str, Any], words: Mapping[str, str]) -> str:
    """The action with each value quoted in, checked to run exactly the programs the
    template runs, with each value inside one argument and never a program's name."""
    action, kind = step["action"], step["kind"]
    names = list(dict.fromkeys(PLACEHOLDER.findall(action)))
    if not names:
        return str(action)
    # the one a refusal names: the first whose value needs quoting
    blamed = next((n for n in names if shlex.quote(words[n]) != words[n]), names[0])
    marks = {n: _SENTINEL.format(i) for i, n in enumerate(names)}
    template = _substitute(action, lambda n: marks[n])
    filled = _substitute(action, lambda n: shlex.quote(words[n]))
    try:
        before = analyse(template, mode_of(kind, template))
        after = analyse(filled, mode_of(kind, filled))
    except ValueError:
        raise _escaped(step, blamed) from None
    if mode_of(kind, template) != mode_of(kind, filled) or len(before.programs) != len(
            after.programs) or not before.complete or not after.complete:
        raise _escaped(step, blamed)
    for was, now in zip(before.programs, after.programs, strict=True):
        named = next((n for n in names if marks[n] in " ".join((*was.via, was.argv[0]))), None)
        if named is not None:
            raise RunbookError(f"step {step['id']}: {{param:{named}}} stands where a program "
                               "goes; a parameter is only ever an argument")
        expected = tuple(_substitute_marks(a, marks, words) for a in was.argv)
        if expected != now.argv or was.via != now.via:
            raise _escaped(step, blamed)
    return filled


def _substitute_marks(arg: str, marks: Mapping[str, str], words: Mapping[str, str]) -> str:
    for name, mark in marks.items():
        arg = arg.replace(mark, words[name])
    return arg


def _escaped(step: Mapping[str, Any], name: str) -> RunbookError:
    return RunbookError(f"step {step['id']}: a value of {{param:{name}}} could change what "
                        "runs; put each placeholder outside quotes, where an argument goes")


class Runbook(AuditedAggregate):
    class Opened(AuditedAggregate.Created):
        type_name = "RunbookOpened"
        name: str

    class Proposed(AuditedAggregate.Event):
        """A version with gated steps waits for someone other than its author."""

        type_name = "RunbookProposed"
        version: int
        author: str
        plan: dict[str, Any]
        plan_hash: str
        parameters: dict[str, Any]
        approval_id: UUID

        def apply(self, runbook: Runbook) -> None:
            runbook.pending = {"version": self.version, "author": self.author,
                               "plan": self.plan, "plan_hash": self.plan_hash,
                               "parameters": self.parameters,
                               "approval_id": str(self.approval_id)}

    class Published(AuditedAggregate.Event):
        type_name = "RunbookPublished"
        version: int
        author: str
        plan: dict[str, Any]
        plan_hash: str
        parameters: dict[str, Any]
        approval_id: UUID | None

        def apply(self, runbook: Runbook) -> None:
            runbook.published = {"version": self.version, "author": self.author,
                                 "plan": self.plan, "plan_hash": self.plan_hash,
                                 "parameters": self.parameters}
            runbook.pending = None
            runbook.retired = False

    class ProposalWithdrawn(AuditedAggregate.Event):
        """Its approval was denied, expired or cancelled: the version is not published."""

        type_name = "RunbookProposalWithdrawn"
        version: int
        reason: str

        def apply(self, runbook: Runbook) -> None:
            runbook.pending = None

    class Retired(AuditedAggregate.Event):
        """It runs no more, by hand or by a trigger; runs asked for before keep their gates.
        A new version published brings it back."""

        type_name = "RunbookRetired"
        version: int  # the published version it was at

        def apply(self, runbook: Runbook) -> None:
            runbook.retired = True

    def __init__(self, name: str, correlation_id: str) -> None:
        self.name = name
        self.correlation_id = correlation_id
        self.published: dict[str, Any] | None = None
        self.pending: dict[str, Any] | None = None
        self.retired = False

    @classmethod
    def open(cls, name: str, meta: EventMeta) -> Runbook:
        return cls._create_audited(cls.Opened, meta, id=runbook_id(check_name(name)),
                                   name=name)

    @property
    def published_version(self) -> int:
        return int(self.published["version"]) if self.published else 0

    def publish(self, author: str, plan: dict[str, Any], parameters: dict[str, Any],
                meta: EventMeta, approval_id: UUID | None) -> int:
        """A new version: published now, or proposed while ``approval_id`` is decided."""
        if self.pending is not None:
            raise ProposalPendingError(
                f"version {self.pending['version']} of runbook {self.name} waits for "
                f"approval {self.pending['approval_id']}; vote on it or deny it first")
        digest = plan_hash(plan, parameters)
        if self.published and self.published["plan_hash"] == digest and not self.retired:
            raise UnchangedError(f"runbook {self.name} version {self.published_version} is "
                                 "this plan already; nothing changed")
        number = self.published_version + 1
        if approval_id is None:
            self._trigger(self.Published, meta, version=number, author=author, plan=plan,
                          plan_hash=digest, parameters=parameters, approval_id=None)
        else:
            self._trigger(self.Proposed, meta, version=number, author=author, plan=plan,
                          plan_hash=digest, parameters=parameters, approval_id=approval_id)
        return number

    def retire(self, meta: EventMeta) -> None:
        if self.retired:
            raise RetiredError(f"runbook {self.name} is retired already")
        if self.pending is not None:
            raise ProposalPendingError(
                f"version {self.pending['version']} of runbook {self.name} waits for "
                f"approval {self.pending['approval_id']}; deny it first, then retire")
        self._trigger(self.Retired, meta, version=self.published_version)

    def check_runnable(self) -> dict[str, Any]:
        """The published version a run or a trigger fills; refused when there is none."""
        if self.retired:
            raise RetiredError(f"runbook {self.name} is retired: it runs no more, by hand "
                               "or by a trigger; publish a new version to bring it back")
        if self.published is None:
            raise NotPublishedError(f"runbook {self.name} has no published version yet"
                                    + (" (one waits for approval)" if self.pending else ""))
        return self.published

    def settle(self, approval_id: UUID, granted: bool, reason: str, meta: EventMeta) -> None:
        """The approval of the pending version was decided."""
        if self.pending is None or self.pending["approval_id"] != str(approval_id):
            return
        pending = self.pending
        if granted:
            self._trigger(self.Published, meta, version=pending["version"],
                          author=pending["author"], plan=pending["plan"],
                          plan_hash=pending["plan_hash"], parameters=pending["parameters"],
                          approval_id=approval_id)
        else:
            self._trigger(self.ProposalWithdrawn, meta, version=pending["version"],
                          reason=reason[:500])


class RunbookError(InvalidInputError):
    """A runbook, its plan or its parameters refused as written."""


class ParameterError(RunbookError):
    """A value for a parameter that its schema or its place in the plan refuses."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class NotPublishedError(RunbookError):
    """A run asked of a runbook with no published version yet (its first still waits)."""


class RetiredError(ConflictError):
    """A retired runbook is not run or triggered: its runs already asked keep their gates."""


class ProposalPendingError(ConflictError):
    """A version already waits for its approval: one at a time, so none is approved unseen."""


class UnchangedError(ConflictError):
    """The version offered is the one published: nothing to approve."""
