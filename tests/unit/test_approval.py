from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.approval import (
    Approval,
    ApprovalAlreadyDecidedError,
    ApprovalExpiredError,
    ApprovalSubject,
    DuplicateVoteError,
    NotEligibleError,
    NotYetExpiredError,
    QuorumUnreachableError,
    RequesterCannotApproveError,
)
from domain.base import event_id
from domain.catalog import upcast
from domain.errors import InvalidInputError
from domain.records import RecordedEvent
from testkit.helpers import T0, meta


def _approval(
    required: int = 2, eligible: tuple[str, ...] = ("alice", "bob", "carol", "deniz")
) -> Approval:
    a = Approval.request(
        subject=ApprovalSubject.STEP, task_id=uuid4(), run_id=uuid4(), step_id="s3",
        risk="HIGH_RISK", environment="prod",
        requester="deniz", eligible=frozenset(eligible), required=required,
        expires_at=T0 + timedelta(minutes=15), reason="change in prod", meta=meta(),
    )
    a.collect_events()
    return a


def _types(a: Approval) -> list[str]:
    return [type(e).type_name for e in a.collect_events()]


def test_two_distinct_approvers_grant_a_high_risk_step() -> None:
    a = _approval()
    a.cast_vote("alice", T0, meta("alice"))
    assert a.is_open and a.remaining() == 1
    a.cast_vote("bob", T0, meta("bob"))
    assert a.status == "granted"
    assert _types(a) == ["ApprovalVoteCast", "ApprovalVoteCast", "ApprovalGranted"]


def test_grant_is_caused_by_the_deciding_vote() -> None:
    a = _approval(required=1)
    a.cast_vote("alice", T0, meta("alice"))
    vote, grant = a.collect_events()
    assert grant.causation_id == event_id(a.id, vote.originator_version)
    assert grant.approvers == ["alice"]


def test_requester_never_counts_even_when_eligible() -> None:
    a = _approval()
    with pytest.raises(RequesterCannotApproveError):
        a.cast_vote("deniz", T0, meta("deniz"))
    assert a.votes == [] and not a.collect_events()


def test_second_click_by_same_approver_is_refused() -> None:
    a = _approval()
    a.cast_vote("alice", T0, meta("alice"))
    a.collect_events()
    with pytest.raises(DuplicateVoteError):
        a.cast_vote("alice", T0, meta("alice"))
    assert a.votes == ["alice"] and not a.collect_events()


def test_vote_by_someone_not_eligible_is_refused() -> None:
    a = _approval()
    with pytest.raises(NotEligibleError, match="mallory is not an approver"):
        a.cast_vote("mallory", T0, meta("mallory"))


def test_vote_after_expiry_is_refused_without_an_event() -> None:
    a = _approval()
    with pytest.raises(ApprovalExpiredError):
        a.cast_vote("alice", T0 + timedelta(minutes=15), meta("alice"))
    assert not a.collect_events()


def test_nothing_counts_after_a_decision() -> None:
    a = _approval(required=1)
    a.cast_vote("alice", T0, meta("alice"))
    for attempt in (lambda: a.cast_vote("bob", T0, meta("bob")),
                    lambda: a.deny("bob", "no", T0, meta("bob")),
                    lambda: a.cancel("changed my mind", meta("deniz")),
                    lambda: a.expire(T0 + timedelta(hours=1), meta("altlas"))):
        with pytest.raises(ApprovalAlreadyDecidedError):
            attempt()


def test_denial_needs_a_reason_and_decides() -> None:
    a = _approval()
    with pytest.raises(Exception, match="reason"):
        a.deny("alice", "  ", T0, meta("alice"))
    a.deny("alice", "not during peak hours", T0, meta("alice"))
    assert a.status == "denied"
    assert a.decision_reason == "denied by alice: not during peak hours"


def test_expiry_only_once_the_time_is_up() -> None:
    a = _approval()
    with pytest.raises(NotYetExpiredError):
        a.expire(T0 + timedelta(minutes=14), meta("altlas"))
    a.expire(T0 + timedelta(minutes=15), meta("altlas"))
    assert a.status == "expired"


def test_quorum_that_cannot_be_reached_is_refused_at_request() -> None:
    with pytest.raises(QuorumUnreachableError):
        Approval.request(
            subject=ApprovalSubject.STEP, task_id=uuid4(), run_id=uuid4(), step_id="s1",
        risk="HIGH_RISK", environment="prod",
            requester="alice", eligible=frozenset({"alice", "bob"}), required=2,
            expires_at=T0, reason="x", meta=meta(),
        )


def test_a_step_approval_needs_its_run_and_the_installation_s_own_have_none() -> None:
    for subject, run_id in ((ApprovalSubject.STEP, None), (ApprovalSubject.TRAINING, uuid4())):
        with pytest.raises(InvalidInputError, match="only a run's step"):
            Approval.request(
                subject=subject, task_id=uuid4(), run_id=run_id, step_id="s1",
                risk="HIGH_RISK", environment="prod", requester="alice",
                eligible=frozenset({"bob"}), required=1, expires_at=T0, reason="x",
                meta=meta())


@pytest.mark.parametrize(("run_id", "step_id", "subject"), [
    ("5b0e8c1e-0000-4000-8000-000000000001", "s2", "step"),
    (None, "train", "training"),
    (None, "forget", "erasure"),
    (None, "activate", "registry"),
    (None, "rollback", "registry"),
])
def test_approvals_recorded_before_subjects_read_with_the_subject_they_had(
    run_id: str | None, step_id: str, subject: str
) -> None:
    old = RecordedEvent(position=None, aggregate_id=uuid4(), version=1,
                        type_name="ApprovalRequested",
                        state={"run_id": run_id, "step_id": step_id, "requester": "deniz",
                               "excluded": ["deniz"], "class_version": 2})
    assert upcast(old).state["subject"] == subject
