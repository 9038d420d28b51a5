"""Reactions of triggers: an event of altlas fires the triggers that follow it, once each."""

from __future__ import annotations

from typing import Any

from application.core import Reaction
from application.reactions.common import Event, Ports
from domain.base import EventMeta, event_id
from domain.errors import DomainError
from domain.incidents import Incident
from domain.knowledge import PatternWatch
from domain.triggers import Trigger, actor_of, incident_facts


def fire_on_incident(event: Incident.Enriched, r: Reaction, ports: Ports) -> None:
    """An enriched incident fires the incident-cause triggers its likeliest cause matches."""
    incident = r.get(Incident, event.originator_id)
    hosts_of = {s.name: s.hosts for s in r.app.policy.services.values()}
    facts = incident_facts(str(incident.id), incident.title, incident.root_causes, hosts_of)
    if facts is not None:
        _fire("incident-cause", facts, event, r, ports)


def fire_on_pattern_low(event: PatternWatch.Low, r: Reaction, ports: Ports) -> None:
    """A pattern whose success fell low fires the pattern-low triggers it matches."""
    watch = r.get(PatternWatch, event.originator_id)
    _fire("pattern-low", {"pattern": watch.pattern, "runs": event.runs,
                          "successes": event.successes, "run": event.run_id}, event, r, ports)


def _fire(kind: str, facts: dict[str, Any], event: Event, r: Reaction, ports: Ports) -> None:
    """Each matching trigger's run is recorded with TriggerFired naming this event, or its
    refusal with TriggerMissed: a trigger that has seen the event already does nothing."""
    if ports.event_triggers is None:
        return
    cause = {"event": event.type_name,
             "id": event_id(event.originator_id, event.originator_version),
             "aggregate": str(event.originator_id)}
    for ident in ports.event_triggers(kind):
        trigger = r.get(Trigger, ident)
        if not trigger.follows(kind, facts) or cause["id"] in trigger.caused:
            continue
        meta = EventMeta(actor_of(trigger.name), trigger.correlation_id, cause["id"])
        try:
            task = r.app.runbook_task(trigger.runbook, trigger.values_from(facts),
                                      actor_of(trigger.name), on_behalf_of=trigger.owner)
        except DomainError as e:
            trigger.refuse_on(cause, event.timestamp, str(e), meta)
            continue
        r.add(task)
        trigger.fire_on(cause, event.timestamp, r.now, task.id, meta)
