"""Getting around a trigger on altlas's own events: its owner approving the run it fired
(over HTTP and the CLI), the same event reacted to again (a replay, a second follower), and
someone who may not schedule runbooks adding one. The run waits at its gate, the event fires
once, and the refused trigger is not recorded."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Tracking

from application.core import run_id_of
from application.reactions.triggers import fire_on_incident
from domain.base import EventMeta
from domain.commands import analyse, mode_of
from domain.incidents import Incident, incident_id
from domain.triggers import Trigger, trigger_id
from tests.security.gatehouse import Gatehouse, auth, gatehouse

RESTART = {"runbook": 1, "name": "restart", "parameters": {
    "host": {"kind": "host"}, "service": {"kind": "service"}},
    "plan": {"alt": 1, "steps": [{"id": "go", "kind": "ssh",
                                  "action": "systemctl restart {param:service}",
                                  "target": "{param:host}"}]}}


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path_factory.mktemp("event-triggers"), worker=False) as found:
        uc = found.system.use_cases()
        pending = uc.publish_runbook("alice", RESTART)["pending"]
        uc.vote("bob", pending["approval_id"])
        found.system.worker().until_quiet()
        uc.create_event_trigger("alice", "db-restart", "restart", {}, "incident-cause",
                                "postgres", {"host": "host", "service": "service"})
        yield found


GREP = {"runbook": 1, "name": "grep-title", "parameters": {
    "host": {"kind": "host"}, "title": {"kind": "text", "pattern": "^.{1,100}$"}},
    "plan": {"alt": 1, "steps": [{"id": "find", "kind": "ssh",
                                  "action": "grep -c {param:title} /var/log/syslog",
                                  "target": "{param:host}"}]}}


def incident_on_postgres(house: Gatehouse, component: str = "postgres", kind: str = "service",
                         title: str = "Down on postgres") -> Incident:
    meta = EventMeta.for_command("altlas:correlator")
    incident = Incident.open(incident_id(uuid4()), {str(uuid4()): "f1"}, title,
                             [{"component": component, "kind": kind, "score": 1,
                               "evidence": "-"}], "2026-12-03T12:00:00+00:00", meta)
    incident.enrich({"metrics": [], "similar": [], "problems": [], "summary": "down",
                     "summarizer": "rules"}, meta)
    house.system.app.save(incident)
    house.system.worker().until_quiet()
    return incident


def firings(house: Gatehouse) -> list[Any]:
    return [e for e in house.system.app.events.get(trigger_id("db-restart"))
            if isinstance(e, Trigger.Fired)]


def test_the_run_an_incident_fired_waits_and_its_owner_cannot_approve_it(
        house: Gatehouse) -> None:
    incident = incident_on_postgres(house)
    fired = next(f for f in firings(house) if f.cause["aggregate"] == str(incident.id))
    run = house.system.app.get_run(run_id_of(UUID(str(fired.task_id))))
    approval = run.steps[0].approval_id
    assert approval is not None and run.steps[0].status != "succeeded"
    assert house.post(f"/approvals/{approval}/votes", "alice").status_code == 403
    done = house.cli("approve", str(approval)[:8], "--as", "alice")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert house.get(f"/approvals/{approval}")["status"] == "open"
    assert house.post(f"/approvals/{approval}/votes", "bob").status_code in (200, 201)


def test_an_event_reacted_to_again_fires_nothing_more(house: Gatehouse) -> None:
    incident = incident_on_postgres(house)
    enriched = next(e for e in house.system.app.events.get(incident.id)
                    if isinstance(e, Incident.Enriched))
    ports = house.system.worker().lanes[0].ports
    before = house.events()
    for follower in ("altlas.policies.replay", "altlas.policies.second"):
        house.system.app.react(Tracking(follower, 1),
                               lambda r: fire_on_incident(enriched, r, ports))
    assert [f.cause["aggregate"] for f in firings(house)].count(str(incident.id)) == 1
    assert house.events() == before  # no task, no TriggerFired: nothing ran again


def test_someone_who_may_not_schedule_runbooks_cannot_follow_events(house: Gatehouse) -> None:
    done = house.cli("trigger", "add", "sneaky", "--runbook", "restart", "--on",
                     "incident-cause", ".*", "--map", "host=host", "--map", "service=service",
                     "--as", "erin")
    assert done.returncode == 2 and "operator" in done.stderr and "Traceback" not in done.stderr
    assert not house.system.app.exists(trigger_id("sneaky"))


def test_over_http_an_event_trigger_shows_what_it_follows(house: Gatehouse) -> None:
    shown = house.get("/triggers/db-restart")
    assert shown["on"] == {"event": "incident-cause", "match": "postgres",
                           "fields": {"host": "host", "service": "service"}}
    assert shown["owner"] == "alice" and shown["next_at"] is None
    [row] = [t for t in house.get("/triggers")["items"] if t["name"] == "db-restart"]
    assert row["schedule"] == "on incident-cause postgres"
    missing = house.client.get("/triggers/nothing-here", headers=auth("erin"))
    assert missing.status_code == 404 and "no trigger named nothing-here" in missing.text


def test_alert_text_mapped_into_a_run_stays_one_argument_or_is_refused(
        house: Gatehouse) -> None:
    """An incident's title and cause come from alert labels, which whoever can make an
    alert fire writes."""
    uc = house.system.use_cases()
    uc.publish_runbook("alice", GREP)
    uc.create_event_trigger("alice", "title-grep", "grep-title", {}, "incident-cause",
                            "db-1.*", {"host": "host", "title": "title"})
    incident_on_postgres(house, "db-1", "host", "Down; reboot $(id) `id`")
    incident_on_postgres(house, "db-1;reboot", "host", "Down")  # no such host
    fired = [e for e in house.system.app.events.get(trigger_id("title-grep"))
             if isinstance(e, Trigger.Fired | Trigger.Missed)]
    assert [type(e) for e in fired] == [Trigger.Fired, Trigger.Missed]
    assert "parameter host" in fired[1].reason
    action = uc.task(None, str(fired[0].task_id)).plan["steps"][0]["action"]  # type: ignore[index]
    assert [p.argv for p in analyse(action, mode_of("ssh", action)).programs] == [
        ("grep", "-c", "Down; reboot $(id) `id`", "/var/log/syslog")]

