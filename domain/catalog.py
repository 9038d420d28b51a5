"""Every event type altlas records, by its stable name, and how old versions are upcast."""

from __future__ import annotations

from dataclasses import replace

from domain.alerts import Alert
from domain.approval import Approval
from domain.base import AuditedAggregate
from domain.duel import Duel
from domain.erasure import Erasure
from domain.incidents import Incident
from domain.knowledge import AtlasImport, PatternWatch
from domain.matches import Match
from domain.models import ModelRegistry
from domain.policy_history import PolicyHistory
from domain.records import RecordedEvent
from domain.run import Run
from domain.runbooks import Runbook
from domain.sessions import DashboardSessions
from domain.task import Task
from domain.training import Training
from domain.triggers import Trigger
from domain.voice import Hearing

AGGREGATES: tuple[type[AuditedAggregate], ...] = (Task, Run, Approval, Erasure, AtlasImport,
                                                  PatternWatch, Match, Alert, Incident,
                                                  ModelRegistry, Duel, Training, PolicyHistory,
                                                  Runbook, Trigger, Hearing, DashboardSessions)


def _event_classes() -> dict[str, tuple[str, type[AuditedAggregate.Event]]]:
    found: dict[str, tuple[str, type[AuditedAggregate.Event]]] = {}
    for aggregate in AGGREGATES:
        for value in vars(aggregate).values():
            if (isinstance(value, type) and issubclass(value, AuditedAggregate.Event)
                    and value.type_name):
                found[value.type_name] = (aggregate.__name__.lower(), value)
    return found


EVENTS = _event_classes()


class UnknownEventTypeError(ValueError):
    pass


def event_class(type_name: str) -> type[AuditedAggregate.Event]:
    try:
        return EVENTS[type_name][1]
    except KeyError:
        raise UnknownEventTypeError(f"unknown event type {type_name!r}") from None


def aggregate_kind(type_name: str) -> str:
    """``run`` for ``StepStarted``: the aggregate an event type belongs to."""
    try:
        return EVENTS[type_name][0]
    except KeyError:
        raise UnknownEventTypeError(f"unknown event type {type_name!r}") from None


def upcast(record: RecordedEvent) -> RecordedEvent:
    """Bring a record to its event class's current schema, with the class's own upcasters."""
    cls = event_class(record.type_name)
    current = int(getattr(cls, "class_version", 1))
    version = record.schema_version
    if version >= current:
        return record
    state = dict(record.state)
    while version < current:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1
    state["class_version"] = current
    return replace(record, state=state)
