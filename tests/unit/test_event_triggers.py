"""Triggers on altlas's own events, on the in-memory store: an enriched incident whose
likeliest cause matches runs the runbook on the cause's host, a pattern falling low runs its
trigger's, and an event a runbook refuses is recorded as missed with the reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.base import EventMeta
from domain.catalog import upcast
from domain.incidents import Incident, incident_id
from domain.knowledge import PatternWatch, watch_id
from domain.records import RecordedEvent
from domain.triggers import AlreadyFiredError, Trigger, TriggerError, incident_facts, trigger_id
from tests.unit.test_runbooks import DISK, Desk

HOSTS_OF = {"postgres": ("db-1",), "web": ("web-1", "web-2")}


@pytest.fixture
def desk() -> Iterator[Desk]:
    found = Desk()
    found.ports = dataclasses.replace(found.ports, event_triggers=lambda _: [
        trigger_id(n) for n in ("db-disk", "flaky") if found.app.exists(trigger_id(n))])
    found.uc.publish_runbook("alice", DISK)
    yield found
    found.app.close()


def follow_incidents(desk: Desk, match: str = "postgres|db-.*") -> None:
    desk.uc.create_event_trigger("alice", "db-disk", "disk-check", {"threshold": 90},
                                 "incident-cause", match, {"host": "host"})


def enriched_incident(desk: Desk, component: str, kind: str = "service") -> UUID:
    meta = EventMeta.for_command("altlas:correlator")
    incident = Incident.open(incident_id(uuid4()), {str(uuid4()): "f1"}, f"DiskFull on "
                             f"{component}", [{"component": component, "kind": kind,
                                               "score": 2, "evidence": "-"}],
                             "2026-12-03T12:00:00+00:00", meta)
    incident.enrich({"metrics": [], "similar": [], "problems": [], "summary": "disk",
                     "summarizer": "rules"}, meta)
    desk.app.save(incident)
    desk.settle()
    return incident.id


def trigger_events(desk: Desk, name: str = "db-disk") -> list[Any]:
    return [e for e in desk.app.events.get(trigger_id(name))
            if isinstance(e, Trigger.Fired | Trigger.Missed)]


def test_the_likeliest_cause_names_the_host_of_a_service_on_one_host() -> None:
    causes = [{"component": "postgres", "kind": "service"}, {"component": "web-1",
                                                              "kind": "host"}]
    facts = incident_facts("i-1", "t", causes, HOSTS_OF)
    assert facts == {"incident": "i-1", "component": "postgres", "kind": "service",
                     "service": "postgres", "host": "db-1", "title": "t"}
    web = incident_facts("i-2", "t", [{"component": "web", "kind": "service"}], HOSTS_OF)
    assert web is not None and "host" not in web  # two hosts: none is guessed
    assert incident_facts("i-3", "t", [], HOSTS_OF) is None


@pytest.mark.parametrize(("component", "fires"), [
    ("postgres", True), ("db-1", True), ("postgres-replica", False), ("my-db-1", False)])
def test_a_match_covers_the_whole_cause(desk: Desk, component: str, fires: bool) -> None:
    follow_incidents(desk)
    trigger = desk.app.load(Trigger, trigger_id("db-disk"))
    assert trigger.follows("incident-cause", {"component": component}) is fires
    assert not trigger.follows("pattern-low", {"pattern": component})


def test_an_incident_whose_cause_matches_runs_the_runbook_on_the_causes_host(
        desk: Desk) -> None:
    follow_incidents(desk)
    ident = enriched_incident(desk, "postgres")
    [fired] = trigger_events(desk)
    assert isinstance(fired, Trigger.Fired)
    assert fired.cause is not None and fired.cause["aggregate"] == str(ident)
    assert fired.cause["event"] == "IncidentEnriched" and fired.next_at is None
    task = desk.app.get_task(fired.task_id)
    assert task.requester == "altlas:trigger:db-disk" and "host=db-1" in task.request
    assert "threshold=90" in task.request


def test_an_incident_whose_cause_does_not_match_runs_nothing(desk: Desk) -> None:
    follow_incidents(desk)
    enriched_incident(desk, "web-1", kind="host")
    assert trigger_events(desk) == []


def test_a_paused_event_trigger_runs_nothing_until_resumed(desk: Desk) -> None:
    follow_incidents(desk)
    desk.uc.change_trigger("alice", "db-disk", "pause")
    enriched_incident(desk, "postgres")
    assert trigger_events(desk) == []
    desk.uc.change_trigger("alice", "db-disk", "resume")
    enriched_incident(desk, "db-1", kind="host")
    assert [type(e) for e in trigger_events(desk)] == [Trigger.Fired]


def test_an_incident_its_runbook_refuses_is_recorded_as_missed_with_the_reason(
        desk: Desk) -> None:
    follow_incidents(desk, match="web")
    enriched_incident(desk, "web")  # on two hosts: no host to fill the parameter with
    [missed] = trigger_events(desk)
    assert isinstance(missed, Trigger.Missed) and "parameter host" in missed.reason
    assert missed.cause is not None


def test_a_pattern_falling_low_runs_its_trigger(desk: Desk) -> None:
    desk.uc.create_event_trigger("alice", "flaky", "disk-check",
                                 {"host": "web-1", "threshold": 80}, "pattern-low",
                                 "runbook:.*", {})
    meta = EventMeta.for_command("altlas:atlas")
    watch = PatternWatch.open("runbook:restart", meta)
    watch.observe(5, 1, 0.8, 5, "exit 1", str(uuid4()), meta)
    desk.app.save(watch)
    desk.settle()
    [fired] = trigger_events(desk, "flaky")
    assert isinstance(fired, Trigger.Fired) and fired.cause is not None
    assert fired.cause["aggregate"] == str(watch_id("runbook:restart"))


@pytest.mark.parametrize(("event", "match", "fields", "why"), [
    ("incident-opened", ".*", {"host": "host"}, "--on follows one of incident-cause, pattern-low"),
    ("incident-cause", "(", {"host": "host"}, "not a regular expression"),
    ("incident-cause", "db", {"host": "hostname"}, "no fact 'hostname'"),
    ("incident-cause", "db", {}, "parameter host is neither given nor mapped"),
])
def test_an_event_trigger_written_wrong_is_refused(desk: Desk, event: str, match: str,
                                                   fields: dict[str, str], why: str) -> None:
    with pytest.raises(TriggerError, match=why):
        desk.uc.create_event_trigger("alice", "db-disk", "disk-check", {"threshold": 90},
                                     event, match, fields)
    assert not desk.app.exists(trigger_id("db-disk"))


def test_one_event_fires_a_trigger_once(desk: Desk) -> None:
    follow_incidents(desk)
    enriched_incident(desk, "postgres")
    trigger = desk.app.load(Trigger, trigger_id("db-disk"))
    [fired] = trigger_events(desk)
    assert fired.cause is not None
    with pytest.raises(AlreadyFiredError):
        trigger.fire_on(fired.cause, fired.scheduled_at, fired.fired_at, uuid4(),
                        EventMeta.for_command("altlas:w2"))


def test_triggers_recorded_before_event_triggers_read_as_following_no_event() -> None:
    def old(type_name: str) -> RecordedEvent:
        return RecordedEvent(position=None, aggregate_id=uuid4(), version=1,
                             type_name=type_name, state={"class_version": 1})

    assert upcast(old("TriggerCreated")).state["on"] is None
    assert upcast(old("TriggerFired")).state["cause"] is None
    assert upcast(old("TriggerMissed")).state["cause"] is None
