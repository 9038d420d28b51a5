"""An alert from Prometheus Alertmanager, from when it fires until it resolves.

One aggregate per firing: its id comes from the alert's fingerprint and the time it started,
so a firing alert sent again (Alertmanager repeats them) finds the one already recorded and
only its last-seen time moves; the same alert firing again after it resolved starts anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import AuditedAggregate, EventMeta
from domain.errors import ConflictError

_ALERTS = uuid5(NAMESPACE_URL, "urn:altlas:alerts")
FIRING, RESOLVED = "firing", "resolved"


def alert_id(fingerprint: str, starts_at: datetime) -> UUID:
    return uuid5(_ALERTS, f"{fingerprint}/{starts_at.isoformat()}")


@dataclass(frozen=True)
class IncomingAlert:
    """One alert of an Alertmanager webhook, as the sender described it."""

    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None  # only when Alertmanager says it resolved
    sender: dict[str, str]  # generator_url, receiver, group_key, external_url


class AlertAlreadyResolvedError(ConflictError):
    """A resolved alert does not fire again under the same start: Alertmanager starts anew."""


class Alert(AuditedAggregate):
    class Received(AuditedAggregate.Created):
        type_name = "AlertReceived"
        fingerprint: str
        name: str  # the alertname label
        labels: dict[str, str]  # credentials taken out, as everything recorded
        annotations: dict[str, str]
        starts_at: str  # ISO 8601, as Alertmanager sent it
        generator_url: str
        receiver: str
        group_key: str
        external_url: str
        last_seen: str  # when it came

    class Refreshed(AuditedAggregate.Event):
        """Sent again while firing: seen later, nothing else new."""

        type_name = "AlertRefreshed"
        last_seen: str

        def apply(self, alert: Alert) -> None:
            alert.last_seen = self.last_seen

    class Resolved(AuditedAggregate.Event):
        type_name = "AlertResolved"
        ends_at: str

        def apply(self, alert: Alert) -> None:
            alert.status = RESOLVED
            alert.ends_at = self.ends_at

    def __init__(self, fingerprint: str, name: str, labels: dict[str, str],
                 annotations: dict[str, str], starts_at: str, generator_url: str,
                 receiver: str, group_key: str, external_url: str, last_seen: str) -> None:
        self.fingerprint = fingerprint
        self.name = name
        self.labels = labels
        self.annotations = annotations
        self.starts_at = starts_at
        self.generator_url = generator_url
        self.receiver = receiver
        self.group_key = group_key
        self.external_url = external_url
        self.status = FIRING
        self.last_seen = last_seen
        self.ends_at: str | None = None

    @classmethod
    def receive(cls, fingerprint: str, labels: dict[str, str], annotations: dict[str, str],
                starts_at: datetime, seen: datetime, meta: EventMeta, **sent: Any) -> Alert:
        return cls._create_audited(
            cls.Received, meta, id=alert_id(fingerprint, starts_at), fingerprint=fingerprint,
            name=labels.get("alertname", ""), labels=labels, annotations=annotations,
            starts_at=starts_at.isoformat(), generator_url=sent.get("generator_url", ""),
            receiver=sent.get("receiver", ""), group_key=sent.get("group_key", ""),
            external_url=sent.get("external_url", ""), last_seen=seen.isoformat())

    def refresh(self, seen: datetime, meta: EventMeta) -> bool:
        """A re-sent firing alert: recorded only when it moves the last-seen time on."""
        if self.status == RESOLVED:
            raise AlertAlreadyResolvedError(
                f"alert {self.fingerprint} resolved at {self.ends_at}; a new firing starts anew")
        if seen <= datetime.fromisoformat(self.last_seen):
            return False
        self._trigger(self.Refreshed, meta, last_seen=seen.isoformat())
        return True

    def resolve(self, ends_at: datetime, meta: EventMeta) -> bool:
        """Resolved once; a resolution sent again changes nothing."""
        if self.status == RESOLVED:
            return False
        self._trigger(self.Resolved, meta, ends_at=ends_at.isoformat())
        return True
