from __future__ import annotations

from uuid import uuid4

import pytest

from domain.run import (
    AuthorCannotConfirmError,
    Run,
    RunAlreadyCompletedError,
    RunNotFinishedError,
    StepStateError,
    UnknownStepError,
    settled_outcome,
)
from domain.task import (
    EmptyRequestError,
    InvalidModeError,
    RequestTooLongError,
    Task,
    TaskAlreadySegmentedError,
)
from testkit.helpers import meta


def _run() -> Run:
    steps = [
        {"id": "a", "kind": "local", "risk": "READ_ONLY", "gate": "run", "needs": []},
        {"id": "b", "kind": "local", "risk": "READ_ONLY", "gate": "run", "needs": ["a"]},
    ]
    return Run.start(uuid4(), steps, meta())


def test_run_completes_only_when_every_step_is_decided() -> None:
    run = _run()
    run.start_step("a", meta())
    run.succeed_step("a", meta(), exit_code=0, output="ok", duration_ms=3)
    with pytest.raises(RunNotFinishedError, match="b"):
        run.complete(meta(), duration_ms=10)
    run.skip_step("b", "not needed", meta())
    run.complete(meta(), duration_ms=10)
    assert run.outcome == "succeeded"


def test_no_step_result_after_the_run_completed() -> None:
    run = _run()
    run.skip_step("a", "x", meta())
    run.skip_step("b", "x", meta())
    run.complete(meta(), duration_ms=1)
    with pytest.raises(RunAlreadyCompletedError):
        run.skip_step("a", "again", meta())
    with pytest.raises(RunAlreadyCompletedError):
        run.complete(meta(), duration_ms=1)


def test_step_cannot_start_before_what_it_needs_succeeded() -> None:
    run = _run()
    with pytest.raises(StepStateError, match="needs a"):
        run.start_step("b", meta())


def test_result_only_for_a_running_step() -> None:
    run = _run()
    with pytest.raises(StepStateError):
        run.succeed_step("a", meta(), exit_code=0, output="", duration_ms=1)
    with pytest.raises(UnknownStepError):
        run.start_step("zzz", meta())


def test_failed_attempt_that_will_retry_leaves_the_step_pending() -> None:
    run = _run()
    run.start_step("a", meta())
    run.fail_step("a", meta(), error="boom", exit_code=1, output="", duration_ms=1, will_retry=True)
    assert run.steps["a"].status == "pending"
    run.start_step("a", meta())
    assert run.steps["a"].attempts == 2
    run.fail_step("a", meta(), error="boom", exit_code=1, output="", duration_ms=1)
    run.skip_step("b", "needs a, which failed", meta())
    run.complete(meta(), duration_ms=5)
    assert run.outcome == "failed"


def test_cancelled_step_makes_the_run_cancelled() -> None:
    run = _run()
    run.skip_step("a", "approval denied", meta(), cancelled=True)
    run.skip_step("b", "needs a", meta(), cancelled=True)
    run.complete(meta(), duration_ms=1)
    assert run.outcome == "cancelled"


def test_task_cannot_be_segmented_twice() -> None:
    task = Task.request_work("check disk on web-1", "deniz", meta())
    task.record_segmentation({"alt": 1, "steps": []}, [], "rules", meta())
    with pytest.raises(TaskAlreadySegmentedError):
        task.record_segmentation({"alt": 1, "steps": []}, [], "rules", meta())
    with pytest.raises(TaskAlreadySegmentedError):
        task.reject("too late", meta())


def test_empty_huge_and_odd_requests_are_refused() -> None:
    with pytest.raises(EmptyRequestError):
        Task.request_work("   ", "deniz", meta())
    with pytest.raises(RequestTooLongError):
        Task.request_work("x" * 5000, "deniz", meta())
    with pytest.raises(InvalidModeError, match="unknown mode"):
        Task.request_work("check disk", "deniz", meta(), mode="yolo")


def test_events_carry_actor_correlation_and_a_linked_hash_chain() -> None:
    m = meta("deniz")
    task = Task.request_work("check disk", "deniz", m)
    task.reject("no such host", meta("altlas:segmenter"))
    created, rejected = task.collect_events()
    assert created.actor == "deniz" and created.correlation_id == m.correlation_id
    assert rejected.actor == "altlas:segmenter"
    assert rejected.prevhash == created.hash and len(created.hash) == 64


def _manual(risk: str) -> Run:
    steps = [{"id": "a", "kind": "ssh", "risk": risk, "gate": "manual", "needs": []}]
    run = Run.start(uuid4(), steps, meta())
    run.post_manual_step("a", "a person does it by hand", meta())
    run.complete(meta(), duration_ms=5)
    return run


@pytest.mark.parametrize("author", ["p-erin", "p-bob"])  # the requester; who answered for it
def test_no_author_of_the_work_may_confirm_its_critical_step(author: str) -> None:
    run = _manual("CRITICAL")
    with pytest.raises(AuthorCannotConfirmError, match="someone else must confirm"):
        run.confirm_manual_step("a", author, "", meta(), authors=frozenset({"p-erin", "p-bob"}))
    assert run.steps["a"].status == "manual" and run.outcome == "manual_outstanding"
    run.confirm_manual_step("a", "p-carol", "done", meta(),
                            authors=frozenset({"p-erin", "p-bob"}))
    assert run.outcome == "succeeded"


def test_the_requester_may_confirm_her_own_manual_step_below_critical() -> None:
    run = _manual("HIGH_RISK")
    run.confirm_manual_step("a", "p-erin", "", meta(), authors=frozenset({"p-erin"}))
    assert run.outcome == "succeeded"


def test_work_left_to_a_person_is_neither_success_nor_failure_until_confirmed() -> None:
    assert settled_outcome("RunCompleted", "manual_outstanding") is None
    assert settled_outcome("ManualStepConfirmed", None) is None  # the run had not ended
    assert settled_outcome("ManualStepConfirmed", "succeeded") == "succeeded"
    assert settled_outcome("RunCompleted", "failed") == "failed"
    assert settled_outcome("StepSucceeded", "succeeded") is None
