"""Grouping alerts into incidents and ranking root causes: what an on-call engineer sees as
one incident, with the component to look at first; alerts as Alertmanager means them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.correlation import (
    CLUSTER,
    HOST,
    SERVICE,
    Correlator,
    Occurrence,
    Service,
    Settings,
    Topology,
    host_of,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SHOP = Topology([
    Service("postgres", hosts=("db-1",)),
    Service("payments", hosts=("pay-1", "pay-2"), depends_on=("postgres",)),
    Service("checkout", hosts=("web-1", "web-2"), depends_on=("payments", "postgres")),
    Service("search", hosts=("search-1",)),
])


def alert(key: str, name: str, at: float, summary: str = "", *, ends: float | None = None,
          fingerprint: str | None = None, **labels: str) -> Occurrence:
    return Occurrence(key, fingerprint or key, name, {"alertname": name, **labels},
                      {"summary": summary}, T0 + timedelta(seconds=at),
                      None if ends is None else T0 + timedelta(seconds=ends))


def minutes(n: float) -> float:
    return n * 60


def test_a_failing_dependency_and_its_dependents_are_one_incident_caused_by_it() -> None:
    c = Correlator(SHOP)
    first = c.add(alert("a1", "HighLatency", 0, instance="web-1:9100"))
    assert first.opened
    assert c.add(alert("a2", "ErrorRate", 20, service="payments")).incident == first.incident
    assert c.add(alert("a3", "PostgresDown", 40, instance="db-1:9187")).incident == first.incident
    [cause, *_] = c.root_causes(first.incident)
    assert (cause.component, cause.kind) == ("postgres", SERVICE)  # upstream of the rest
    assert "2 alerting component(s) depend on it (checkout, payments)" in cause.evidence
    assert [r.component for r in c.root_causes(first.incident)] == [
        "postgres", "payments", "checkout"]


def test_unrelated_services_are_separate_incidents() -> None:
    c = Correlator(SHOP)
    a = c.add(alert("a1", "SearchIndexStale", 0, service="search"))
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
    again = c.add(alert("a1", "HighLatency", 0, service="checkout"))
    assert again.repeat and again.incident == a.incident
    assert len(c.incidents[a.incident].members) == 1


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
    assert set(c.incidents[web.incident].members) == {"a1", "a2", "a3"}
    assert reports.incident not in c.incidents
    assert c.root_causes(web.incident)[0].component == "postgres"
    assert c.add(alert("a2", "Slow", 5, service="reports")).repeat


def test_a_resolved_incident_takes_no_more_alerts_and_a_refire_is_new() -> None:
    c = Correlator(SHOP)
    a = c.add(alert("a1", "HighLatency", 0, service="checkout"))
    c.add(alert("a2", "ErrorRate", 10, service="checkout"))
    assert c.end("a1", T0 + timedelta(seconds=60)) == a.incident  # a2 still fires
    assert c.incidents[a.incident].live == {"a2"}
    c.end("a2", T0 + timedelta(seconds=70))
    assert not c.incidents[a.incident].live
    again = c.add(alert("a1-again", "HighLatency", 80, fingerprint="a1", service="checkout"))
    assert again.opened and again.incident != a.incident
    assert c.end("never-seen", T0) is None


def test_the_same_labels_firing_hours_later_are_a_new_occurrence_in_a_new_incident() -> None:
    c = Correlator(SHOP)
    first = c.add(alert("a1@0", "HighLatency", 0, fingerprint="a1", service="checkout"))
    c.add(alert("a2", "ErrorRate", 30, service="checkout"))
    later = c.add(alert("a1@3h", "HighLatency", minutes(180), fingerprint="a1",
                        service="checkout"))
    assert later.opened and later.incident != first.incident
    [ended] = [e for e in later.ended if e.key == "a1@0"]
    assert ended.at == T0 + timedelta(minutes=180) and "fired again" in ended.reason
    assert "a1@0" not in c.incidents[first.incident].live
    # the old incident does not take the later fault's other alerts either
    assert c.add(alert("a3", "Errors", minutes(181), service="checkout")).incident \
        == later.incident


def test_an_occurrence_is_over_when_its_ends_at_passes_without_a_resolved_notice() -> None:
    c = Correlator(SHOP)
    a = c.add(alert("a1", "HighLatency", 0, ends=minutes(4), service="checkout"))
    c.refresh("a1", T0 + timedelta(minutes=5))  # sent again: its end moves on
    quiet = c.add(alert("s1", "SearchIndexStale", minutes(4.5), service="search"))
    assert not quiet.ended and "a1" in c.incidents[a.incident].live
    later = c.add(alert("s2", "SearchSlow", minutes(6), service="search"))
    [ended] = later.ended
    assert (ended.key, ended.at) == ("a1", T0 + timedelta(minutes=5))
    assert "endsAt" in ended.reason and not c.incidents[a.incident].live
    # the incident followed its alert: a new checkout alert opens another
    assert c.add(alert("a2", "ErrorRate", minutes(7), service="checkout")).opened


def test_an_alert_that_arrives_after_its_end_is_correlated_and_over_at_once() -> None:
    c = Correlator(SHOP)
    c.add(alert("s1", "SearchSlow", minutes(20), service="search"))
    late = c.add(alert("a1", "HighLatency", 0, ends=minutes(2), service="checkout"))
    assert [e.key for e in late.ended] == ["a1"]
    assert not c.incidents[late.incident].live


def test_what_is_due_is_only_told_until_it_is_ended() -> None:
    c = Correlator(SHOP)
    c.add(alert("a1", "HighLatency", 0, ends=minutes(4), service="checkout"))
    assert c.due(T0 + timedelta(minutes=3)) == []
    [due] = c.due(T0 + timedelta(minutes=5))
    assert due.key == "a1" and c.due(T0 + timedelta(minutes=5)) == [due]  # nothing ended
    c.end("a1", due.at)
    assert c.due(T0 + timedelta(minutes=5)) == []


def test_a_symptom_arriving_after_the_first_alert_s_window_joins_through_a_later_one() -> None:
    c = Correlator(SHOP, Settings(window=timedelta(minutes=5)))
    db = c.add(alert("p1", "PostgresDown", 0, service="postgres"))
    assert c.add(alert("y1", "ErrorRate", minutes(4), service="payments")).incident \
        == db.incident
    # 8 minutes after the first alert: the window slides with the incident's alerts
    assert c.add(alert("c1", "HighLatency", minutes(8), service="checkout")).incident \
        == db.incident


def test_relations_are_judged_against_every_member_not_only_the_first() -> None:
    shop = Topology([*SHOP.services.values(),
                     Service("ledger", hosts=("led-1",), depends_on=("payments",))])
    c = Correlator(shop)
    i = c.add(alert("c1", "HighLatency", 0, service="checkout"))
    assert c.add(alert("y1", "ErrorRate", 20, service="payments")).incident == i.incident
    # the ledger depends on payments only, not on checkout: it relates to the later member
    assert c.add(alert("l1", "LedgerLag", 40, service="ledger")).incident == i.incident


def test_an_upstream_alert_arriving_after_its_symptoms_becomes_the_cause() -> None:
    c = Correlator(SHOP)
    i = c.add(alert("c1", "HighLatency", 0, service="checkout"))
    c.add(alert("y1", "ErrorRate", 30, service="payments"))
    assert c.root_causes(i.incident)[0].component == "payments"
    c.add(alert("p1", "PostgresDown", minutes(4), service="postgres"))  # its `for:` was long
    assert c.root_causes(i.incident)[0].component == "postgres"


def test_an_unrelated_alert_that_merely_came_first_is_not_named_the_cause() -> None:
    c = Correlator(SHOP)
    noise = c.add(alert("n1", "CertificateExpiresSoon", 0, service="checkout"))
    c.add(alert("p1", "PostgresDown", 5, service="postgres"))
    c.add(alert("y1", "ErrorRate", 20, service="payments"))
    assert c.root_causes(noise.incident)[0].component == "postgres"


def test_a_host_alert_names_the_host_and_explains_every_service_on_it() -> None:
    shared = Topology([Service("postgres", hosts=("db-1", "db-2")),
                       Service("redis", hosts=("db-2",)),
                       Service("api", hosts=("api-1",), depends_on=("redis",)),
                       Service("search", hosts=("search-1",))])
    c = Correlator(shared)
    host = c.add(alert("h1", "HostDown", 0, instance="db-2:9100", service="postgres",
                       job="postgres"))
    assert c.facts("h1").component == (HOST, "db-2")  # type: ignore[union-attr]
    assert c.add(alert("r1", "RedisDown", 20, service="redis")).incident == host.incident
    assert c.add(alert("a1", "Errors", 60, service="api")).incident == host.incident
    assert c.add(alert("s1", "Slow", 60, service="search")).opened
    [cause, *_] = c.root_causes(host.incident)
    assert (cause.component, cause.kind) == ("db-2", HOST)
    assert "2 alerting component(s) depend on it (api, redis)" in cause.evidence


def test_a_node_exporter_alert_is_about_its_host_whatever_its_name() -> None:
    c = Correlator(SHOP)
    c.add(alert("h1", "HighLoad", 0, instance="db-1:9100", job="node"))
    assert c.facts("h1").component == (HOST, "db-1")  # type: ignore[union-attr]


def test_a_host_is_found_in_its_node_label_when_the_instance_is_an_address() -> None:
    c = Correlator(Topology([Service("checkout", hosts=("node-3", "node-4"))]))
    c.add(alert("k1", "KubeNodeNotReady", 0, node="node-3", instance="10.2.3.4:10250"))
    assert c.facts("k1").component == (HOST, "node-3")  # type: ignore[union-attr]


def test_a_cluster_alert_explains_the_services_of_its_cluster() -> None:
    eu = Topology([Service("web", hosts=("w-1",), cluster="eu-1"),
                   Service("api", hosts=("a-1",), cluster="eu-1"),
                   Service("batch", hosts=("b-1",), cluster="us-1")])
    c = Correlator(eu)
    web = c.add(alert("w1", "HighLatency", 0, service="web"))
    dns = c.add(alert("d1", "ClusterDNSFailing", 30, cluster="eu-1"))
    assert dns.incident == web.incident
    assert c.add(alert("a1", "Errors", 60, service="api")).incident == web.incident
    assert c.add(alert("b1", "Errors", 60, service="batch")).opened
    [cause, *_] = c.root_causes(web.incident)
    assert (cause.component, cause.kind) == ("eu-1", CLUSTER)


def test_no_incident_takes_alerts_after_its_maximum_length() -> None:
    c = Correlator(SHOP, Settings(window=timedelta(minutes=10),
                                  max_length=timedelta(minutes=30)))
    first = c.add(alert("c0", "HighLatency", 0, service="checkout"))
    for n in range(1, 4):  # one every 9 minutes: each within the window of the last
        assert c.add(alert(f"c{n}", "ErrorRate", minutes(9 * n), service="checkout")).incident \
            == first.incident
    assert c.add(alert("c4", "ErrorRate", minutes(36), service="checkout")).opened


def test_host_of_an_instance() -> None:
    assert host_of("web-1:9100") == "web-1"
    assert host_of("[::1]:9100") == "::1"
    assert host_of("db-1") == "db-1"
