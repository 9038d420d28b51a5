"""Use cases of runbooks: publish a version (from a file, chat or a successful run), read, run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from application.access import UnknownSenderError
from application.snapshots import TaskView
from application.use_cases.base import UseCasesBase
from domain.errors import ConflictError, InvalidInputError
from domain.run import SUCCEEDED

FIELDS = ("runbook", "name", "parameters", "plan")


class RunbookUseCases(UseCasesBase):
    def publish_runbook(self, who: str, document: Any) -> dict[str, Any]:
        """A runbook document (``{"runbook": 1, "name", "parameters", "plan"}``): a new
        version, published at once or when someone other than ``who`` approves it."""
        self.access.check(who, "publish_runbook")
        if not isinstance(document, Mapping) or document.get("runbook") != 1 or (
                set(document) - set(FIELDS)) or "plan" not in document or (
                not isinstance(document.get("name"), str)):
            raise InvalidInputError('a runbook is {"runbook": 1, "name": "disk-check", '
                                    '"parameters": {...}, "plan": {an .alt plan}}')
        return self.app.publish_runbook(document["name"], document["plan"],
                                        document.get("parameters") or {}, who)

    def save_run_as_runbook(self, who: str, run_ref: str, name: str) -> dict[str, Any]:
        """A run that succeeded, kept as a runbook without parameters: its plan as run."""
        self.access.check(who, "publish_runbook")
        run = self.app.get_run(self.resolve(run_ref, "run"))
        if run.outcome != SUCCEEDED:
            raise RunNotSucceededError(f"run {run.id} is {run.outcome or 'not finished'}; "
                                       "only a run that succeeded is saved as a runbook")
        plan = self.app.get_task(UUID(run.task_id)).plan
        assert plan is not None  # a run has a plan
        steps = [{k: v for k, v in s.items() if k not in ("gate", "environment")}
                 for s in plan["steps"]]
        return self.app.publish_runbook(name, {"alt": 1, "steps": steps}, {}, who)

    def retire_runbook(self, who: str, name: str) -> dict[str, Any]:
        """No more runs or firings of it: the same role as publishing it."""
        self.access.check(who, "publish_runbook")
        return self.app.retire_runbook(name, who)

    def runbook(self, who: str | None, name: str) -> dict[str, Any]:
        self._may(who, "read")
        return self.app.runbook(name)

    def runbooks(self, who: str | None) -> list[dict[str, Any]]:
        """Every runbook with its published version and the one waiting, by name."""
        self._may(who, "read")
        return self.app.privacy.reveal(self._reads().runbooks())

    def parameter_choices(self, who: str | None) -> dict[str, list[str]]:
        """What a host or a service parameter may be now (the policy's inventory): what a
        form offers to choose from."""
        self._may(who, "read")
        policy = self.app.policy
        return {"host": sorted(policy.hosts), "service": sorted(policy.services)}

    def run_runbook(self, who: str, name: str, values: Mapping[str, Any], *,
                    source: str = "api", reply_to: dict[str, str] | None = None
                    ) -> TaskView:
        """A run of the published version, requested by ``who`` like any request: its
        gated steps wait for approvals, which ``who`` may not give."""
        self.access.check(who, "run_runbook")
        return self.app.run_runbook(name, values, who, source=source, reply_to=reply_to)

    def create_trigger(self, who: str, name: str, runbook: str,
                       parameters: Mapping[str, Any], **schedule: Any) -> dict[str, Any]:
        """A schedule that runs ``runbook`` on ``who``'s behalf (cron with a time zone, or
        every N seconds); ``who`` then cannot approve the gated steps of its runs."""
        self.access.check(who, "schedule_runbook")
        self.access.check(who, "run_runbook")
        return self.app.create_trigger(name, runbook, parameters, who, **schedule)

    def create_webhook_trigger(self, who: str, name: str, runbook: str,
                               body_schema: dict[str, Any], fields: Mapping[str, str]
                               ) -> dict[str, Any]:
        """A trigger that runs ``runbook`` on each delivery to POST /triggers/NAME, on
        ``who``'s behalf; its credential is the policy's (triggers.webhooks.NAME)."""
        self.access.check(who, "schedule_runbook")
        self.access.check(who, "run_runbook")
        return self.app.create_webhook_trigger(name, runbook, who, body_schema, fields)

    def create_event_trigger(self, who: str, name: str, runbook: str,
                             parameters: Mapping[str, Any], event: str, match: str,
                             fields: Mapping[str, str]) -> dict[str, Any]:
        """A trigger that runs ``runbook`` on ``who``'s behalf each time altlas records an
        ``event`` (incident-cause, pattern-low) whose fact matches ``match``."""
        self.access.check(who, "schedule_runbook")
        self.access.check(who, "run_runbook")
        return self.app.create_event_trigger(name, runbook, parameters, who, event, match,
                                             fields)

    def deliver(self, authorization: str | None, name: str, delivery_id: str,
                body: Any) -> tuple[str, bool]:
        """A webhook delivery with the trigger's own credential (never a person's token):
        the run's task id, and whether this delivery id had run already."""
        sender = self.access.credentials().webhooks.get(name)
        if sender is None or not sender.accepts(authorization):
            raise UnknownSenderError("send the bearer token or basic auth the policy gives "
                                     "this trigger (triggers.webhooks)", "not_trigger_sender")
        task_id, replayed = self.app.deliver_webhook(name, delivery_id, body)
        return str(task_id), replayed

    def change_trigger(self, who: str, name: str, change: str) -> dict[str, Any]:
        """Pause, resume or remove a trigger: the same role as adding one."""
        self.access.check(who, "schedule_runbook")
        changes = {"pause": self.app.pause_trigger, "resume": self.app.resume_trigger,
                   "remove": self.app.remove_trigger}
        if change not in changes:
            raise InvalidInputError(f"a trigger is paused, resumed or removed, not {change!r}")
        return changes[change](name, who)

    def trigger(self, who: str | None, name: str) -> dict[str, Any]:
        self._may(who, "read")
        return self.app.trigger(name)

    def triggers(self, who: str | None) -> list[dict[str, Any]]:
        self._may(who, "read")
        return self.app.privacy.reveal(self._reads().triggers())


class RunNotSucceededError(ConflictError):
    """Only a run that succeeded may be saved as a runbook: a failed one would be repeated."""
