"""Reactions of alerts and incidents: correlate, clear, enrich, propose a remedy."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.core import CORRELATOR, INCIDENTS, Reaction
from application.enrichment import Remedy, generator_urls
from application.errors import NotFoundError
from application.presenters import incident_environment
from application.reactions.common import Ports, log
from domain.alerts import Alert
from domain.base import EventMeta, event_id
from domain.errors import DomainError
from domain.incidents import OPEN as OPEN_INCIDENT
from domain.incidents import Incident, incident_id
from domain.task import Task


def correlate_alert(event: Alert.Received, r: Reaction, ports: Ports) -> None:
    """Put the alert in its incident: a new one, or one it relates to (by the topology,
    labels or words), merging the incidents it shows to have one cause; and record the
    occurrences its arrival shows to be over (their endsAt passed, or it fired again)."""
    if ports.incidents is None:
        return
    verdict = ports.incidents.decide(r.position, event)
    cause = event_id(event.originator_id, event.originator_version)
    for ended in verdict.ended:
        alert = r.get(Alert, UUID(ended.key))
        alert.expire(ended.at, ended.reason, EventMeta(CORRELATOR, ended.incident, cause))
    if verdict.incident is None or verdict.repeat:
        return
    meta = EventMeta(CORRELATOR, str(verdict.incident), cause)
    mine = {str(event.originator_id): event.fingerprint}
    incident = None if verdict.opened else _open_incident(r, verdict.incident)
    if incident is None:  # new; or the correlator's was never recorded, or has closed
        ident = verdict.incident
        if not verdict.opened and r.app.exists(ident):
            ident = incident_id(event.originator_id)
        r.add(Incident.open(ident, mine, f"{event.name or 'alert'} on {verdict.component}",
                            verdict.root_causes, event.starts_at, meta))
        return
    merged = []
    for other_id in verdict.merged:
        other = _open_incident(r, other_id)
        if other is not None and other is not incident:
            mine.update(other.merge_into(incident, meta))
            merged.append(str(other_id))
    incident.correlate(mine, merged, verdict.root_causes, meta)


def clear_alert(event: Alert.Resolved | Alert.Expired, r: Reaction, ports: Ports) -> None:
    """The alert leaves its incident; the incident resolves with its last firing alert."""
    if ports.incidents is None:
        return
    verdict = ports.incidents.decide(r.position, event)
    incident = _open_incident(r, verdict.incident) if verdict.incident else None
    if incident is not None:
        incident.clear(verdict.alert_id, event.ends_at, EventMeta(
            CORRELATOR, str(incident.id), event_id(event.originator_id,
                                                    event.originator_version)))


def enrich_incident(event: Incident.Opened, r: Reaction, ports: Ports) -> None:
    """Find the evidence of a new incident (its metrics, incidents like it), whatever
    happened to it meanwhile: a merged or resolved incident keeps what was found."""
    if ports.enrichment is None:
        return
    incident = r.get(Incident, event.originator_id)
    if incident.enriched:
        return
    alerts = {a: r.get(Alert, UUID(a)) for a in incident.alerts}
    found = ports.enrichment.findings(str(incident.id), incident.title, datetime.fromisoformat(
        incident.opened_at), incident.root_causes, generator_urls(alerts))
    meta = EventMeta(CORRELATOR, str(incident.id),
                     event_id(event.originator_id, event.originator_version))
    incident.enrich(found.to_event(), meta)
    remedy = ports.enrichment.remedy(incident.root_causes,
                                     [alerts[f].annotations for f in sorted(alerts)])
    if remedy is not None:
        _propose(incident, remedy, [a.labels for a in alerts.values()], r, meta)


def _propose(incident: Incident, remedy: Remedy, labels: list[dict[str, str]], r: Reaction,
             meta: EventMeta) -> None:
    """Ask for the remediation as a task of the incident's environment, told in the thread
    of the incident's message; its steps pass the gates like anyone's. A plan the policy no
    longer allows is left for the segmenter to make again; a request altlas cannot take (too
    long, an environment gone) is not proposed."""
    policy = r.app.policy
    environment = incident_environment(policy, incident, labels)
    channels = policy.environments[environment].oncall_channels if environment else {}
    front = next((f for f in ("slack", "discord") if f in channels), None)
    reply_to = {"front": front, "channel": channels[front], "incident": str(incident.id)} \
        if front else None
    try:
        task = Task.request_work(remedy.request, INCIDENTS, meta, environment=environment,
                                 source="incident", reply_to=reply_to)
    except DomainError as e:
        log.warning("incident %s: remediation %r not proposed: %s", incident.id,
                    remedy.request, e)
        return
    if remedy.plan is not None:
        try:
            plan_doc, gates = r.app.classify(remedy.plan, task.mode, INCIDENTS)
            task.record_segmentation(plan_doc, gates, f"atlas:{remedy.pattern}", meta)
        except DomainError as e:  # planned afresh instead
            log.info("incident %s: the .atlas plan no longer passes: %s", incident.id, e)
    r.add(task)
    incident.propose(task.id, remedy.request, remedy.source, remedy.pattern, meta)


def _open_incident(r: Reaction, ident: UUID) -> Incident | None:
    """The open incident the correlator names, following merges; None when it was never
    recorded (its first alerts came before this release correlated) or has closed."""
    for _ in range(10):
        try:
            incident = r.get(Incident, ident)
        except NotFoundError:
            return None
        if incident.merged_into is None:
            return incident if incident.status == OPEN_INCIDENT else None
        ident = UUID(incident.merged_into)
    return None
