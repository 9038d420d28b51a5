"""Commands of runbooks: publish a version (approved first when its steps are gated), run one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import islice
from typing import Any, TypeVar
from uuid import UUID

from jsonschema import Draft202012Validator

from application.commands.tasks import TaskCommands
from application.documents import ecma_pattern, plan_checked
from application.errors import NotFoundError
from application.snapshots import TaskView
from domain.approval import Approval, ApprovalSubject
from domain.base import EventMeta
from domain.errors import DomainError
from domain.risk import GateKind
from domain.runbooks import (
    ParameterError,
    Runbook,
    RunbookError,
    check_name,
    check_template,
    fill,
    kinds_of,
    parameters_schema,
    runbook_id,
)
from domain.task import Task
from domain.triggers import Trigger

A = TypeVar("A", Runbook, Trigger)
SOURCE = "runbook:"  # a runbook's runs are tasks of this source, and the .atlas pattern too
SAMPLES = ("/", "x", "1", "/var/log", "nginx", "main")  # text values a publication tries
MAX_HOSTS_TRIED = 50  # hosts a publication classifies the plan on, to know if it is gated


class RunbookCommands(TaskCommands):
    """A runbook's run is a hand-written plan's task: built on the tasks' commands."""

    def publish_runbook(self, name: str, plan: Any, parameters: Mapping[str, Any],
                        author: str) -> dict[str, Any]:
        """Record a new version: published at once when no step is gated wherever it may
        run, otherwise proposed with an approval someone other than its author grants."""
        check_name(name)
        if not isinstance(parameters, Mapping):
            raise RunbookError("parameters: an object of name → {kind: …}")
        schema = parameters_schema(parameters)
        checked = plan_checked(plan, self.policy)[1]
        check_template(checked, schema)
        gated = self._gated(checked, schema, author)
        who = self.privacy.pseudonym(author)
        ident = runbook_id(name)

        def command() -> Runbook:
            meta = EventMeta.for_command(who)
            try:
                runbook = self._cached(Runbook, ident)
            except NotFoundError:
                runbook = Runbook.open(name, meta)
            meta = EventMeta(who, runbook.correlation_id, meta.causation_id)
            approval: Approval | None = None
            if gated:
                approval = self._installation_approval(
                    ApprovalSubject.RUNBOOK, ident, "publish", "runbooks", who,
                    excluded=frozenset(), meta=meta,
                    reason=f"publish runbook {name} version {runbook.published_version + 1}",
                    refusal="a runbook with gated steps needs an approver or an admin other "
                            "than its author; add one to the policy")
            try:
                runbook.publish(who, checked, schema, meta,
                                approval.id if approval else None)
                self.save(runbook, *([approval] if approval else []))
            except BaseException:
                self._forget(ident)
                raise
            return runbook

        with self._turn(ident), self._revealing():
            return self._shown(runbook_view(self._retrying(command)))

    def runbook(self, name: str) -> dict[str, Any]:
        """The runbook as recorded now: its published version and the one waiting, if any."""
        try:
            return self._shown(self._read(Runbook, runbook_id(check_name(name)), runbook_view))
        except NotFoundError:
            raise NotFoundError(f"no runbook named {name}; `altlas runbook list` shows them"
                                ) from None

    def run_runbook(self, name: str, values: Mapping[str, Any], requester: str, *,
                    source: str = "api", reply_to: dict[str, str] | None = None,
                    ) -> TaskView:
        """A task whose plan is the published version filled with ``values``: recorded
        through the same checks and gates as any hand-written plan."""
        task = self.runbook_task(name, values, self.privacy.pseudonym(requester),
                                 reply_to=reply_to)
        self.save(task)
        return self._shown(TaskView.of(task))

    def runbook_task(self, name: str, values: Mapping[str, Any], who: str, *,
                     reply_to: dict[str, str] | None = None, on_behalf_of: str | None = None
                     ) -> Task:
        """The task of a run of the published version, not yet recorded (``who`` as
        recorded: a pseudonym, or altlas's own name for a trigger). The runbook is read
        without taking its turn: a trigger asks while it holds its own, and two turns of
        one process could be the same lock."""
        published = self.runnable(name)
        schema = published["parameters"]
        parsed = self.parameter_values(schema, values)
        filled = fill(published["plan"], schema, parsed)
        shown = " ".join(f"{k}={parsed[k]}" for k in sorted(parsed))
        return self.written_task(
            f"runbook {name} v{published['version']}" + (f": {shown}" if shown else ""),
            filled, who, source=f"{SOURCE}{name}",
            segmenter=f"{SOURCE}{name}@v{published['version']}", reply_to=reply_to,
            on_behalf_of=on_behalf_of)

    def runnable(self, name: str) -> dict[str, Any]:
        """The published version a run fills; refused when there is none or the runbook is
        retired."""
        try:
            runbook = self.load(Runbook, runbook_id(check_name(name)))
        except NotFoundError:
            raise NotFoundError(f"no runbook named {name}; `altlas runbook list` shows them"
                                ) from None
        return runbook.check_runnable()

    def retire_runbook(self, name: str, who: str) -> dict[str, Any]:
        """No more runs or firings of it; runs asked for before keep their gates."""
        runbook = self._changed(Runbook, runbook_id(check_name(name)), who,
                                lambda r, meta: r.retire(meta),
                                f"no runbook named {name}; `altlas runbook list` shows them")
        return self._shown(runbook_view(runbook))

    def _changed(self, kind: type[A], ident: UUID, who: str,
                 change: Callable[[A, EventMeta], None], missing: str) -> A:
        """One person's change to a recorded runbook or trigger, on its turn, decided again
        on what is recorded when another process changed it first."""
        actor = self.privacy.pseudonym(who)

        def command() -> A:
            try:
                found = self._cached(kind, ident)
            except NotFoundError:
                raise NotFoundError(missing) from None
            try:
                change(found, EventMeta(actor, found.correlation_id,
                                        EventMeta.for_command(actor).causation_id))
                self.save(found)
            except BaseException:
                self._forget(ident)
                raise
            return found

        with self._turn(ident), self._revealing():
            return self._retrying(command)

    def parameter_values(self, schema: Mapping[str, Any], values: Mapping[str, Any]
                         ) -> dict[str, Any]:
        """``values`` checked against the parameters' schema, hosts and services against
        the policy now; a number given as text (CLI, chat) is read as one. The first problem
        is refused, naming its parameter."""
        kinds = kinds_of(schema)
        parsed = {k: _number(k, v) if kinds.get(k) == "number" else v
                  for k, v in values.items()}
        live = {**schema, "properties": {k: self._with_choices(p)
                                         for k, p in schema["properties"].items()}}
        for error in sorted(Draft202012Validator(live).iter_errors(parsed),
                            key=lambda e: list(e.absolute_path)):
            named = (str(error.absolute_path[0]) if error.absolute_path
                     else _named(error.message, kinds))
            why = (f"{error.instance!r} is not a {kinds[named]} of the policy"
                   if error.validator == "enum" else _short(error.message))
            raise ParameterError(named, f"parameter {named}: {why}")
        return parsed

    def _with_choices(self, prop: Mapping[str, Any]) -> dict[str, Any]:
        kind = prop["x-altlas-kind"]
        if kind == "host":
            return {**prop, "enum": sorted(self.policy.hosts)}
        if kind == "service":
            return {**prop, "enum": sorted(self.policy.services)}
        return dict(prop)

    def _gated(self, plan: dict[str, Any], schema: Mapping[str, Any], author: str) -> bool:
        """Whether a step waits for a person on some host the runbook may run on: the plan
        is classified with each host of the inventory in turn (the first MAX_HOSTS_TRIED),
        text parameters as the first of SAMPLES their pattern takes. A plan the policy
        refuses with those values is gated: a person reads it, and each run is classified
        on its own values anyway."""
        kinds = kinds_of(schema)
        hosts = list(islice(sorted(self.policy.hosts), MAX_HOSTS_TRIED)) or ["-"]
        service = next(iter(sorted(self.policy.services)), "service")
        numbers = {k: p["minimum"] for k, p in schema["properties"].items() if "minimum" in p}
        texts = {k: next((s for s in SAMPLES if ecma_pattern(p["pattern"]).search(s)), "x")
                 for k, p in schema["properties"].items() if "pattern" in p}
        for host in hosts if "host" in kinds.values() else hosts[:1]:
            sample = {k: host if kind == "host" else service if kind == "service"
                      else numbers[k] if kind == "number" else texts[k]
                      for k, kind in kinds.items()}
            try:
                _, gates = self.classify(fill(plan, schema, sample), "normal", author)
            except DomainError:
                return True
            if any(g["gate"] in (GateKind.APPROVAL, GateKind.MANUAL) for g in gates):
                return True
        return False


def runbook_view(runbook: Runbook) -> dict[str, Any]:
    return {"name": runbook.name, "id": str(runbook.id), "published": runbook.published,
            "pending": runbook.pending, "retired": runbook.retired}


def _number(name: str, value: Any) -> Any:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise ParameterError(name, f"parameter {name}: {value!r} is not a number") from None
        return int(number) if number.is_integer() else number
    return value


def _named(message: str, kinds: Mapping[str, str]) -> str:
    """The parameter a whole-object problem (missing, unknown) is about."""
    return next((k for k in sorted(kinds) if repr(k) in message),
                message.split("'")[1] if message.count("'") >= 2 else "parameters")


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "…"

