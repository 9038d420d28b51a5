"""Use cases of alerts and incidents."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from application.core import run_id_of
from application.enrichment import key_series
from application.errors import NotFoundError
from application.ids import id_text, one_id
from application.presenters import PlanModel, RunModel
from application.use_cases.base import (
    ALERTS_PER_TRANSACTION,
    INCIDENT_STATES,
    TIMELINE_LIMIT,
    NoIncidentError,
    UseCasesBase,
    _incident,
)
from domain.alerts import IncomingAlert
from domain.errors import InvalidInputError
from domain.incidents import Incident


class IncidentUseCases(UseCasesBase):
    def remediation(self, task_id: str) -> tuple[PlanModel, RunModel | None]:
        """An incident's remediation: its plan, and its run once there is one."""
        plan = self.plan_model(UUID(task_id))
        run_id = run_id_of(UUID(task_id))
        return plan, self.run_model(run_id) if self.app.exists(run_id) else None

    def receive_alerts(self, alerts: list[IncomingAlert]) -> dict[str, int]:
        """Record what Alertmanager sent (the caller checked it was Alertmanager), a few
        hundred alerts to a transaction: how many were received, refreshed, resolved or
        unchanged."""
        counts = dict.fromkeys(("received", "refreshed", "resolved", "unchanged"), 0)
        for start in range(0, len(alerts), ALERTS_PER_TRANSACTION):
            for said in self.app.receive_alerts(alerts[start:start + ALERTS_PER_TRANSACTION]):
                counts[said] += 1
        return counts

    def incidents(self, who: str | None, *, status: str | None = None,
                  since: datetime | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The incidents, newest first; ``status``: open, resolved or merged."""
        self._may(who, "read")
        if status is not None and status not in INCIDENT_STATES:
            raise InvalidInputError(f"unknown incident status {status!r}: use one of "
                                    f"{', '.join(INCIDENT_STATES)}")
        if limit < 1:
            raise InvalidInputError("limit must be at least 1")
        return [_incident(row) for row in self._reads().incidents(status=status, since=since,
                                                                  limit=limit)]

    def incident(self, who: str | None, ref: str) -> dict[str, Any]:
        """One incident (a whole id or its first 6 characters or more) with its timeline:
        its own events and its alerts' firing and resolving, in the order recorded."""
        self._may(who, "read")
        text = id_text(ref, "an incident", NoIncidentError)
        found = self._reads().incidents(prefix=text, limit=2)
        one_id(text, [("incident", row["incident_id"]) for row in found], "incident",
               NoIncidentError)
        shown = _incident(found[0])
        remedy = shown["remediation"]
        if remedy:  # how its remediation went, once it ran
            run_id, outcome = self._reads().runs_of([remedy["task_id"]]).get(
                remedy["task_id"], (None, None))
            shown["remediation"] = {**remedy, "run_id": run_id, "outcome": outcome}
        fingerprint = dict(found[0]["alerts"])
        events = self._reads().events_of([found[0]["incident_id"], *fingerprint],
                                         TIMELINE_LIMIT)
        shown["timeline"] = [
            {"time": e["time"].isoformat(), "event": e["type"],
             "fingerprint": fingerprint.get(e["aggregate_id"]) or e["data"].get("fingerprint"),
             "actor": e["actor"], "at": _said(e)}
            for e in events if e["type"] != "AlertRefreshed"]  # re-sent: nothing new
        return shown

    def incident_chart(self, who: str | None, ref: str) -> bytes:
        """The PNG of an incident's key metric (GET /incidents/{id}/chart.png)."""
        self._drawing(who)
        return self.incident_chart_of(UUID(self.incident(who, ref)["id"]))[1]

    def incident_chart_of(self, incident_id: UUID) -> tuple[str, bytes]:
        """(title, PNG) of the incident's key metric, from what its enrichment recorded;
        NotFoundError when it found no series to draw."""
        charts = self._drawing(None)
        events = list(self.app.events.get(incident_id))
        found = [e for e in events if isinstance(e, Incident.Enriched)]
        series = key_series(found[0].metrics) if found else None
        if series is None:
            raise NotFoundError(f"incident {incident_id} has no metric to draw: its alerts name "
                                "no PromQL, or Prometheus could not be asked")
        opened = next(e for e in events if isinstance(e, Incident.Opened)).opened_at
        title = f"{series['series'] or series['query']}" + (
            f" (z {series['z']:g})" if series["z"] is not None else "")
        return title, charts.metric(title, [tuple(p) for p in series["points"]],
                                    datetime.fromisoformat(opened).timestamp(),
                                    series["peak_at"] if series["anomalous"] else None)


def _said(event: dict[str, Any]) -> str | None:
    """When Alertmanager said an alert started or ended, which may be well before altlas
    heard of it."""
    key = {"AlertReceived": "starts_at", "AlertResolved": "ends_at",
           "AlertExpired": "ends_at"}.get(event["type"])
    return event["data"].get(key) if key else None
