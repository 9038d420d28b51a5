"""An incident: the alerts the correlator put together, and what most likely caused them.

Its id comes from the alert that opened it, so every process that correlates the same alerts
names the same incident. Its alerts are occurrences (the Alert aggregates' ids, each with its
fingerprint: the same labels may fire twice in one incident). It is resolved when the last of
its firing alerts resolves or expires, or merged into another incident when an alert showed
the two have one cause.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import AuditedAggregate, EventMeta
from domain.errors import ConflictError

_INCIDENTS = uuid5(NAMESPACE_URL, "urn:altlas:incidents")
OPEN, RESOLVED, MERGED = "open", "resolved", "merged"


def incident_id(first_alert: UUID) -> UUID:
    return uuid5(_INCIDENTS, str(first_alert))


def _by_alert(state: dict[str, Any]) -> None:
    """Before 0.5 an incident's alerts were keyed by fingerprint (fingerprint → alert id):
    one occurrence per fingerprint."""
    state["alerts"] = {a: f for f, a in state["alerts"].items()}


def _with_alert_id(state: dict[str, Any]) -> None:
    """Before 0.5 an alert leaving its incident was named by its fingerprint alone."""
    state["alert_id"] = None


class IncidentClosedError(ConflictError):
    """A resolved or merged incident takes no more alerts: a new one opens."""


class Incident(AuditedAggregate):
    class Opened(AuditedAggregate.Created):
        type_name = "IncidentOpened"
        title: str  # the first alert's name and component
        alerts: dict[str, str]  # the Alert aggregate's id → its fingerprint
        root_causes: list[dict[str, Any]]  # component, kind, score, evidence; likeliest first
        opened_at: str  # the first alert's start, ISO 8601

        class_version = 2
        upcast_v1_v2 = staticmethod(_by_alert)

    class AlertsCorrelated(AuditedAggregate.Event):
        """Alerts joined it: one that came later, or all of incidents merged into it."""

        type_name = "AlertsCorrelated"
        alerts: dict[str, str]  # alert id → fingerprint
        merged: list[str]  # ids of the incidents folded into this one
        root_causes: list[dict[str, Any]]

        class_version = 2
        upcast_v1_v2 = staticmethod(_by_alert)

        def apply(self, incident: Incident) -> None:
            incident.alerts.update(self.alerts)
            incident.firing |= set(self.alerts)
            incident.root_causes = self.root_causes

    class AlertCleared(AuditedAggregate.Event):
        """One of its alerts resolved or expired; others still fire."""

        type_name = "IncidentAlertResolved"
        fingerprint: str
        alert_id: str | None
        ends_at: str

        class_version = 2
        upcast_v1_v2 = staticmethod(_with_alert_id)

        def apply(self, incident: Incident) -> None:
            incident.firing.discard(incident.alert_of(self.alert_id, self.fingerprint))

    class Enriched(AuditedAggregate.Event):
        """What was found about it: its metrics with anomalies, incidents like it resolved
        before, what could not be checked, and a summary (and what wrote it)."""

        type_name = "IncidentEnriched"
        metrics: list[dict[str, Any]]
        similar: list[dict[str, Any]]
        problems: list[str]
        summary: str
        summarizer: str

        def apply(self, incident: Incident) -> None:
            incident.enriched = True
            incident.summary = self.summary

    class RemediationProposed(AuditedAggregate.Event):
        """A task was asked for that would fix it: the request an alert's ``altlas``
        annotation names, or the plan that fixed incidents like it (the .atlas)."""

        type_name = "RemediationProposed"
        task_id: str
        request: str
        source: str  # "annotation" or "atlas"
        pattern: str | None

        def apply(self, incident: Incident) -> None:
            incident.remediation = {"task_id": self.task_id, "request": self.request,
                                    "source": self.source, "pattern": self.pattern}

    class Merged(AuditedAggregate.Event):
        type_name = "IncidentMerged"
        into: str

        def apply(self, incident: Incident) -> None:
            incident.status = MERGED
            incident.merged_into = self.into

    class Resolved(AuditedAggregate.Event):
        """Its last firing alert resolved or expired."""

        type_name = "IncidentResolved"
        fingerprint: str
        alert_id: str | None
        resolved_at: str

        class_version = 2
        upcast_v1_v2 = staticmethod(_with_alert_id)

        def apply(self, incident: Incident) -> None:
            incident.firing.discard(incident.alert_of(self.alert_id, self.fingerprint))
            incident.status = RESOLVED
            incident.resolved_at = self.resolved_at

    def __init__(self, title: str, alerts: dict[str, str], root_causes: list[dict[str, Any]],
                 opened_at: str) -> None:
        self.title = title
        self.alerts = dict(alerts)
        self.firing = set(alerts)
        self.root_causes = root_causes
        self.opened_at = opened_at
        self.status = OPEN
        self.merged_into: str | None = None
        self.resolved_at: str | None = None
        self.enriched = False
        self.summary: str | None = None
        self.remediation: dict[str, Any] | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Incident:
        """A copy whose changes never reach this one, made in one step rather than value by
        value: a storm's incident holds thousands of alerts and is copied at every load. Its
        events replace its lists and mappings or change its own sets and dicts, never what
        they hold (strings, and lists of causes replaced whole)."""
        copied = object.__new__(type(self))
        copied.__dict__.update({k: v.copy() if isinstance(v, dict | set | list) else v
                                for k, v in self.__dict__.items()})
        return copied

    @classmethod
    def open(cls, ident: UUID, alerts: dict[str, str], title: str,
             root_causes: list[dict[str, Any]], opened_at: str, meta: EventMeta) -> Incident:
        """``ident``: incident_id of its first alert."""
        return cls._create_audited(cls.Opened, meta, id=ident, title=title, alerts=alerts,
                                   root_causes=root_causes, opened_at=opened_at)

    def correlate(self, alerts: dict[str, str], merged: list[str],
                  root_causes: list[dict[str, Any]], meta: EventMeta) -> None:
        self._check_open()
        self._trigger(self.AlertsCorrelated, meta, alerts=alerts, merged=merged,
                      root_causes=root_causes)

    def clear(self, alert_id: str, ends_at: str, meta: EventMeta) -> bool:
        """One alert resolved or expired: the incident too when it was the last firing one.
        False when the alert is not one of its firing alerts (ended before, or never here)."""
        if self.status != OPEN or alert_id not in self.firing:
            return False
        fingerprint = self.alerts[alert_id]
        if self.firing == {alert_id}:
            self._trigger(self.Resolved, meta, fingerprint=fingerprint, alert_id=alert_id,
                          resolved_at=ends_at)
        else:
            self._trigger(self.AlertCleared, meta, fingerprint=fingerprint, alert_id=alert_id,
                          ends_at=ends_at)
        return True

    def alert_of(self, alert_id: str | None, fingerprint: str) -> str:
        """The alert an event names: by its id, or (recorded before 0.5) its fingerprint."""
        if alert_id is not None:
            return alert_id
        return next((a for a, f in self.alerts.items() if f == fingerprint), fingerprint)

    def enrich(self, findings: dict[str, Any], meta: EventMeta) -> bool:
        """Once: False when it was enriched before (a reaction tried again)."""
        if self.enriched:
            return False
        self._trigger(self.Enriched, meta, **findings)
        return True

    def propose(self, task_id: UUID, request: str, source: str, pattern: str | None,
                meta: EventMeta) -> None:
        if self.remediation is not None:
            raise IncidentClosedError(f"incident {self.id} has a remediation proposed already")
        self._trigger(self.RemediationProposed, meta, task_id=str(task_id), request=request,
                      source=source, pattern=pattern)

    def merge_into(self, other: Incident, meta: EventMeta) -> dict[str, str]:
        """Fold into ``other``; the alerts that still fire here, for it to take."""
        self._check_open()
        self._trigger(self.Merged, meta, into=str(other.id))
        return {a: f for a, f in self.alerts.items() if a in self.firing}

    def environment(self, hosts: dict[str, str], services: dict[str, tuple[str, ...]],
                    labels: Iterable[Mapping[str, str]], known: Collection[str]) -> str | None:
        """Where it happens: the environment of its likeliest cause's hosts (``services``:
        the hosts of each service, ``hosts``: the environment of each host), else a ``known``
        one its alerts name in an ``environment`` or ``env`` label (``labels`` is only read
        when the causes do not tell)."""
        for cause in self.root_causes:
            component = cause["component"]
            for host in services.get(component, (component,)):
                if host in hosts:
                    return hosts[host]
        for said in labels:
            for key in ("environment", "env"):
                if said.get(key) in known:
                    return said[key]
        return None

    def _check_open(self) -> None:
        if self.status != OPEN:
            raise IncidentClosedError(f"incident {self.id} is {self.status}")
