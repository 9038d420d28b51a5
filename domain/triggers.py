"""A trigger: a runbook run on a schedule (cron with a time zone, or an interval), on a
webhook's delivery (its body mapped to the parameters), or on an event of altlas itself (an
incident whose likeliest cause matches, a pattern whose success fell low), on behalf of its
owner. Each firing is
claimed once however many workers race for it: the trigger's next time moves on in the same
event that says it fired, so a second worker's save conflicts and, decided again, finds
nothing due. Firings missed while no worker ran follow the trigger's stated policy; so do
firings that would overlap a run still going. A trigger may be paused, resumed and removed.
(Over 400 lines: every kind of trigger is one aggregate, so that its firings are claimed
once in one way.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter  # type: ignore[import-untyped]

from domain.base import AuditedAggregate, EventMeta
from domain.errors import ConflictError, InvalidInputError
from domain.runbooks import check_name

ACTIVE, PAUSED, REMOVED = "active", "paused", "removed"
LATE = ("run_once", "skip")  # a firing missed while no worker ran: run it once late, or not
OVERLAP = ("allow", "queue", "skip")  # a firing while the last run still goes
GRACE = timedelta(minutes=1)  # later than this after its time, a firing counts as missed
CHECKED_FIRINGS = 60  # how many coming firings of a cron are checked against the minimum
MAX_MISSED_LISTED = 100
KEPT_DELIVERIES = 1000  # delivery ids remembered per webhook trigger: a replay within runs nothing
KEPT_CAUSES = 1000  # causing events remembered per event trigger: a replay runs nothing
MAX_MATCH = 150
# What an event trigger may follow: the fact its match is tried on, and the facts a parameter
# may be filled from.
ON_EVENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "incident-cause": ("component", ("incident", "component", "kind", "host", "service",
                                     "title")),
    "pattern-low": ("pattern", ("pattern", "runs", "successes", "run")),
}
_TRIGGERS = uuid5(NAMESPACE_URL, "urn:altlas:triggers")


def trigger_id(name: str) -> UUID:
    return uuid5(_TRIGGERS, name)


def _no_follow(state: dict[str, Any]) -> None:
    """Before event triggers, a trigger followed a schedule or a webhook only."""
    state["on"] = None


def _no_cause(state: dict[str, Any]) -> None:
    """Before event triggers, a firing had a scheduled time, no causing event."""
    state["cause"] = None


def incident_facts(incident_id: str, title: str, root_causes: list[dict[str, Any]],
                   hosts_of: Mapping[str, tuple[str, ...]]) -> dict[str, Any] | None:
    """What an incident-cause trigger sees of an incident: its likeliest cause, and the host
    that cause names (a host, or a service on exactly one host) so a runbook can go there."""
    if not root_causes:
        return None
    cause = root_causes[0]
    component, kind = str(cause["component"]), str(cause["kind"])
    facts: dict[str, Any] = {"incident": incident_id, "component": component, "kind": kind,
                             "title": title}
    if kind == "host":
        facts["host"] = component
    elif kind == "service":
        facts["service"] = component
        if len(hosts := hosts_of.get(component, ())) == 1:
            facts["host"] = hosts[0]
    return facts


def actor_of(name: str) -> str:
    """Who requests a triggered run: the trigger, on behalf of its owner."""
    return f"altlas:trigger:{name}"


@dataclass(frozen=True)
class Schedule:
    cron: str | None
    every_seconds: int | None
    timezone: str

    def next_after(self, moment: datetime) -> datetime:
        """The first firing strictly after ``moment`` (an aware time), in UTC."""
        if self.every_seconds is not None:
            return moment + timedelta(seconds=self.every_seconds)
        assert self.cron is not None
        local = moment.astimezone(ZoneInfo(self.timezone))
        found: datetime = croniter(self.cron, local).get_next(datetime)
        return found.astimezone(ZoneInfo("UTC"))

    def check(self, minimum: timedelta, now: datetime) -> datetime:
        """The first firing after ``now``; refused if it never fires or fires more often
        than ``minimum`` allows."""
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise TriggerError(f"time zone {self.timezone!r} is unknown; use an IANA name "
                               "like Europe/Istanbul or UTC") from None
        if (self.cron is None) == (self.every_seconds is None):
            raise TriggerError("give a cron expression or an interval, one of them")
        if self.every_seconds is not None:
            if self.every_seconds < minimum.total_seconds():
                raise TriggerError(f"every {self.every_seconds} s is more often than the "
                                   f"policy allows (at least {int(minimum.total_seconds())} s)")
            return self.next_after(now)
        assert self.cron is not None
        if not croniter.is_valid(self.cron):
            raise TriggerError(f"cron {self.cron!r} does not parse; five fields, e.g. "
                               "*/15 * * * *")
        try:
            times = [self.next_after(now)]
            for _ in range(CHECKED_FIRINGS):
                times.append(self.next_after(times[-1]))
        except CroniterError:
            raise TriggerError(f"cron {self.cron!r} never fires") from None
        gap = min(b - a for a, b in pairwise(times))
        if gap < minimum:
            raise TriggerError(f"cron {self.cron!r} fires every {int(gap.total_seconds())} s "
                               f"at times; the policy allows at least "
                               f"{int(minimum.total_seconds())} s")
        return times[0]


class Trigger(AuditedAggregate):
    class Created(AuditedAggregate.Created):
        type_name = "TriggerCreated"
        name: str
        runbook: str
        parameters: dict[str, Any]
        owner: str
        cron: str | None
        every_seconds: int | None
        timezone: str
        late: str
        overlap: str
        next_at: datetime | None  # None: a webhook's or an event's, fired by them
        webhook: dict[str, Any] | None  # the body's JSON Schema, parameter → body field
        on: dict[str, Any] | None  # the event followed, the match, parameter → fact

        class_version = 2
        upcast_v1_v2 = staticmethod(_no_follow)

    class Delivered(AuditedAggregate.Event):
        """A webhook delivery requested a run; the same delivery id again runs nothing."""

        type_name = "TriggerDelivered"
        delivery_id: str
        received_at: datetime
        task_id: UUID

        def apply(self, trigger: Trigger) -> None:
            trigger.delivered[self.delivery_id] = self.task_id
            while len(trigger.delivered) > KEPT_DELIVERIES:
                trigger.delivered.pop(next(iter(trigger.delivered)))
            trigger.last_task_id = self.task_id

    class Fired(AuditedAggregate.Event):
        """A run was requested for the firing due at ``scheduled_at`` (claimed once), or
        for the event of altlas that ``cause`` names (its type, id and aggregate; once)."""

        type_name = "TriggerFired"
        scheduled_at: datetime
        fired_at: datetime
        task_id: UUID
        next_at: datetime | None
        cause: dict[str, str] | None

        class_version = 2
        upcast_v1_v2 = staticmethod(_no_cause)

        def apply(self, trigger: Trigger) -> None:
            trigger.next_at = self.next_at
            trigger.last_task_id = self.task_id
            trigger.remember(self.cause, self.task_id)

    class Missed(AuditedAggregate.Event):
        """Firings not run: missed while no worker ran (late: skip), or skipped because
        the last run still went (overlap: skip), or an event's run its runbook refused
        (``cause``: the event)."""

        type_name = "TriggerMissed"
        scheduled: list[str]
        reason: str
        next_at: datetime | None
        cause: dict[str, str] | None

        class_version = 2
        upcast_v1_v2 = staticmethod(_no_cause)

        def apply(self, trigger: Trigger) -> None:
            trigger.next_at = self.next_at
            trigger.remember(self.cause, None)

    class Paused(AuditedAggregate.Event):
        """No firing, delivery or event runs it until it is resumed."""

        type_name = "TriggerPaused"

        def apply(self, trigger: Trigger) -> None:
            trigger.status = PAUSED

    class Resumed(AuditedAggregate.Event):
        """It runs again; a schedule from its first time after the resumption."""

        type_name = "TriggerResumed"
        next_at: datetime | None

        def apply(self, trigger: Trigger) -> None:
            trigger.status = ACTIVE
            trigger.next_at = self.next_at

    class Removed(AuditedAggregate.Event):
        """It never runs again; its history stays, and its name stays taken."""

        type_name = "TriggerRemoved"

        def apply(self, trigger: Trigger) -> None:
            trigger.status = REMOVED

    def __init__(self, name: str, runbook: str, parameters: dict[str, Any], owner: str,
                 cron: str | None, every_seconds: int | None, timezone: str, late: str,
                 overlap: str, next_at: datetime | None, webhook: dict[str, Any] | None,
                 on: dict[str, Any] | None, correlation_id: str) -> None:
        self.name = name
        self.runbook = runbook
        self.parameters = parameters
        self.owner = owner
        self.schedule = Schedule(cron, every_seconds, timezone)
        self.late = late
        self.overlap = overlap
        self.next_at = next_at
        self.webhook = webhook
        self.on = on
        self.correlation_id = correlation_id
        self.last_task_id: UUID | None = None
        self.delivered: dict[str, UUID] = {}
        self.caused: dict[str, UUID | None] = {}  # causing event id → its run's task
        self.status = ACTIVE

    @classmethod
    def create(cls, name: str, runbook: str, parameters: dict[str, Any], owner: str,
               schedule: Schedule, *, late: str, overlap: str, minimum: timedelta,
               now: datetime, meta: EventMeta) -> Trigger:
        check_name(name)
        if late not in LATE or overlap not in OVERLAP:
            raise TriggerError(f"late is one of {', '.join(LATE)}; overlap one of "
                               f"{', '.join(OVERLAP)}")
        first = schedule.check(minimum, now)
        return cls._create_audited(
            cls.Created, meta, id=trigger_id(name), name=name, runbook=runbook,
            parameters=dict(parameters), owner=owner, cron=schedule.cron,
            every_seconds=schedule.every_seconds, timezone=schedule.timezone, late=late,
            overlap=overlap, next_at=first, webhook=None, on=None)

    @classmethod
    def on_webhook(cls, name: str, runbook: str, owner: str, body_schema: dict[str, Any],
                   fields: dict[str, str], meta: EventMeta) -> Trigger:
        """A trigger fired by deliveries to POST /triggers/NAME: each body must match
        ``body_schema``, and ``fields`` says which body field fills each parameter."""
        check_name(name)
        if not fields or not all(isinstance(v, str) and v for v in fields.values()):
            raise TriggerError("map each parameter to a field of the body: --map host=host")
        return cls._create_audited(
            cls.Created, meta, id=trigger_id(name), name=name, runbook=runbook,
            parameters={}, owner=owner, cron=None, every_seconds=None, timezone="UTC",
            late="run_once", overlap="allow", next_at=None,
            webhook={"body_schema": body_schema, "fields": dict(fields)}, on=None)

    @classmethod
    def on_event(cls, name: str, runbook: str, parameters: dict[str, Any], owner: str,
                 event: str, match: str, fields: dict[str, str], meta: EventMeta) -> Trigger:
        """A trigger fired by an event of altlas (``event``, one of ON_EVENTS) whose fact
        fully matches the regular expression ``match``; ``fields`` says which fact fills
        each parameter, ``parameters`` the fixed rest."""
        check_name(name)
        if event not in ON_EVENTS:
            raise TriggerError(f"--on follows one of {', '.join(ON_EVENTS)}, not {event!r}")
        try:
            if len(match) > MAX_MATCH:
                raise re.error(f"longer than {MAX_MATCH} characters")
            re.compile(match)
        except re.error as e:
            raise TriggerError(f"--on {event} {match[:40]!r}: not a regular expression: "
                               f"{e}") from None
        facts = ON_EVENTS[event][1]
        unknown = sorted(f for f in fields.values() if f not in facts)
        if unknown:
            raise TriggerError(f"{event} has no fact {unknown[0]!r}; map a parameter to one "
                               f"of {', '.join(facts)}")
        return cls._create_audited(
            cls.Created, meta, id=trigger_id(name), name=name, runbook=runbook,
            parameters=dict(parameters), owner=owner, cron=None, every_seconds=None,
            timezone="UTC", late="run_once", overlap="allow", next_at=None, webhook=None,
            on={"event": event, "match": match, "fields": dict(fields)})

    def follows(self, event: str, facts: Mapping[str, Any]) -> bool:
        """Whether this event's facts fire the trigger (its match, over the whole fact)."""
        if self.on is None or self.on["event"] != event or self.status != ACTIVE:
            return False
        subject = facts.get(ON_EVENTS[event][0])
        return subject is not None and re.fullmatch(self.on["match"], str(subject)) is not None

    def values_from(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """The run's parameters: the fixed ones, and each mapped fact the event has."""
        assert self.on is not None
        mapped = {param: facts[fact] for param, fact in self.on["fields"].items()
                  if facts.get(fact) is not None}
        return {**self.parameters, **mapped}

    def fire_on(self, cause: dict[str, str], at: datetime, now: datetime, task_id: UUID,
                meta: EventMeta) -> None:
        """A run for the event ``cause`` names, recorded at ``at``: once per event."""
        self._check_cause(cause)
        self._trigger(self.Fired, meta, scheduled_at=at, fired_at=now, task_id=task_id,
                      next_at=None, cause=cause)

    def refuse_on(self, cause: dict[str, str], at: datetime, reason: str,
                  meta: EventMeta) -> None:
        """The event's run was refused (its runbook, its parameters): said once."""
        self._check_cause(cause)
        self._trigger(self.Missed, meta, scheduled=[at.isoformat()], reason=reason[:500],
                      next_at=None, cause=cause)

    def remember(self, cause: dict[str, str] | None, task_id: UUID | None) -> None:
        if cause is None:
            return
        self.caused[cause["id"]] = task_id
        while len(self.caused) > KEPT_CAUSES:
            self.caused.pop(next(iter(self.caused)))

    def _check_cause(self, cause: dict[str, str]) -> None:
        if self.on is None:
            raise TriggerError(f"trigger {self.name} does not follow altlas's events")
        if cause["id"] in self.caused:
            raise AlreadyFiredError(f"trigger {self.name}: event {cause['id']} fired it "
                                    "already")

    def deliver(self, delivery_id: str, now: datetime, task_id: UUID,
                meta: EventMeta) -> None:
        if self.webhook is None:
            raise TriggerError(f"trigger {self.name} runs on a schedule, not on a webhook")
        self.check_live()
        if delivery_id in self.delivered:
            raise AlreadyFiredError(f"delivery {delivery_id} of trigger {self.name} ran "
                                    "already")
        self._trigger(self.Delivered, meta, delivery_id=delivery_id, received_at=now,
                      task_id=task_id)

    def due(self, now: datetime) -> bool:
        return self.status == ACTIVE and self.next_at is not None and now >= self.next_at

    def check_live(self) -> None:
        """Refused while paused or once removed, saying what to do."""
        if self.status == PAUSED:
            raise TriggerPausedError(f"trigger {self.name} is paused: `altlas trigger resume "
                                     f"{self.name}` runs it again")
        if self.status == REMOVED:
            raise TriggerRemovedError(f"trigger {self.name} was removed: it runs no more")

    def pause(self, meta: EventMeta) -> None:
        self.check_live()
        self._trigger(self.Paused, meta)

    def resume(self, now: datetime, meta: EventMeta) -> None:
        if self.status != PAUSED:
            self.check_live()
            raise TriggerError(f"trigger {self.name} is not paused")
        following = self.schedule.next_after(now) if self.next_at is not None else None
        self._trigger(self.Resumed, meta, next_at=following)

    def remove(self, meta: EventMeta) -> None:
        if self.status == REMOVED:
            self.check_live()
        self._trigger(self.Removed, meta)

    def missed(self, now: datetime) -> list[datetime]:
        """The firings due by ``now`` that are later than GRACE: none when on time."""
        found, moment = [], self.next_at
        assert moment is not None
        while moment <= now - GRACE:
            found.append(moment)
            moment = self.schedule.next_after(moment)
        return found

    def fire(self, scheduled_at: datetime, now: datetime, task_id: UUID,
             meta: EventMeta) -> None:
        self._check_due(scheduled_at, now)
        self._trigger(self.Fired, meta, scheduled_at=scheduled_at, fired_at=now,
                      task_id=task_id, next_at=self._next(now), cause=None)

    def skip(self, scheduled: list[datetime], reason: str, now: datetime,
             meta: EventMeta) -> None:
        self._check_due(scheduled[0], now)
        self._trigger(self.Missed, meta, reason=reason, next_at=self._next(now),
                      scheduled=[s.isoformat() for s in scheduled[-MAX_MISSED_LISTED:]],
                      cause=None)

    def _next(self, now: datetime) -> datetime:
        moment = self.next_at
        assert moment is not None
        while moment <= now:
            moment = self.schedule.next_after(moment)
        return moment

    def _check_due(self, scheduled_at: datetime, now: datetime) -> None:
        if not self.due(now) or scheduled_at < self.next_at:  # type: ignore[operator]
            raise AlreadyFiredError(f"trigger {self.name}: the firing at "
                                    f"{scheduled_at.isoformat()} is taken already")


class TriggerError(InvalidInputError):
    """A trigger refused as written: its schedule, owner or runbook."""


class TriggerPausedError(ConflictError):
    """A paused trigger runs nothing until it is resumed."""


class TriggerRemovedError(ConflictError):
    """A removed trigger runs nothing, ever."""


class AlreadyFiredError(ConflictError):
    """Another worker took this firing first: it runs once."""
