"""Commands of alerts: what Alertmanager sent, and alerts whose expected end passed."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from application.core import ALERTMANAGER, CORRELATOR, AppCore
from application.errors import (
    NotFoundError,
)
from domain.alerts import FIRING, Alert, IncomingAlert, alert_id
from domain.base import EventMeta


class AlertCommands(AppCore):
    def receive_alert(self, incoming: IncomingAlert) -> str:
        """Record one alert Alertmanager sent: see :meth:`receive_alerts`."""
        return self.receive_alerts([incoming])[0]

    def receive_alerts(self, batch: list[IncomingAlert]) -> list[str]:
        """Record the alerts of one webhook call, in one transaction: for each, ``received``
        (new), ``refreshed`` (sent again while firing, its last-seen time or expected end
        moved on), ``resolved`` or ``unchanged`` (a repeat of what is recorded). Credentials
        in labels and annotations are taken out first."""
        cleaned = [(alert_id(a.fingerprint, a.starts_at), a,
                    self.redactor.data([a.labels, a.annotations])[0]) for a in batch]

        def command() -> list[str]:
            meta = EventMeta.for_command(ALERTMANAGER)
            now = self.clock()
            alerts: dict[UUID, Alert] = {}
            said = []
            for ident, incoming, (labels, notes) in cleaned:
                alert = alerts.get(ident)
                outcome = "unchanged"
                if alert is None:
                    try:
                        alert = self.load(Alert, ident)
                    except NotFoundError:
                        alert = Alert.receive(incoming.fingerprint, labels, notes,
                                              incoming.starts_at, now, meta,
                                              incoming.expected_end, **incoming.sender)
                        outcome = "received"
                    alerts[ident] = alert
                if incoming.resolved:
                    if alert.resolve(max(incoming.ends_at or incoming.starts_at,
                                         incoming.starts_at), meta) and outcome == "unchanged":
                        outcome = "resolved"
                elif outcome == "unchanged" and alert.status == FIRING and alert.refresh(
                        now, incoming.expected_end, meta):
                    outcome = "refreshed"
                said.append(outcome)
            self.save(*alerts.values())
            return said

        return self._retrying(command)

    def expire_alert(self, ident: UUID, ends_at: datetime, reason: str, incident: str) -> bool:
        """An alert over without a resolved notice (its endsAt passed): AlertExpired, once;
        False when it had ended already."""

        def command() -> bool:
            alert = self.load(Alert, ident)
            expired = alert.expire(ends_at, reason, EventMeta(CORRELATOR, incident,
                                                              str(uuid4())))
            if expired:
                self.save(alert)
            return expired

        with self._turn(ident):
            return self._retrying(command)
