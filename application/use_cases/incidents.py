"""Use cases of alerts and incidents."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.core import run_id_of
from application.enrichment import key_series
from application.errors import NotFoundError
from application.presenters import PlanModel, RunModel
from application.use_cases.base import ALERTS_PER_TRANSACTION, UseCasesBase
from domain.alerts import IncomingAlert
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
