"""Runbooks on the in-memory store: versions as events, a gated version approved by someone
other than its author first, runs filled from parameters checked against their schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
import yaml

from application.app import AltlasApplication
from application.core import run_id_of
from application.history import EventHistory
from application.reactions import LANES, Ports
from application.reactor import Lane, begin_tracking
from application.segmentation import SegmentationService
from application.use_cases import UseCases
from bots import chat_commands as c
from domain.approval import RequesterCannotApproveError
from domain.policy import Policy
from domain.runbooks import (
    NotPublishedError,
    ParameterError,
    ProposalPendingError,
    Runbook,
    RunbookError,
    UnchangedError,
    runbook_id,
)
from testkit.fakes.ports import FakePersonKeys, FakeSegmenter
from testkit.helpers import FakeClock, plan, step, token_policy

DISK = {"runbook": 1, "name": "disk-check", "parameters": {
    "host": {"kind": "host"}, "threshold": {"kind": "number", "minimum": 50, "maximum": 99}},
    "plan": plan(step("df", kind="ssh", action="df -h", target="{param:host}"),
                 step("full", kind="promql",
                      action='disk_used_percent{host="{param:host}"} > {param:threshold}'))}
RESTART = {"runbook": 1, "name": "restart", "parameters": {
    "host": {"kind": "host"}, "service": {"kind": "service"}},
    "plan": plan(step("go", kind="ssh", action="systemctl restart {param:service}",
                      target="{param:host}"))}


class Desk:
    def __init__(self) -> None:
        policy = Policy.from_mapping(yaml.safe_load(token_policy()))
        self.app = AltlasApplication(policy, FakeClock(),
                                     env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                     keys=FakePersonKeys())
        begin_tracking(self.app, LANES)
        self.ports = Ports(SegmentationService(self.app, FakeSegmenter({}), None))
        self.uc = UseCases(self.app, EventHistory(self.app), self._unused, self._unused,
                           self._unused)

    @staticmethod
    def _unused(*_: Any) -> Any:
        raise AssertionError("not used here")

    def settle(self) -> None:
        lanes = [Lane(self.app, name, kinds, self.ports, worker="w1", on_claims=list)
                 for name, kinds in LANES.items()]
        while sum(lane.poll() for lane in lanes):
            pass

    def events(self, name: str) -> list[Any]:
        return list(self.app.events.get(runbook_id(name)))


@pytest.fixture
def desk() -> Iterator[Desk]:
    found = Desk()
    yield found
    found.app.close()


def test_a_read_only_runbook_is_published_at_once_with_its_author_hash_and_schema(
        desk: Desk) -> None:
    shown = desk.uc.publish_runbook("alice", DISK)
    assert shown["published"]["version"] == 1 and shown["published"]["author"] == "alice"
    published = desk.events("disk-check")[-1]
    assert isinstance(published, Runbook.Published)
    assert len(published.plan_hash) == 64
    assert published.parameters["properties"]["threshold"]["maximum"] == 99


def test_publishing_the_same_plan_again_changes_nothing(desk: Desk) -> None:
    desk.uc.publish_runbook("alice", DISK)
    with pytest.raises(UnchangedError):
        desk.uc.publish_runbook("alice", DISK)
    assert len(desk.events("disk-check")) == 2


def test_a_gated_version_waits_for_someone_other_than_its_author(desk: Desk) -> None:
    shown = desk.uc.publish_runbook("alice", RESTART)
    assert shown["published"] is None and shown["pending"]["version"] == 1
    approval = UUID(shown["pending"]["approval_id"])
    with pytest.raises(RequesterCannotApproveError):
        desk.uc.vote("alice", str(approval))
    with pytest.raises(NotPublishedError, match="waits for approval"):
        desk.uc.run_runbook("bob", "restart", {"host": "web-1", "service": "web"})
    with pytest.raises(ProposalPendingError):
        desk.uc.publish_runbook("alice", {**RESTART, "plan": plan(step(
            "go", kind="ssh", action="systemctl reload {param:service}",
            target="{param:host}"))})
    desk.uc.vote("bob", str(approval))
    desk.settle()
    assert desk.uc.runbook("bob", "restart")["published"]["version"] == 1


def test_a_denied_version_is_withdrawn_and_the_published_one_stays(desk: Desk) -> None:
    first = {**RESTART, "plan": plan(step("go", kind="ssh", action="systemctl status "
                                          "{param:service}", target="{param:host}"))}
    desk.uc.publish_runbook("alice", first)
    shown = desk.uc.publish_runbook("alice", RESTART)
    desk.uc.deny("bob", shown["pending"]["approval_id"], "not this week")
    desk.settle()
    after = desk.uc.runbook("bob", "restart")
    assert after["pending"] is None and after["published"]["version"] == 1
    assert "RunbookProposalWithdrawn" in [e.type_name for e in desk.events("restart")]


def test_a_run_is_a_task_of_the_filled_plan_with_the_runbook_as_its_source(
        desk: Desk) -> None:
    desk.uc.publish_runbook("alice", DISK)
    task = desk.uc.run_runbook("bob", "disk-check", {"host": "web-2", "threshold": "90"})
    assert task.source == "runbook:disk-check" and task.requester == "bob"
    steps = {s["id"]: s for s in task.plan["steps"]}  # type: ignore[index]
    assert steps["df"]["target"] == "web-2"
    assert steps["full"]["action"] == 'disk_used_percent{host="web-2"} > 90'


@pytest.mark.parametrize(("values", "named"), [
    ({"host": "web-9", "threshold": 90}, "host"),
    ({"host": "web-1", "threshold": 100}, "threshold"),
    ({"host": "web-1", "threshold": "ninety"}, "threshold"),
    ({"host": "web-1"}, "threshold"),
    ({"host": "web-1", "threshold": 90, "extra": 1}, "extra"),
])
def test_a_value_its_schema_refuses_is_refused_naming_the_parameter(
        desk: Desk, values: dict[str, Any], named: str) -> None:
    desk.uc.publish_runbook("alice", DISK)
    with pytest.raises(ParameterError) as refused:
        desk.uc.run_runbook("bob", "disk-check", values)
    assert refused.value.parameter == named and f"parameter {named}" in str(refused.value)


def test_a_run_of_a_gated_runbook_still_waits_for_its_own_approvals(desk: Desk) -> None:
    desk.uc.publish_runbook("alice", RESTART)
    desk.uc.vote("bob", desk.uc.runbook("bob", "restart")["pending"]["approval_id"])
    desk.settle()
    task = desk.uc.run_runbook("carol", "restart", {"host": "web-1", "service": "web"})
    assert [g["gate"] for g in task.gates] == ["approval"]
    desk.settle()
    waiting = desk.app.get_run(run_id_of(UUID(task.id))).steps[0].approval_id
    assert waiting is not None
    with pytest.raises(RequesterCannotApproveError):
        desk.uc.vote("carol", waiting)


@pytest.mark.parametrize(("document", "why"), [
    ({**DISK, "name": "Disk Check"}, "lowercase"),
    ({**DISK, "parameters": {**DISK["parameters"], "unused": {"kind": "service"}}},
     "used by no step"),
    ({**DISK, "parameters": {"host": {"kind": "host"}}}, "not a declared parameter"),
    ({**DISK, "parameters": {**DISK["parameters"], "threshold": {"kind": "number"}}},
     "minimum <= maximum"),
    ({**RESTART, "parameters": {"host": {"kind": "host"},
                                "service": {"kind": "text", "pattern": "[a-z]+"}}},
     "pattern from \\^ to \\$"),
    ({**RESTART, "parameters": {"host": {"kind": "service"}, "service": {"kind": "service"}}},
     "whole host parameter"),
])
def test_a_runbook_that_cannot_be_filled_safely_is_never_published(
        desk: Desk, document: dict[str, Any], why: str) -> None:
    with pytest.raises(RunbookError, match=why):
        desk.uc.publish_runbook("alice", document)
    assert not desk.app.exists(runbook_id("restart")) and not desk.app.exists(
        runbook_id("disk-check"))


@pytest.mark.parametrize(("line", "parsed"), [
    ("run disk-check host=web-1 threshold=90",
     c.RunRunbook("disk-check", (("host", "web-1"), ("threshold", "90")))),
    ('run disk-check "note=a b"', c.RunRunbook("disk-check", (("note", "a b"),))),
    ("run disk-check host=web-1 host=web-2", c.Usage("usage.run", "give each parameter once")),
    ("run disk-check web-1", c.Usage("usage.run", "“web-1” is not NAME=VALUE")),
    ("save run 3f2a as runbook disk-check", c.SaveRunbook("3f2a", "disk-check")),
    ("save run 3f2a disk-check", c.Usage("usage.save")),
])
def test_chat_reads_a_runbook_run_and_a_save_or_says_how(line: str, parsed: c.Command) -> None:
    assert c.parse(line) == parsed
