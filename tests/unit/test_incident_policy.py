"""Alerts become incidents by themselves: a reaction on the `incidents` lane correlates each
recorded alert, whichever process reacts, and an incident resolves with its last alert."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
import yaml

from adapters.policy_file import default_policy_text
from application.app import AltlasApplication
from application.correlator import IncidentDesk
from application.enrichment import Enrichment, key_series
from application.ports import MetricsUnavailableError
from application.reactions import LANES, Ports
from application.reactor import Lane, begin_tracking
from application.segmentation import SegmentationService
from domain.alerts import Alert, IncomingAlert
from domain.incidents import Incident
from domain.policy import Policy
from domain.task import Task
from testkit.fakes.ports import FakePersonKeys, FakeSegmenter
from testkit.helpers import FakeClock

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def policy(**incidents: Any) -> Policy:
    data = yaml.safe_load(default_policy_text())
    data["services"] = {"postgres": {"hosts": ["db-1"]},
                        "web": {"hosts": ["web-1"], "depends_on": ["postgres"]},
                        "api": {"hosts": ["web-2"], "depends_on": ["postgres"]}}
    if incidents:
        data["incidents"] = incidents
    return Policy.from_mapping(data)


class Altlas:
    """One store; each worker with its own correlator, as separate processes have."""

    def __init__(self, chosen: Policy) -> None:
        self.app = AltlasApplication(chosen, FakeClock(start=T0),
                                     env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                     keys=FakePersonKeys())
        begin_tracking(self.app, LANES)

    def worker(self, enrichment: Enrichment | None = None) -> list[Lane]:
        ports = Ports(SegmentationService(self.app, FakeSegmenter({}), None),
                      incidents=IncidentDesk(self.app), enrichment=enrichment)
        return [Lane(self.app, name, kinds, ports, worker="w", on_claims=lambda _: None)
                for name, kinds in LANES.items()]

    def fire(self, fingerprint: str, labels: dict[str, str], minute: float = 0,
             summary: str = "", ends: float | None = None, url: str = "",
             resolved: bool = False) -> None:
        starts = T0 + timedelta(minutes=minute)
        clock = self.app.clock  # alerts come when they start (or later, when re-sent)
        clock.now = max(clock.now, starts)  # type: ignore[attr-defined]
        self.app.receive_alert(IncomingAlert(
            fingerprint, {"alertname": f"Alert{fingerprint}", **labels}, {"summary": summary},
            starts, None if ends is None else T0 + timedelta(minutes=ends),
            {"generator_url": url}, resolved=resolved))

    def resolve(self, fingerprint: str, labels: dict[str, str], minute: float,
                ends: float) -> None:
        self.fire(fingerprint, labels, minute, ends=ends, resolved=True)

    def incidents(self) -> list[Incident]:
        found = [self.app.load(Incident, n.originator_id)
                 for n in self.app.recorder.select_notifications(0, 10_000)
                 if n.topic.endswith("Incident.Opened")]
        return sorted(found, key=lambda i: i.opened_at)


def fingerprints(incident: Incident, firing: bool = False) -> set[str]:
    """The fingerprints of its alerts (of those still firing)."""
    return {f for a, f in incident.alerts.items() if not firing or a in incident.firing}


def settle(lanes: list[Lane]) -> None:
    while sum(lane.poll() for lane in lanes):
        pass


@pytest.fixture
def altlas() -> Iterator[Altlas]:
    found = Altlas(policy())
    yield found
    found.app.close()


DB = {"instance": "db-1:9100"}
WEB = {"instance": "web-1:9100"}
API = {"instance": "web-2:9100"}


def test_a_fault_and_its_symptoms_become_one_incident_rooted_at_the_dependency(
    altlas: Altlas
) -> None:
    altlas.fire("db", DB)
    altlas.fire("web", WEB, minute=1)
    settle(altlas.worker())
    [incident] = altlas.incidents()
    assert fingerprints(incident) == {"db", "web"}
    assert incident.title == "Alertdb on postgres"
    assert [c["component"] for c in incident.root_causes] == ["postgres", "web"]
    assert "1 alerting component(s) depend on it (web)" in incident.root_causes[0]["evidence"]


def test_alerts_far_apart_and_unrelated_open_separate_incidents(altlas: Altlas) -> None:
    altlas.fire("web", WEB)
    altlas.fire("other", {"instance": "build-7:9100"}, minute=1)
    altlas.fire("db", DB, minute=30)
    settle(altlas.worker())
    assert [fingerprints(i) for i in altlas.incidents()] == [{"web"}, {"other"}, {"db"}]


def test_another_process_decides_the_next_alert_like_the_first_would_have(
    altlas: Altlas
) -> None:
    altlas.fire("web", WEB)
    settle(altlas.worker())
    altlas.fire("db", DB, minute=1)
    settle(altlas.worker())  # a new process: its correlator reads the earlier alerts first
    [incident] = altlas.incidents()
    assert fingerprints(incident) == {"web", "db"}
    assert incident.root_causes[0]["component"] == "postgres"


def test_a_common_cause_merges_the_incidents_of_its_dependents(altlas: Altlas) -> None:
    altlas.fire("web", WEB)
    altlas.fire("api", API, minute=1)
    lanes = altlas.worker()
    settle(lanes)
    assert len(altlas.incidents()) == 2
    altlas.fire("db", DB, minute=2)
    settle(lanes)
    first, second = altlas.incidents()
    assert first.status == "open" and fingerprints(first) == {"web", "api", "db"}
    assert second.status == "merged" and second.merged_into == str(first.id)
    assert first.root_causes[0]["component"] == "postgres"


def test_an_incident_resolves_with_its_last_alert_and_says_each_before(
    altlas: Altlas
) -> None:
    altlas.fire("db", DB)
    altlas.fire("web", WEB, minute=1)
    lanes = altlas.worker()
    settle(lanes)
    altlas.resolve("web", WEB, minute=1, ends=5)
    settle(lanes)
    [incident] = altlas.incidents()
    assert incident.status == "open" and fingerprints(incident, firing=True) == {"db"}
    altlas.resolve("db", DB, minute=0, ends=6)
    settle(altlas.worker())  # whichever process hears it
    [incident] = altlas.incidents()
    assert incident.status == "resolved" and incident.resolved_at == (
        T0 + timedelta(minutes=6)).isoformat()


def test_a_re_sent_alert_changes_no_incident_and_a_new_firing_opens_a_new_one(
    altlas: Altlas
) -> None:
    lanes = altlas.worker()
    altlas.fire("web", WEB)
    settle(lanes)
    altlas.app.clock.advance(minutes=1)  # type: ignore[attr-defined]
    altlas.fire("web", WEB)  # Alertmanager's repeat: AlertRefreshed
    altlas.resolve("web", WEB, minute=0, ends=3)
    settle(lanes)
    altlas.fire("web", WEB, minute=20)  # the same alert fires again later
    settle(lanes)
    first, second = altlas.incidents()
    assert first.status == "resolved" and second.status == "open"
    assert first.version == 2  # opened, resolved: the repeat added nothing


def expired(altlas: Altlas, fingerprint: str) -> list[Alert.Expired]:
    return [e for n in altlas.app.recorder.select_notifications(0, 10_000)
            if n.topic.endswith("Alert.Expired")
            and isinstance(e := altlas.app.mapper.to_domain_event(n), Alert.Expired)
            and altlas.app.load(Alert, e.originator_id).fingerprint == fingerprint]


def test_an_alert_whose_end_passes_without_a_resolved_notice_expires_with_its_incident(
    altlas: Altlas
) -> None:
    lanes = altlas.worker()
    altlas.fire("web", WEB, ends=4)  # a sender that says when it ends unless sent again
    altlas.fire("other", {"instance": "build-7:9100"}, minute=6)
    settle(lanes)
    [gone] = expired(altlas, "web")
    assert gone.ends_at == (T0 + timedelta(minutes=4)).isoformat()
    assert "endsAt" in gone.reason and gone.actor == "altlas:correlator"
    web, other = altlas.incidents()
    assert web.status == "resolved" and web.resolved_at == gone.ends_at
    assert other.status == "open"


def test_an_end_moved_on_by_a_re_sent_alert_keeps_it_firing(altlas: Altlas) -> None:
    lanes = altlas.worker()
    altlas.fire("web", WEB, ends=4)
    altlas.app.clock.advance(minutes=3)  # type: ignore[attr-defined]
    altlas.fire("web", WEB, ends=8)  # sent again: AlertRefreshed with the new end
    altlas.fire("other", {"instance": "build-7:9100"}, minute=6)
    settle(lanes)
    assert expired(altlas, "web") == []
    altlas.fire("more", {"instance": "build-7:9100"}, minute=9)
    settle(lanes)
    [gone] = expired(altlas, "web")
    assert gone.ends_at == (T0 + timedelta(minutes=8)).isoformat()


def test_the_same_labels_firing_again_end_the_occurrence_before_without_a_notice(
    altlas: Altlas
) -> None:
    lanes = altlas.worker()
    altlas.fire("web", WEB)
    altlas.fire("db", DB, minute=1)
    settle(lanes)
    altlas.fire("web", WEB, minute=180)  # hours later, never resolved in between
    settle(lanes)
    [gone] = expired(altlas, "web")
    assert gone.ends_at == (T0 + timedelta(minutes=180)).isoformat()
    assert "fired again" in gone.reason
    first, second = altlas.incidents()
    assert fingerprints(first) == {"web", "db"}
    assert fingerprints(first, firing=True) == {"db"}  # the old web alert left it
    assert second.status == "open" and fingerprints(second) == {"web"}


def test_a_quiet_hour_still_expires_what_is_due_by_the_alerts_own_time(
    altlas: Altlas
) -> None:
    lanes = altlas.worker()
    altlas.fire("web", WEB, minute=60, ends=64)  # came at its start
    settle(lanes)
    desk = IncidentDesk(altlas.app)  # a worker's housekeeping reads the history itself
    assert desk.due(T0 + timedelta(minutes=63)) == []
    [due] = desk.due(T0 + timedelta(minutes=65))
    assert altlas.app.expire_alert(UUID(due.key), due.at, due.reason, due.incident)
    assert not altlas.app.expire_alert(UUID(due.key), due.at, due.reason, due.incident)
    settle(lanes)
    [incident] = altlas.incidents()
    assert incident.status == "resolved"
    assert desk.due(T0 + timedelta(minutes=65)) == []


def test_a_storm_replayed_long_after_is_judged_by_its_own_time(altlas: Altlas) -> None:
    """Alerts of last week posted now: their ends are in the past of the wall clock, but
    the desk's clock is the alerts' own, moved on only by the time since the latest came."""
    altlas.app.clock.now = T0 + timedelta(days=7)  # type: ignore[attr-defined]
    lanes = altlas.worker()
    altlas.fire("web", WEB, ends=4)
    altlas.fire("db", DB, minute=2, ends=9)
    settle(lanes)
    [incident] = altlas.incidents()
    assert fingerprints(incident, firing=True) == {"web", "db"}
    desk = IncidentDesk(altlas.app)
    assert [d.key for d in desk.due(T0 + timedelta(days=7, minutes=3))] \
        == [a for a, f in incident.alerts.items() if f == "web"]


def test_the_window_is_the_policys() -> None:
    narrow = Altlas(policy(window="30s", spread="30s"))
    narrow.fire("db", DB)
    narrow.fire("web", WEB, minute=1)
    settle(narrow.worker())
    assert len(narrow.incidents()) == 2
    narrow.app.close()


def test_a_bad_correlation_setting_is_refused_with_its_path() -> None:
    from domain.policy import PolicyError

    with pytest.raises(PolicyError, match=r"incidents\.threshold: must be a relation score"):
        policy(threshold=3)
    with pytest.raises(PolicyError, match=r"incidents\.window: must be a positive duration"):
        policy(window="soon")
    with pytest.raises(PolicyError, match=r"incidents\.max_length: must be at least the window"):
        policy(spread="30m", max_length="20m")
    with pytest.raises(PolicyError, match=r"incidents\.host_alerts: is not a valid regular"):
        policy(host_alerts="Host(")


class FakeMetrics:
    """Prometheus's answers: a series that jumps when the incident opened."""

    def __init__(self, down: bool = False) -> None:
        self.down = down
        self.asked: list[tuple[str, datetime, datetime, float]] = []

    def series(self, query: str, start: datetime, end: datetime, step_s: float
               ) -> list[tuple[str, list[tuple[float, float]]]]:
        self.asked.append((query, start, end, step_s))
        if self.down:
            raise MetricsUnavailableError("Prometheus at http://127.0.0.1:9: connection refused")
        opened = T0.timestamp()
        points = [(opened - 60 * i, 10.0 + i % 3) for i in range(60, 0, -1)]
        return [('pg_up{instance="db-1:9187"}', [*points, (opened, 10.0), (opened + 60, 95.0)])]


class PastIncidents:
    def incidents(self, *, root: str, **_: Any) -> list[dict[str, Any]]:
        fixed = {"task_id": "t-1", "request": "restart postgresql on db-1",
                 "source": "annotation", "pattern": None}
        return [i for i in [{"incident_id": "old-1", "title": "Alertdb on postgres",
                             "resolved_at": T0 - timedelta(days=2), "root": "postgres",
                             "remediation": fixed},
                            {"incident_id": "old-2", "title": "Alertx on web", "resolved_at": T0,
                             "root": "web", "remediation": None}] if i["root"] == root]

    def runs_of(self, task_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        ran = {"t-1": ("0f45361100000000", "succeeded")}
        return {t: ran[t] for t in task_ids if t in ran}


def enrichment(metrics: FakeMetrics, altlas: Altlas) -> Enrichment:
    return Enrichment(metrics, lambda: PastIncidents(),  # type: ignore[arg-type,return-value]
                      lambda: T0 + timedelta(minutes=3),
                      lambda service: ("pg_up",) if service == "postgres" else ())


def test_a_new_incident_is_enriched_with_its_metrics_anomalies_and_past_incidents(
    altlas: Altlas
) -> None:
    metrics = FakeMetrics()
    altlas.fire("db", DB, url="http://prom:9090/graph?g0.expr=pg_stat_activity_count+%3E+90")
    settle(altlas.worker(enrichment(metrics, altlas)))
    [incident] = altlas.incidents()
    [enriched] = [e for e in altlas.app.events.get(incident.id)
                  if isinstance(e, Incident.Enriched)]
    assert [q for q, *_ in metrics.asked] == ["pg_stat_activity_count", "pg_up"]
    _, start, end, step = metrics.asked[0]
    assert (start, end) == (T0 - timedelta(hours=1), T0 + timedelta(minutes=3))
    assert step == 16  # about 240 samples over the span
    assert [m["anomalous"] for m in enriched.metrics] == [True, True]
    assert enriched.similar == [{"id": "old-1", "title": "Alertdb on postgres",
                                 "resolved_at": (T0 - timedelta(days=2)).isoformat(),
                                 "remedy": {"request": "restart postgresql on db-1",
                                            "task_id": "t-1", "run_id": "0f45361100000000",
                                            "outcome": "succeeded"}}]
    assert ("“restart postgresql on db-1” fixed one of them (run 0f453611)."
            in enriched.summary)
    assert enriched.summary.startswith("Alertdb on postgres. Likely cause: postgres (")
    assert "2 of 2 series out of their usual range:" in enriched.summary
    assert 'pg_up{instance="db-1:9187"} at 95 (z ' in enriched.summary
    assert enriched.problems == [] and enriched.summarizer == "template"


def test_prometheus_away_never_holds_an_incident_back(altlas: Altlas) -> None:
    metrics = FakeMetrics(down=True)
    altlas.fire("db", DB)
    settle(altlas.worker(enrichment(metrics, altlas)))
    [incident] = altlas.incidents()
    [enriched] = [e for e in altlas.app.events.get(incident.id)
                  if isinstance(e, Incident.Enriched)]
    assert enriched.metrics == [] and len(metrics.asked) == 1  # one try, not one per query
    assert enriched.problems == ["Prometheus at http://127.0.0.1:9: connection refused"]
    assert "Not checked: Prometheus at http://127.0.0.1:9" in enriched.summary


def oncall_policy() -> Policy:
    data = yaml.safe_load(default_policy_text())
    data["environments"]["prod"]["oncall_channels"] = {"discord": "900000000000000001"}
    return Policy.from_mapping(data)


def test_an_alerts_altlas_annotation_is_proposed_as_a_task_told_in_the_incidents_thread(
) -> None:
    altlas = Altlas(oncall_policy())
    altlas.app.receive_alert(IncomingAlert(
        "db", {"alertname": "DiskFull", "instance": "db-1:9100"},
        {"summary": "disk almost full", "altlas": "check disk on db-1"}, T0, None, {}))
    settle(altlas.worker(enrichment(FakeMetrics(), altlas)))
    [incident] = altlas.incidents()
    assert incident.remediation is not None and incident.remediation["source"] == "annotation"
    task = altlas.app.load(Task, UUID(incident.remediation["task_id"]))
    assert (task.request, task.requester, task.environment, task.source) == (
        "check disk on db-1", "altlas:incidents", "prod", "incident")
    assert task.reply_to == {"front": "discord", "channel": "900000000000000001",
                             "incident": str(incident.id)}
    altlas.app.close()


class FakeAtlas:
    """The .atlas of an installation where restarting postgres fixed it twice."""

    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan

    def patterns(self, query: str, imported: bool = True) -> list[Any]:
        assert query == "postgres"
        good = type("P", (), {"successes": 2, "runs": 2, "plan": self.plan, "interval": (0.34, 1),
                              "requests": ["restart postgres on db-1"],
                              "pattern": "ssh:restart"})()
        return [good]


def test_without_an_annotation_what_fixed_it_before_is_proposed_with_its_plan() -> None:
    altlas = Altlas(oncall_policy())
    known = {"alt": 1, "steps": [{"id": "s1", "kind": "ssh", "target": "db-1",
                                  "action": "systemctl restart postgresql"}]}
    remedies = Enrichment(FakeMetrics(), lambda: PastIncidents(),  # type: ignore[arg-type,return-value]
                          lambda: T0, lambda _: (), lambda: FakeAtlas(known))  # type: ignore[arg-type,return-value]
    altlas.fire("db", DB)
    settle(altlas.worker(remedies))
    [incident] = altlas.incidents()
    assert incident.remediation == {"task_id": incident.remediation["task_id"],  # type: ignore[index]
                                    "request": "restart postgres on db-1", "source": "atlas",
                                    "pattern": "ssh:restart"}
    task = altlas.app.load(Task, UUID(incident.remediation["task_id"]))  # type: ignore[index]
    assert task.status == "segmented" and task.segmenter == "atlas:ssh:restart"
    assert [g["risk"] for g in task.gates] == ["HIGH_RISK"]  # through the gates like any plan
    altlas.app.close()


def test_the_chart_shows_the_most_anomalous_series_else_the_first_with_a_line() -> None:
    def m(name: str, anomalous: bool, z: float | None, points: int = 3) -> dict[str, Any]:
        return {"series": name, "anomalous": anomalous, "z": z,
                "points": [[float(i), 1.0] for i in range(points)]}

    assert key_series([m("a", True, 4.0), m("b", True, -9.0), m("c", False, 1.0)])[
        "series"] == "b"  # type: ignore[index]
    assert key_series([m("a", True, 40.0), m("flat", True, None)])["series"] == "flat"  # type: ignore[index]
    assert key_series([m("one", True, 99.0, points=1), m("c", False, 1.0)])[
        "series"] == "c"  # type: ignore[index]
    assert key_series([m("one", False, None, points=1)]) is None


class FakeModel:
    name = "local:fake"

    def __init__(self, reply: str | Exception) -> None:
        self.reply = reply
        self.asked: list[Any] = []

    def complete(self, messages: Any, *, max_tokens: int, json_schema: Any = None,
                 temperature: float = 0.0) -> str:
        self.asked.append(messages)
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


def enriched_by(model: FakeModel) -> Incident.Enriched:
    altlas = Altlas(policy())
    altlas.fire("db", DB)
    settle(altlas.worker(Enrichment(FakeMetrics(), lambda: PastIncidents(),  # type: ignore[arg-type,return-value]
                                    lambda: T0, lambda _: (), None, model)))  # type: ignore[arg-type]
    [incident] = altlas.incidents()
    [found] = [e for e in altlas.app.events.get(incident.id) if isinstance(e, Incident.Enriched)]
    altlas.app.close()
    return found


def test_a_model_writes_the_summary_from_the_facts_the_template_gathered() -> None:
    model = FakeModel("  postgres on db-1 is down; web slows because of it. Check db-1.  ")
    found = enriched_by(model)
    assert found.summary == "postgres on db-1 is down; web slows because of it. Check db-1."
    assert found.summarizer == "local:fake"
    [[system, user]] = model.asked
    assert "Use only the facts given" in system["content"]
    assert user["content"].startswith("Alertdb on postgres. Likely cause: postgres")


def test_a_model_that_fails_leaves_the_template_summary_and_says_so() -> None:
    found = enriched_by(FakeModel(RuntimeError("llama_decode returned -3")))
    assert found.summarizer == "template"
    assert found.summary.startswith("Alertdb on postgres. Likely cause: postgres")
    assert found.problems[-1] == "summary by local:fake failed: RuntimeError"
