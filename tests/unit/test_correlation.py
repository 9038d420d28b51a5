"""Grouping alerts into incidents and ranking root causes: what an on-call engineer sees as
one incident, with the component to look at first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.correlation import Correlator, Firing, Service, Settings, Topology, host_of

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SHOP = Topology([
    Service("postgres", hosts=("db-1",)),
    Service("payments", hosts=("pay-1", "pay-2"), depends_on=("postgres",)),
    Service("checkout", hosts=("web-1", "web-2"), depends_on=("payments", "postgres")),
    Service("search", hosts=("search-1",)),
])


def alert(fingerprint: str, name: str, at: int, summary: str = "", **labels: str) -> Firing:
    return Firing(fingerprint, name, {"alertname": name, **labels}, {"summary": summary},
                 T0 + timedelta(seconds=at))


def test_a_failing_dependency_and_its_dependents_are_one_incident_caused_by_it() -> None:
    c = Correlator(SHOP)
    first = c.add(alert("a1", "HighLatency", 0, instance="web-1:9100"))
    assert first.opened
    assert c.add(alert("a2", "ErrorRate", 20, service="payments")).incident == first.incident
    assert c.add(alert("a3", "PostgresDown", 40, instance="db-1:9187")).incident == first.incident
    [cause, *_] = c.root_causes(first.incident)
    assert cause.component == "postgres"  # upstream of everything else alerting
    assert "2 alerting component(s) depend on it (checkout, payments)" in cause.evidence
    assert [r.component for r in c.root_causes(first.incident)] == [
        "postgres", "payments", "checkout"]


def test_unrelated_services_are_separate_incidents() -> None:
    c = Correlator(SHOP)
    a = c.add(alert("a1", "DiskFull", 0, service="search"))
    b = c.add(alert("b1", "HighLatency", 10, service="checkout"))
    assert a.opened and b.opened and a.incident != b.incident


def test_an_alert_after_the_window_opens_a_new_incident() -> None:
    c = Correlator(SHOP, Settings(window=timedelta(minutes=5)))
    a = c.add(alert("a1", "HighLatency", 0, service="checkout"))
    assert c.add(alert("a2", "ErrorRate", 299, service="checkout")).incident == a.incident
    later = c.add(alert("a3", "ErrorRate", 299 + 301, service="checkout"))
    assert later.opened and later.incident != a.incident


def test_a_resent_alert_is_a_repeat_not_a_new_member() -> None:
    c = Correlator(SHOP)
    a = c.add(alert("a1", "HighLatency", 0, service="checkout"))
    again = c.add(alert("a1", "HighLatency", 60, service="checkout"))
    assert again.repeat and again.incident == a.incident
    assert len(c.incidents[a.incident].alerts) == 1


def test_hosts_outside_the_topology_correlate_by_their_labels() -> None:
    c = Correlator(SHOP)
    a = c.add(alert("a1", "NodeDown", 0, instance="cache-7:9100"))
    b = c.add(alert("a2", "HighLoad", 30, instance="cache-7:9100"))
    other = c.add(alert("a3", "NodeDown", 30, instance="cache-8:9100"))
    assert b.incident == a.incident and other.incident != a.incident


def test_a_shared_cluster_alone_does_not_join_but_shared_words_help() -> None:
    c = Correlator(SHOP)
    a = c.add(alert("a1", "NodeDown", 0, "node unreachable in eu-1", instance="x-1",
                    cluster="eu-1"))
    b = c.add(alert("a2", "DiskFull", 5, "disk nearly full", instance="y-1", cluster="eu-1"))
    assert b.incident != a.incident
    d = c.add(alert("a3", "NodeDown", 10, "node unreachable in eu-1", instance="z-1",
                    cluster="eu-1"))
    assert d.incident == a.incident


def test_a_cause_of_two_incidents_merges_them_under_it() -> None:
    shop = Topology([*SHOP.services.values(), Service("reports", depends_on=("postgres",))])
    c = Correlator(shop)
    web = c.add(alert("a1", "HighLatency", 0, service="checkout"))
    reports = c.add(alert("a2", "Slow", 5, service="reports"))
    assert web.incident != reports.incident  # neither depends on the other
    db = c.add(alert("a3", "PostgresDown", 10, service="postgres"))
    assert db.incident == web.incident and db.merged == (reports.incident,)
    assert set(c.incidents[web.incident].alerts) == {"a1", "a2", "a3"}
    assert reports.incident not in c.incidents
    assert c.root_causes(web.incident)[0].component == "postgres"
    assert c.add(alert("a2", "Slow", 20, service="reports")).repeat


def test_a_resolved_incident_takes_no_more_alerts_and_a_refire_is_new() -> None:
    c = Correlator(SHOP)
    a = c.add(alert("a1", "HighLatency", 0, service="checkout"))
    c.add(alert("a2", "ErrorRate", 10, service="checkout"))
    assert c.resolve("a1", T0 + timedelta(seconds=60)) is None  # a2 still fires
    assert c.resolve("a2", T0 + timedelta(seconds=70)) == a.incident
    again = c.add(alert("a1", "HighLatency", 80, service="checkout"))
    assert again.opened and again.incident != a.incident
    assert c.resolve("never-seen", T0) is None


def test_host_of_an_instance() -> None:
    assert host_of("web-1:9100") == "web-1"
    assert host_of("[::1]:9100") == "::1"
    assert host_of("db-1") == "db-1"
