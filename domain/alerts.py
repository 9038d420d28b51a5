"""An alert from Prometheus Alertmanager, from when it fires until it resolves.

One aggregate per occurrence, as Alertmanager counts them: its id comes from the alert's
fingerprint and the time it started, so a firing alert sent again (Alertmanager repeats them)
finds the one already recorded and only its last-seen time (and the end its sender expects)
moves; the same labels firing again with a new start are a new occurrence. An occurrence ends
when a resolved notice says so, or at its ``endsAt`` when that time passes without one
(Prometheus keeps moving ``endsAt`` ahead while an alert fires; ``send_resolved: false`` is
common): altlas then records that it expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import AuditedAggregate, EventMeta
from domain.errors import ConflictError

_ALERTS = uuid5(NAMESPACE_URL, "urn:altlas:alerts")
FIRING, RESOLVED, EXPIRED = "firing", "resolved", "expired"
SEEN_EVERY = timedelta(minutes=1)  # how often a repeat's last-seen time is worth recording


def alert_id(fingerprint: str, starts_at: datetime) -> UUID:
    return uuid5(_ALERTS, f"{fingerprint}/{starts_at.isoformat()}")


@dataclass(frozen=True)
class IncomingAlert:
    """One alert of an Alertmanager webhook, as the sender described it."""

    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None  # when it resolved (a resolved notice), or will end (a firing one)
    sender: dict[str, str]  # generator_url, receiver, group_key, external_url
    resolved: bool = False  # Alertmanager says it resolved (its status)

    @property
    def expected_end(self) -> datetime | None:
        """A firing alert's end as its sender expects it unless sent again; None when not
        told (Alertmanager's webhook hides an end not reached yet)."""
        return None if self.resolved else self.ends_at


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
        ends_at: str | None  # when it ends unless sent again, if its sender said

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Before 0.5 the end a firing alert's sender expected was not recorded."""
            state["ends_at"] = None

    class Refreshed(AuditedAggregate.Event):
        """Sent again while firing: seen later, and perhaps with its expected end moved."""

        type_name = "AlertRefreshed"
        last_seen: str
        ends_at: str | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["ends_at"] = None

        def apply(self, alert: Alert) -> None:
            alert.last_seen = self.last_seen
            alert.expected_end = self.ends_at

    class Resolved(AuditedAggregate.Event):
        type_name = "AlertResolved"
        ends_at: str

        def apply(self, alert: Alert) -> None:
            alert.status = RESOLVED
            alert.ends_at = self.ends_at

    class Expired(AuditedAggregate.Event):
        """Over without a resolved notice: its ``endsAt`` passed, or the same labels fired
        again with a new start (``reason`` says which)."""

        type_name = "AlertExpired"
        ends_at: str
        reason: str

        def apply(self, alert: Alert) -> None:
            alert.status = EXPIRED
            alert.ends_at = self.ends_at

    def __init__(self, fingerprint: str, name: str, labels: dict[str, str],
                 annotations: dict[str, str], starts_at: str, generator_url: str,
                 receiver: str, group_key: str, external_url: str, last_seen: str,
                 ends_at: str | None) -> None:
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
        self.expected_end = ends_at
        self.ends_at: str | None = None

    @classmethod
    def receive(cls, fingerprint: str, labels: dict[str, str], annotations: dict[str, str],
                starts_at: datetime, seen: datetime, meta: EventMeta,
                expected_end: datetime | None = None, **sent: Any) -> Alert:
        return cls._create_audited(
            cls.Received, meta, id=alert_id(fingerprint, starts_at), fingerprint=fingerprint,
            name=labels.get("alertname", ""), labels=labels, annotations=annotations,
            starts_at=starts_at.isoformat(), generator_url=sent.get("generator_url", ""),
            receiver=sent.get("receiver", ""), group_key=sent.get("group_key", ""),
            external_url=sent.get("external_url", ""), last_seen=seen.isoformat(),
            ends_at=_later_end(expected_end, starts_at))

    def refresh(self, seen: datetime, expected_end: datetime | None, meta: EventMeta) -> bool:
        """A re-sent firing alert: recorded only when it moves its expected end on (an
        earlier end than the one recorded is a stale copy: ignored), or its last-seen time
        by a minute or more."""
        if self.status != FIRING:
            raise AlertAlreadyResolvedError(
                f"alert {self.fingerprint} ended at {self.ends_at}; a new firing starts anew")
        end = self.expected_end
        sent = _later_end(expected_end, datetime.fromisoformat(self.starts_at))
        if sent is not None and (end is None or datetime.fromisoformat(sent)
                                 > datetime.fromisoformat(end)):
            end = sent
        last_seen = datetime.fromisoformat(self.last_seen)
        if end == self.expected_end and seen < last_seen + SEEN_EVERY:
            return False  # a duplicate or a quick repeat: nothing worth an event
        self._trigger(self.Refreshed, meta, last_seen=max(seen, last_seen).isoformat(),
                      ends_at=end)
        return True

    def resolve(self, ends_at: datetime, meta: EventMeta) -> bool:
        """Resolved once; a resolution sent again, or after it expired, changes nothing."""
        if self.status != FIRING:
            return False
        self._trigger(self.Resolved, meta, ends_at=ends_at.isoformat())
        return True

    def expire(self, ends_at: datetime, reason: str, meta: EventMeta) -> bool:
        """Over without a resolved notice; once, and never after a resolution."""
        if self.status != FIRING:
            return False
        self._trigger(self.Expired, meta, ends_at=ends_at.isoformat(), reason=reason)
        return True


def _later_end(end: datetime | None, starts_at: datetime) -> str | None:
    """An end the sender gave, as recorded: none when it is not after the start (Alertmanager
    writes a firing alert's unknown end as year 1)."""
    return end.isoformat() if end is not None and end > starts_at else None
