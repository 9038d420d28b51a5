"""Audit jobs: one verification at a time, asked about by id."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from adapters.audit_jobs import AuditJob, AuditJobRunningError, AuditJobs
from application.errors import NotFoundError


def wait_done(job: AuditJob) -> None:
    deadline = time.monotonic() + 10
    while job.status == "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_the_same_verification_asked_twice_is_one_job_and_another_waits_its_turn() -> None:
    jobs = AuditJobs()
    release = threading.Event()

    def work(progress: Any) -> list[dict[str, Any]]:
        progress(3)
        release.wait(10)
        progress(4)
        return [{"ok": True, "source": "event store"}]

    first = jobs.verify("alice", False, 7, work)
    assert jobs.verify("bob", False, 7, work) is first
    with pytest.raises(AuditJobRunningError, match=first.id):
        jobs.verify("alice", True, 7, work)
    release.set()
    wait_done(first)
    assert (first.status, first.checked, first.result) == (
        "done", 7, {"ok": True, "reports": [{"ok": True, "source": "event store"}]})
    assert jobs.get(first.id) is first
    assert jobs.verify("alice", True, 7, work) is not first  # its turn now


def test_a_failed_verification_says_why_and_unknown_jobs_are_not_found() -> None:
    jobs = AuditJobs()

    def broken(progress: Any) -> list[dict[str, Any]]:
        raise OSError("the store is unreachable")

    job = jobs.verify("alice", False, 0, broken)
    wait_done(job)
    assert job.status == "failed" and job.error == "OSError: the store is unreachable"
    with pytest.raises(NotFoundError):
        jobs.get("nope")
