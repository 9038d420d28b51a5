"""The use cases every front calls: one access check (a role, and who owns what), references
by any unique beginning of an id, refused votes on the record."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest

from application.access import AccessDeniedError, NotOwnerError, UnknownPersonError
from application.app import AltlasApplication
from application.core import run_id_of
from application.errors import AmbiguousIdError, NotFoundError
from application.history import EventHistory
from application.use_cases import UseCases
from domain.approval import NotEligibleError, RequesterCannotApproveError
from domain.base import EventMeta
from domain.policy import Policy
from domain.task import Task
from testkit.fakes.ports import FakePersonKeys
from testkit.helpers import FakeClock, gated_plan, plan, step, token_policy


class Ids:
    """The one view query reference resolution needs: ids by their beginning."""

    def __init__(self) -> None:
        self.known: list[tuple[str, str]] = []

    def resolve(self, prefix: str) -> list[tuple[str, str]]:
        return [(k, i) for k, i in self.known if i.startswith(prefix)]


class Desk:
    def __init__(self) -> None:
        import yaml

        policy = Policy.from_mapping(yaml.safe_load(token_policy()))
        self.app = AltlasApplication(policy, FakeClock(),
                                     env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                     keys=FakePersonKeys())
        self.ids = Ids()
        self.uc = UseCases(self.app, EventHistory(self.app), lambda: self.ids,  # type: ignore[arg-type]
                           self._no_audit, self._no_views)

    @staticmethod
    def _no_audit() -> Any:
        raise AssertionError("not used here")

    @staticmethod
    def _no_views(until: datetime) -> Any:
        raise AssertionError("not used here")

    def gated(self, requester: str = "deniz") -> tuple[UUID, UUID]:
        task = self.uc.submit_plan(requester, gated_plan("/srv/maintenance.flag"),
                                   request="flag it", environment="prod")
        run, approvals = self.app.open_run(self.app.load(Task, UUID(task.id)),
                                           EventMeta.for_command(requester), self.app.clock())
        self.app.save(run, *approvals)
        self.ids.known += [("task", task.id), ("run", str(run.id)),
                           ("approval", str(approvals[0].id))]
        return UUID(task.id), approvals[0].id


@pytest.fixture
def desk() -> Iterator[Desk]:
    found = Desk()
    yield found
    found.app.close()


def refused_events(desk: Desk, approval_id: UUID) -> list[tuple[str, str]]:
    return [(desk.app.privacy.reveal(e.by), e.attempt)
            for e in desk.app.repository.event_store.get(approval_id)
            if type(e).__qualname__ == "Approval.AttemptRefused"]


def test_asking_for_work_needs_the_requester_role(desk: Desk) -> None:
    assert desk.uc.request_work("erin", "check disk").requester == "erin"
    with pytest.raises(AccessDeniedError,
                       match="ivy may not ask for work: that needs the requester"):
        desk.uc.request_work("ivy", "check disk")  # ivy only audits


def test_a_name_the_policy_does_not_know_is_refused(desk: Desk) -> None:
    with pytest.raises(UnknownPersonError, match="'mallory' is not a person in the policy"):
        desk.uc.request_work("mallory", "check disk")
    assert desk.app.recorder.max_notification_id() in (None, 0)


def test_only_the_requester_records_the_plan_of_a_task(desk: Desk) -> None:
    task = desk.uc.request_work("deniz", "check disk")
    desk.ids.known.append(("task", task.id))
    with pytest.raises(NotOwnerError, match="only deniz, who asked for it"):
        desk.uc.record_plan("erin", task.id[:8], plan(step("s1")))
    with pytest.raises(NotOwnerError):
        desk.uc.record_plan("alice", task.id, plan(step("s1")))  # an operator neither
    assert desk.uc.record_plan("deniz", task.id[:8], plan(step("s1"))).status == "segmented"


def test_runs_are_started_by_hand_only_by_operators(desk: Desk) -> None:
    task = desk.uc.submit_plan("deniz", plan(step("s1")), request="check")
    with pytest.raises(AccessDeniedError, match="that needs the operator role"):
        desk.uc.start_run("deniz", task.id)
    assert desk.uc.start_run("alice", task.id).id == str(run_id_of(UUID(task.id)))


def test_a_vote_needs_the_approver_role_and_is_refused_on_the_record(desk: Desk) -> None:
    _, approval_id = desk.gated()
    with pytest.raises(AccessDeniedError, match="that needs the approver role"):
        desk.uc.vote("ivy", str(approval_id))  # ivy only audits
    with pytest.raises(NotEligibleError):  # erin approves in dev, not in prod
        desk.uc.vote("erin", str(approval_id))
    with pytest.raises(RequesterCannotApproveError):
        desk.uc.vote("deniz", str(approval_id)[:8])
    with pytest.raises(UnknownPersonError):
        desk.uc.vote("slack:U0NOBODY1", str(approval_id))
    assert refused_events(desk, approval_id) == [
        ("ivy", "approve"), ("erin", "approve"), ("deniz", "approve"),
        ("slack:U0NOBODY1", "approve")]
    assert desk.uc.vote("alice", str(approval_id)[:10]).votes == ["alice"]


def test_only_the_requester_or_an_operator_withdraws_an_approval(desk: Desk) -> None:
    _, approval_id = desk.gated()
    with pytest.raises(NotOwnerError,
                       match="only deniz, who asked for it, may withdraw this approval"):
        desk.uc.cancel_approval("erin", str(approval_id), "mine now")
    assert desk.uc.cancel_approval("alice", str(approval_id), "ops").status == "cancelled"


def test_admins_may_do_everything(desk: Desk) -> None:
    people = desk.app.policy.people
    people["bob"] = replace(people["bob"], roles=frozenset({"admin"}))
    task = desk.uc.submit_plan("deniz", plan(step("s1")), request="check")
    assert desk.uc.start_run("bob", task.id).task_id == task.id
    _, approval_id = desk.gated("erin")
    assert desk.uc.cancel_approval("bob", str(approval_id), "admin").status == "cancelled"


def test_references_may_be_any_unique_beginning_of_an_id(desk: Desk) -> None:
    task_id, approval_id = desk.gated()
    assert desk.uc.resolve(str(task_id)[:6]) == task_id
    assert desk.uc.kind(str(approval_id)[:8]) == ("approval", approval_id)
    with pytest.raises(NotFoundError, match="'abc' is not an id"):
        desk.uc.resolve("abc")
    with pytest.raises(NotFoundError, match="no run has an id starting with"):
        desk.uc.resolve(str(task_id)[:8], "run")
    desk.ids.known.append(("task", str(task_id)[:6] + "0" * 30))
    with pytest.raises(AmbiguousIdError, match="matches several"):
        desk.uc.resolve(str(task_id)[:6])


def test_the_application_keeps_the_name_its_stores_were_created_under() -> None:
    """The event store library names tables and settings after the application: a new name
    would open an empty store beside the recorded one."""
    assert AltlasApplication.name == "altlas"
