"""Commands of triggers: schedule a runbook, and fire what is due exactly once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID, uuid4

from jsonschema import Draft202012Validator, SchemaError

from application.commands.runbooks import RunbookCommands
from application.core import run_id_of
from application.errors import NotFoundError
from domain.base import EventMeta
from domain.errors import InvalidInputError
from domain.run import Run
from domain.runbooks import RetiredError, RunbookError
from domain.task import Task
from domain.triggers import Schedule, Trigger, TriggerError, actor_of, trigger_id


class TriggerCommands(RunbookCommands):
    def create_trigger(self, name: str, runbook: str, parameters: Mapping[str, Any],
                       owner: str, *, cron: str | None = None, every_seconds: int | None = None,
                       timezone: str = "UTC", late: str = "run_once", overlap: str = "skip",
                       ) -> dict[str, Any]:
        """A schedule for a runbook, run on behalf of ``owner``; refused now if the runbook
        is not published, the parameters do not fill it, or the schedule never fires or
        fires more often than the policy allows."""
        who = self.privacy.pseudonym(owner)
        self.runbook_task(runbook, parameters, actor_of(name), on_behalf_of=who)  # checks
        with self._revealing():
            trigger = Trigger.create(
                name, runbook, dict(parameters), who, Schedule(cron, every_seconds, timezone),
                late=late, overlap=overlap, minimum=self.policy.min_trigger_interval,
                now=self.clock(), meta=EventMeta.for_command(who))
        self.save(trigger)
        return self._shown(trigger_view(trigger))

    def create_webhook_trigger(self, name: str, runbook: str, owner: str,
                               body_schema: dict[str, Any], fields: Mapping[str, str]
                               ) -> dict[str, Any]:
        """A trigger fired by POST /triggers/NAME with the credential the policy gives it
        (triggers.webhooks.NAME); refused now if the body schema does not compile or a
        parameter of the runbook has no field."""
        who = self.privacy.pseudonym(owner)
        try:
            Draft202012Validator.check_schema(body_schema)
        except SchemaError as e:
            raise TriggerError(f"the body schema is not a JSON Schema: {e.message}") from None
        published = self.runnable(runbook)
        unmapped = sorted(set(published["parameters"]["properties"]) - set(fields))
        if unmapped:
            raise TriggerError(f"parameter {unmapped[0]} has no field of the body: "
                               f"--map {unmapped[0]}=FIELD")
        with self._revealing():
            trigger = Trigger.on_webhook(name, runbook, who, body_schema, dict(fields),
                                         EventMeta.for_command(who))
        self.save(trigger)
        return self._shown(trigger_view(trigger))

    def create_event_trigger(self, name: str, runbook: str, parameters: Mapping[str, Any],
                             owner: str, event: str, match: str, fields: Mapping[str, str]
                             ) -> dict[str, Any]:
        """A trigger fired by an event of altlas (``event``: incident-cause, pattern-low)
        whose fact fully matches ``match``; refused now if the runbook is not published or a
        parameter is neither given nor mapped from a fact."""
        who = self.privacy.pseudonym(owner)
        published = self.runnable(runbook)
        unfilled = sorted(set(published["parameters"]["properties"]) - set(parameters)
                          - set(fields))
        if unfilled:
            raise TriggerError(f"parameter {unfilled[0]} is neither given nor mapped: "
                               f"--param {unfilled[0]}=VALUE or --map {unfilled[0]}=FACT")
        with self._revealing():
            trigger = Trigger.on_event(name, runbook, dict(parameters), who, event, match,
                                       dict(fields), EventMeta.for_command(who))
        self.save(trigger)
        return self._shown(trigger_view(trigger))

    def deliver_webhook(self, name: str, delivery_id: str, body: Any) -> tuple[UUID, bool]:
        """A delivery's run: its task and TriggerDelivered in one transaction; the same
        delivery id again returns the first run's task and records nothing (True)."""
        ident = trigger_id(name)
        try:
            trigger = self.load(Trigger, ident)
        except NotFoundError:
            raise NotFoundError(f"no trigger named {name}") from None
        if trigger.webhook is None:
            raise TriggerError(f"trigger {name} runs on a schedule, not on a webhook")
        problems = sorted(Draft202012Validator(trigger.webhook["body_schema"]).iter_errors(body),
                          key=lambda e: list(e.absolute_path))
        if problems:
            raise BodyError(f"the body breaks trigger {name}'s schema: "
                            f"{problems[0].json_path}: {problems[0].message}"[:300])
        values = {param: body.get(field) for param, field in trigger.webhook["fields"].items()
                  if isinstance(body, dict) and field in body}

        def command() -> tuple[UUID, bool]:
            current = self._cached(Trigger, ident)
            if delivery_id in current.delivered:
                return current.delivered[delivery_id], True
            current.check_live()
            task = self.runbook_task(current.runbook, values, actor_of(name),
                                     on_behalf_of=current.owner)
            try:
                current.deliver(delivery_id, self.clock(), task.id, EventMeta(
                    actor_of(name), current.correlation_id, str(uuid4())))
                self.save(current, task)
            except BaseException:
                self._forget(ident)
                raise
            return task.id, False

        with self._turn(ident), self._revealing():
            return self._retrying(command)

    def trigger(self, name: str) -> dict[str, Any]:
        try:
            return self._shown(self._read(Trigger, trigger_id(name), trigger_view))
        except NotFoundError:
            raise NotFoundError(f"no trigger named {name}") from None

    def fire_trigger(self, ident: UUID) -> UUID | None:
        """Fire the trigger if a firing is due: the run's task and TriggerFired in one
        transaction, or TriggerMissed; None when nothing was due (another worker got
        there first) or the firing waits for the last run (overlap: queue)."""
        def command() -> UUID | None:
            trigger = self._current(Trigger, ident)  # another worker may have fired it
            now = self.clock()
            if not trigger.due(now) or trigger.next_at is None:
                return None
            meta = EventMeta(actor_of(trigger.name), trigger.correlation_id, str(uuid4()))
            missed = trigger.missed(now)
            try:
                if missed and trigger.late == "skip":
                    trigger.skip(missed, "missed while no worker ran", now, meta)
                    self.save(trigger)
                    return None
                scheduled = missed[0] if missed else trigger.next_at
                if self._still_running(trigger.last_task_id):
                    if trigger.overlap == "queue":
                        return None
                    if trigger.overlap == "skip":
                        trigger.skip([scheduled], "the last run still goes", now, meta)
                        self.save(trigger)
                        return None
                try:
                    task = self.runbook_task(trigger.runbook, trigger.parameters,
                                             actor_of(trigger.name), on_behalf_of=trigger.owner)
                except (RunbookError, RetiredError, NotFoundError) as e:
                    trigger.skip([scheduled], str(e), now, meta)  # said once, not each second
                    self.save(trigger)
                    return None
                trigger.fire(scheduled, now, task.id, meta)
                self.save(trigger, task)
            except BaseException:
                self._forget(ident)
                raise
            return task.id

        with self._turn(ident), self._revealing():
            return self._retrying(command)

    def pause_trigger(self, name: str, who: str) -> dict[str, Any]:
        """No firing, delivery or event runs it until it is resumed."""
        return self._change_trigger(name, who, lambda t, meta: t.pause(meta))

    def resume_trigger(self, name: str, who: str) -> dict[str, Any]:
        """A schedule fires next at its first time after now: what fell while it was paused
        is not run late."""
        return self._change_trigger(name, who, lambda t, meta: t.resume(self.clock(), meta))

    def remove_trigger(self, name: str, who: str) -> dict[str, Any]:
        """It never fires again; its name stays taken, its history kept."""
        return self._change_trigger(name, who, lambda t, meta: t.remove(meta))

    def _change_trigger(self, name: str, who: str,
                        change: Callable[[Trigger, EventMeta], None]) -> dict[str, Any]:
        trigger = self._changed(Trigger, trigger_id(name), who, change,
                                f"no trigger named {name}")
        return self._shown(trigger_view(trigger))

    def _still_running(self, task_id: UUID | None) -> bool:
        if task_id is None:
            return False
        try:
            return not self.load(Run, run_id_of(task_id)).completed
        except NotFoundError:  # not started yet (planning), or never will be
            return self.exists(task_id) and self.load(Task, task_id).status != "rejected"


def trigger_view(trigger: Trigger) -> dict[str, Any]:
    return {"name": trigger.name, "id": str(trigger.id), "runbook": trigger.runbook,
            "parameters": trigger.parameters, "owner": trigger.owner,
            "cron": trigger.schedule.cron, "every_seconds": trigger.schedule.every_seconds,
            "timezone": trigger.schedule.timezone, "late": trigger.late,
            "overlap": trigger.overlap,
            "next_at": trigger.next_at.isoformat() if trigger.next_at else None,
            "webhook": trigger.webhook, "on": trigger.on, "status": trigger.status,
            "last_task_id": str(trigger.last_task_id) if trigger.last_task_id else None}


class BodyError(InvalidInputError):
    """A webhook body its trigger's schema refuses (HTTP 422)."""
