"""A trigger on altlas's own events, on PostgreSQL: Alertmanager's alerts open an incident, a
real enrichment records its likeliest cause, and two workers following the events at once run
the trigger's runbook once, on the cause's host, for its owner."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from altlas.bootstrap import System
from domain.alerts import IncomingAlert
from domain.triggers import trigger_id
from testkit.backends import Backend, OnPostgres

T0 = datetime.now(UTC) - timedelta(minutes=5)
UPTIME = ({"host": {"kind": "host"}},
          {"alt": 1, "steps": [{"id": "up", "kind": "ssh", "action": "uptime",
                                "target": "{param:host}"}]})


def alert(fingerprint: str, name: str, instance: str) -> IncomingAlert:
    return IncomingAlert(fingerprint, {"alertname": name, "instance": instance},
                         {"summary": f"{name} on {instance}"}, T0, None, {}, resolved=False)


def follow(systems: list[System]) -> None:
    """Each system's worker reacts until nothing is left, all of them at once."""
    threads = [threading.Thread(target=s.worker().until_quiet) for s in systems]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()


class TestEventTriggerFiring(OnPostgres):
    def test_an_enriched_incident_runs_its_trigger_once_across_two_workers(
            self, backend: Backend) -> None:
        first, second = backend.open(), backend.open()
        try:
            first.app.publish_runbook("uptime", UPTIME[1], UPTIME[0], "alice")
            first.app.create_event_trigger("db-check", "uptime", {}, "alice",
                                           "incident-cause", "postgres|db-.*",
                                           {"host": "host"})
            for sent in (alert("db01", "PostgresDown", "db-1:9187"),
                         alert("web1", "HighLatency", "web-1:9100")):
                first.app.receive_alert(sent)
            follow([first, second])
            records = list(first.history.read())
            view = first.use_cases().trigger(None, "db-check")
            task = first.use_cases().task(None, view["last_task_id"])
        finally:
            first.close()
            second.close()
        enriched = [r for r in records if r.type_name == "IncidentEnriched"]
        fired = [r for r in records if r.type_name == "TriggerFired"
                 and r.aggregate_id == trigger_id("db-check")]
        assert len(enriched) == 1 and len(fired) == 1
        assert fired[0].data["cause"]["aggregate"] == str(enriched[0].aggregate_id)
        assert task.id == str(fired[0].data["task_id"])
        assert task.requester == "altlas:trigger:db-check"
        assert task.request == "runbook uptime v1: host=db-1"
        assert view["on"] == {"event": "incident-cause", "match": "postgres|db-.*",
                              "fields": {"host": "host"}}
