"""A trigger: a runbook run on a schedule (cron with a time zone, or an interval), or on a
webhook's delivery (its body mapped to the parameters), on behalf of its owner. Each firing is
claimed once however many workers race for it: the trigger's next time moves on in the same
event that says it fired, so a second worker's save conflicts and, decided again, finds
nothing due. Firings missed while no worker ran follow the trigger's stated policy; so do
firings that would overlap a run still going.
"""

from __future__ import annotations

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

LATE = ("run_once", "skip")  # a firing missed while no worker ran: run it once late, or not
OVERLAP = ("allow", "queue", "skip")  # a firing while the last run still goes
GRACE = timedelta(minutes=1)  # later than this after its time, a firing counts as missed
CHECKED_FIRINGS = 60  # how many coming firings of a cron are checked against the minimum
MAX_MISSED_LISTED = 100
KEPT_DELIVERIES = 1000  # delivery ids remembered per webhook trigger: a replay within runs nothing
_TRIGGERS = uuid5(NAMESPACE_URL, "urn:altlas:triggers")


def trigger_id(name: str) -> UUID:
    return uuid5(_TRIGGERS, name)


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
        next_at: datetime | None  # None: a webhook's, fired by its deliveries
        webhook: dict[str, Any] | None  # the body's JSON Schema, parameter → body field

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
        """A run was requested for the firing due at ``scheduled_at`` (claimed once)."""

        type_name = "TriggerFired"
        scheduled_at: datetime
        fired_at: datetime
        task_id: UUID
        next_at: datetime

        def apply(self, trigger: Trigger) -> None:
            trigger.next_at = self.next_at
            trigger.last_task_id = self.task_id

    class Missed(AuditedAggregate.Event):
        """Firings not run: missed while no worker ran (late: skip), or skipped because
        the last run still went (overlap: skip)."""

        type_name = "TriggerMissed"
        scheduled: list[str]
        reason: str
        next_at: datetime

        def apply(self, trigger: Trigger) -> None:
            trigger.next_at = self.next_at

    def __init__(self, name: str, runbook: str, parameters: dict[str, Any], owner: str,
                 cron: str | None, every_seconds: int | None, timezone: str, late: str,
                 overlap: str, next_at: datetime | None, webhook: dict[str, Any] | None,
                 correlation_id: str) -> None:
        self.name = name
        self.runbook = runbook
        self.parameters = parameters
        self.owner = owner
        self.schedule = Schedule(cron, every_seconds, timezone)
        self.late = late
        self.overlap = overlap
        self.next_at = next_at
        self.webhook = webhook
        self.correlation_id = correlation_id
        self.last_task_id: UUID | None = None
        self.delivered: dict[str, UUID] = {}

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
            overlap=overlap, next_at=first, webhook=None)

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
            webhook={"body_schema": body_schema, "fields": dict(fields)})

    def deliver(self, delivery_id: str, now: datetime, task_id: UUID,
                meta: EventMeta) -> None:
        if self.webhook is None:
            raise TriggerError(f"trigger {self.name} runs on a schedule, not on a webhook")
        if delivery_id in self.delivered:
            raise AlreadyFiredError(f"delivery {delivery_id} of trigger {self.name} ran "
                                    "already")
        self._trigger(self.Delivered, meta, delivery_id=delivery_id, received_at=now,
                      task_id=task_id)

    def due(self, now: datetime) -> bool:
        return self.next_at is not None and now >= self.next_at

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
                      task_id=task_id, next_at=self._next(now))

    def skip(self, scheduled: list[datetime], reason: str, now: datetime,
             meta: EventMeta) -> None:
        self._check_due(scheduled[0], now)
        self._trigger(self.Missed, meta, reason=reason, next_at=self._next(now),
                      scheduled=[s.isoformat() for s in scheduled[-MAX_MISSED_LISTED:]])

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


class AlreadyFiredError(ConflictError):
    """Another worker took this firing first: it runs once."""
