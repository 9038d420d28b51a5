"""Alerts from Alertmanager recorded as they come: once per firing, re-sent ones only move
their last-seen time, resolutions once, credentials never in the history."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from altlas.bootstrap import System
from altlas.progress import Progress
from altlas.rebuild import rebuild
from application.core import run_id_of
from application.text import incident_text
from domain.alerts import IncomingAlert
from testkit.backends import Backend, OnPostgres, OnSQLite
from testkit.helpers import FakeClock
from testkit.views import dump

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def incoming(fingerprint: str = "a1b2c3d4e5f60718", *, starts: datetime = T0,
             ends: datetime | None = None, **annotations: str) -> IncomingAlert:
    return IncomingAlert(fingerprint, {"alertname": "HighLatency", "service": "web",
                                       "instance": "web-1:9100"},
                         {"summary": "p99 above 2 s", **annotations}, starts, ends,
                         {"receiver": "altlas", "group_key": '{}:{alertname="HighLatency"}'},
                         resolved=ends is not None)


class AlertsContract:
    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock(start=T0 + timedelta(seconds=5))

    @pytest.fixture
    def system(self, backend: Backend, clock: FakeClock) -> Iterator[System]:
        system = backend.open(clock)
        yield system
        system.close()

    def types(self, system: System) -> list[str]:
        return [r.type_name for r in system.history.read()]

    def test_an_alert_is_recorded_once_and_sent_again_only_moves_its_last_seen(
        self, system: System, clock: FakeClock
    ) -> None:
        assert system.app.receive_alert(incoming()) == "received"
        assert system.app.receive_alert(incoming()) == "unchanged"  # same instant: a repeat
        clock.advance(minutes=5)
        assert system.app.receive_alert(incoming()) == "refreshed"
        assert self.types(system) == ["AlertReceived", "AlertRefreshed"]
        system.store_feed().catch_up()  # every view takes them; the audit timeline shows them
        shown = system.use_cases().timeline(None, limit=10)
        assert [(e["aggregate_type"], e["type"]) for e in shown] == [
            ("alert", "AlertReceived"), ("alert", "AlertRefreshed")]

    def test_a_resolution_is_recorded_once_and_a_new_firing_starts_anew(
        self, system: System
    ) -> None:
        system.app.receive_alert(incoming())
        ended = T0 + timedelta(minutes=3)
        assert system.app.receive_alert(incoming(ends=ended)) == "resolved"
        assert system.app.receive_alert(incoming(ends=ended)) == "unchanged"
        again = system.app.receive_alert(incoming(starts=T0 + timedelta(minutes=10)))
        assert again == "received"
        assert self.types(system) == ["AlertReceived", "AlertResolved", "AlertReceived"]

    def test_a_worker_expires_an_alert_whose_end_passed_in_a_quiet_hour(
        self, system: System, clock: FakeClock
    ) -> None:
        firing = IncomingAlert("a1b2c3d4e5f60718", {"alertname": "HighLatency",
                                                    "service": "web"}, {}, T0,
                               T0 + timedelta(minutes=2), {})  # a sender that says its end
        assert system.app.receive_alert(firing) == "received"
        worker = system.worker()
        worker.until_quiet()
        assert worker.expire_alerts() == []  # not yet: it has a minute and a half to go
        clock.advance(minutes=3)  # nothing else came meanwhile
        [expired] = worker.expire_alerts()
        assert worker.expire_alerts() == []
        worker.until_quiet()
        [ended] = [r for r in system.history.read() if r.type_name == "AlertExpired"]
        assert str(ended.aggregate_id) == expired
        assert ended.data["ends_at"] == (T0 + timedelta(minutes=2)).isoformat()
        system.store_feed().catch_up()
        [incident] = system.use_cases().incidents(None, status="resolved")
        assert incident["resolved_at"] == (T0 + timedelta(minutes=2)).isoformat()

    def test_a_resolution_never_seen_firing_is_recorded_whole(self, system: System) -> None:
        assert system.app.receive_alert(incoming(ends=T0 + timedelta(minutes=1))) == "received"
        assert self.types(system) == ["AlertReceived", "AlertResolved"]

    def test_credentials_in_an_alert_never_reach_the_history(self, system: System) -> None:
        secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
        system.app.receive_alert(incoming(description=f"token={secret} leaked in logs"))
        [received] = list(system.history.read())
        assert secret not in str(received.state)
        assert received.data["annotations"]["summary"] == "p99 above 2 s"


    def test_incidents_rebuilt_from_the_events_are_the_incidents_seen_live(
        self, system: System
    ) -> None:
        for fingerprint, labels, minute, ends in (
                ("db01", {"alertname": "PostgresDown", "instance": "db-1:9187"}, 0, None),
                ("web1", {"alertname": "HighLatency", "service": "web"}, 1, None),
                ("web1", {"alertname": "HighLatency", "service": "web"}, 1, 4),
                ("b1d7", {"alertname": "BuildSlow", "instance": "ci-3:9100"}, 30, None)):
            system.app.receive_alert(IncomingAlert(
                fingerprint, labels, {}, T0 + timedelta(minutes=minute),
                None if ends is None else T0 + timedelta(minutes=ends), {},
                resolved=ends is not None))
        system.worker().until_quiet()
        system.store_feed().catch_up()
        live = system.use_cases().incidents(None)
        assert [(i["title"], [a["firing"] for a in i["alerts"]]) for i in live] == [
            ("BuildSlow on ci-3", [True]), ("PostgresDown on postgres", [True, False])]
        before = dump(system.views())
        end = system.history.last_position()
        assert rebuild(system, None, 1, Progress("rebuild", end, stream=io.StringIO())) == end
        assert dump(system.views()) == before


    def test_a_cause_seen_before_is_told_what_fixed_it_then(self, system: System) -> None:
        """The first incident's remediation ran and succeeded; the next incident of the same
        cause names it, with its run, in what was found."""
        disk = {"alertname": "DiskFull", "instance": "db-1:9187"}
        system.app.receive_alert(IncomingAlert("d1", disk, {
            "altlas": "check the disk on localhost"}, T0, None, {}))
        system.worker().until_quiet()
        system.app.receive_alert(IncomingAlert("d1", disk, {}, T0, T0 + timedelta(minutes=2),
                                               {}, resolved=True))
        system.app.receive_alert(IncomingAlert("d2", disk, {}, T0 + timedelta(hours=2), None,
                                               {}))
        system.worker().until_quiet()
        system.store_feed().catch_up()
        latest, first = system.use_cases().incidents(None)
        run = system.use_cases().run_model(run_id_of(UUID(first["remediation"]["task_id"])))
        assert run.outcome == "succeeded"
        [seen] = latest["evidence"]["similar"]
        assert seen["id"] == first["id"] and seen["remedy"] == {
            "request": "check the disk on localhost", "task_id": run.task_id,
            "run_id": run.run_id, "outcome": "succeeded"}
        assert (f"“check the disk on localhost” fixed one of them (run {run.run_id[:8]})."
                in latest["summary"])
        detail = system.use_cases().incident(None, first["id"])  # the API's, the CLI's
        assert (detail["remediation"]["run_id"], detail["remediation"]["outcome"]) == (
            run.run_id, "succeeded")
        assert f"Run {run.run_id[:8]}: succeeded." in incident_text(detail, "en")


class TestAlertsOnSQLite(OnSQLite, AlertsContract):
    """The contract on the embedded default."""


class TestAlertsOnPostgres(OnPostgres, AlertsContract):
    """The contract on PostgreSQL."""
