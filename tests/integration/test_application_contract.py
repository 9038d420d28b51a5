"""The application's behaviour, identical on the embedded SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from altlas.bootstrap import System
from application.core import RunAlreadyStartedError, run_id_of
from application.errors import NotFoundError, TaskNotReadyError
from domain.approval import (
    ApprovalAlreadyDecidedError,
    ApprovalExpiredError,
    DuplicateVoteError,
    NotEligibleError,
    RequesterCannotApproveError,
)
from domain.errors import DomainError
from domain.plan import PlanError
from domain.policy import StepRefusedError, UnknownHostError
from testkit.backends import (
    Backend,
    ClockedSystem,
    OnPostgres,
    OnSQLite,
    SQLiteBackend,
)
from testkit.helpers import FakeClock, gated_plan, plan, step


class ApplicationContract(ClockedSystem):
    def _gated_run(self, system: System, tmp_path: Path) -> tuple[UUID, UUID, UUID]:
        """A plan whose third step waits for two approvals; the worker takes it as far as
        that."""
        task = system.app.submit_plan("check disk, then set the flag",
                                      gated_plan(str(tmp_path / "maintenance.flag")), "deniz",
                                      environment="prod")
        system.worker().until_quiet()
        run = system.app.get_run(run_id_of(UUID(task.id)))
        approval_id = next(s.approval_id for s in run.steps if s.approval_id)
        return UUID(task.id), UUID(run.id), UUID(str(approval_id))

    def _refused_without_events(self, system: System, attempt: Callable[[], Any],
                                error: type[DomainError], match: str | None = None) -> None:
        before = system.history.last_position()
        with pytest.raises(error, match=match):
            attempt()
        assert system.history.last_position() == before, "a refused command recorded events"

    # -- the journey --------------------------------------------------------------------

    def test_high_risk_step_waits_for_two_approvals_then_runs(
        self, system: System, tmp_path: Path
    ) -> None:
        _, run_id, approval_id = self._gated_run(system, tmp_path)
        run = system.app.get_run(run_id)
        assert [s.status for s in run.steps] == ["succeeded", "succeeded", "pending"]
        assert "Filesystem" in run.steps[0].output
        assert not (tmp_path / "maintenance.flag").exists()

        system.app.cast_vote(approval_id, "alice")
        system.worker().until_quiet()
        assert system.app.get_run(run_id).steps[2].status == "pending"
        assert system.app.cast_vote(approval_id, "bob").status == "granted"

        system.worker().until_quiet()
        assert system.app.get_run(run_id).outcome == "succeeded"
        assert (tmp_path / "maintenance.flag").exists()

    def test_recorded_events_carry_the_envelope_in_global_order(
        self, system: System, tmp_path: Path
    ) -> None:
        task_id, run_id, approval_id = self._gated_run(system, tmp_path)
        system.app.cast_vote(approval_id, "alice")
        records = list(system.history.read())
        assert [r.type_name for r in records] == [
            "TaskRequested", "TaskSegmented", "RunStarted", "ApprovalRequested",
            "StepStarted", "StepStarted", "StepSucceeded", "StepSucceeded", "ApprovalVoteCast"]
        assert [r.position for r in records] == sorted(r.position for r in records)
        correlation = system.app.get_task(task_id).correlation_id
        assert {r.state["correlation_id"] for r in records} == {correlation}
        assert records[-1].actor == system.app.privacy.find("alice") != "alice"  # a pseudonym
        assert records[2].aggregate_id == run_id
        # each reaction names the event it answered
        by_id = {r.id: r for r in records}
        assert by_id[records[2].causation_id].type_name == "TaskSegmented"
        assert by_id[records[4].causation_id].type_name == "RunStarted"
        report = system.history.verify()
        assert report.ok and report.events == 9 and report.aggregates == 3

    def test_denied_approval_cancels_the_step_and_what_needs_it(
        self, system: System, tmp_path: Path
    ) -> None:
        app = system.app
        task = app.submit_plan("flag then report", plan(
            step("s1", action=f"touch {tmp_path}/maintenance.flag"),
            step("s2", action="uptime", needs=["s1"]),
        ), "deniz", environment="prod")
        system.worker().until_quiet()
        run = app.get_run(run_id_of(UUID(task.id)))
        app.deny_approval(UUID(str(run.steps[0].approval_id)), "carol", "freeze until Monday")
        system.worker().until_quiet()
        run = app.get_run(UUID(run.id))
        assert run.outcome == "cancelled"
        assert [s.status for s in run.steps] == ["skipped", "skipped"]
        assert "denied by carol: freeze until Monday" in str(run.steps[0].error)
        assert run.steps[1].error == "needs s1, which was cancelled"

    def test_approval_nobody_decides_expires_and_cancels_the_run(
        self, system: System, clock: FakeClock, tmp_path: Path
    ) -> None:
        _, run_id, approval_id = self._gated_run(system, tmp_path)
        clock.advance(minutes=16)
        system.worker().until_quiet()  # its housekeeping expires what is due
        run = system.app.get_run(run_id)
        assert run.outcome == "cancelled"
        assert system.app.get_approval(approval_id).status == "expired"
        assert run.steps[2].error is not None and "expired" in run.steps[2].error

    @pytest.mark.parametrize("read_first", [True, False], ids=["read first", "no read"])
    def test_a_stale_cached_aggregate_is_read_fresh_and_decided_again(
        self, backend: Backend, system: System, clock: FakeClock, tmp_path: Path,
        read_first: bool,
    ) -> None:
        """Another process changes an aggregate this one holds in its cache: reads show the
        change, and a command on the stale copy (with no read in between, too) conflicts
        and is decided again."""
        _, _, approval_id = self._gated_run(system, tmp_path)
        system.app.cast_vote(approval_id, "alice")  # cached here, at version 2
        other = backend.open(clock)
        try:
            other.app.deny_approval(approval_id, "carol", "not today")
        finally:
            other.close()
        if read_first:
            assert system.app.get_approval(approval_id).status == "denied"
        with pytest.raises(ApprovalAlreadyDecidedError):
            system.app.cast_vote(approval_id, "bob")
        types = [r.type_name for r in system.history.read()
                 if r.aggregate_id == approval_id]
        assert types == ["ApprovalRequested", "ApprovalVoteCast", "ApprovalDenied"]

    def test_a_command_refused_on_a_stale_copy_is_decided_again_on_what_is_recorded(
        self, backend: Backend, system: System, clock: FakeClock
    ) -> None:
        """The cached task has not been asked anything yet; another process's worker asks
        which host. The requester's answer here is not refused as "nothing was asked"."""
        task_id = system.app.request_task("restart nginx", "deniz")
        assert system.app.get_task(task_id).status == "requested"  # cached here
        other = backend.open(clock)
        try:
            other.worker().until_quiet()
            assert other.app.get_task(task_id).status == "asking"
        finally:
            other.close()
        answered = system.app.answer_task(task_id, "web-1", by="deniz")
        assert answered.status != "asking"
        assert [r.type_name for r in system.history.read() if r.aggregate_id == task_id
                ][-1] == "TaskClarified"

    def test_history_survives_closing_and_reopening(
        self, backend: Backend, system: System, tmp_path: Path
    ) -> None:
        task_id, _, approval_id = self._gated_run(system, tmp_path)
        system.app.cast_vote(approval_id, "alice")
        system.close()
        reopened = backend.open()
        try:
            assert reopened.app.get_approval(approval_id).votes == ["alice"]
            assert reopened.app.get_task(task_id).status == "segmented"
        finally:
            reopened.close()

    # -- bad input: a precise error, and nothing recorded --------------------------------

    def test_unknown_ids_are_not_found(self, system: System) -> None:
        missing = uuid4()
        for attempt in (lambda: system.app.get_task(missing),
                        lambda: system.app.get_approval(missing),
                        lambda: system.app.cast_vote(missing, "alice"),
                        lambda: system.app.start_run(missing, actor="alice")):
            self._refused_without_events(system, attempt, NotFoundError, str(missing))

    def test_an_id_of_the_wrong_kind_is_not_found(self, system: System, tmp_path: Path) -> None:
        task_id, _, _ = self._gated_run(system, tmp_path)
        self._refused_without_events(system, lambda: system.app.get_approval(task_id),
                                     NotFoundError, "no approval")

    def test_refused_votes_change_nothing(
        self, system: System, clock: FakeClock, tmp_path: Path
    ) -> None:
        _, _, approval_id = self._gated_run(system, tmp_path)
        app = system.app
        self._refused_without_events(system, lambda: app.cast_vote(approval_id, "erin"),
                                     NotEligibleError)
        self._refused_without_events(system, lambda: app.cast_vote(approval_id, "deniz"),
                                     RequesterCannotApproveError)
        app.cast_vote(approval_id, "alice")
        self._refused_without_events(system, lambda: app.cast_vote(approval_id, "alice"),
                                     DuplicateVoteError)
        clock.advance(minutes=15)
        self._refused_without_events(system, lambda: app.cast_vote(approval_id, "bob"),
                                     ApprovalExpiredError)
        assert app.get_approval(approval_id).votes == ["alice"]

    def test_vote_on_a_decided_approval_is_refused(self, system: System, tmp_path: Path) -> None:
        _, _, approval_id = self._gated_run(system, tmp_path)
        system.app.deny_approval(approval_id, "alice", "not now")
        self._refused_without_events(system, lambda: system.app.cast_vote(approval_id, "bob"),
                                     ApprovalAlreadyDecidedError)

    def test_bad_plans_are_refused_before_anything_is_recorded(self, system: System) -> None:
        app = system.app
        task_id = app.request_task("do things", "deniz")
        bad: list[tuple[dict[str, Any], type[DomainError], str]] = [
            (plan(step("a", kind="ssh", action="uptime", target="web-9")), UnknownHostError,
             "web-9"),
            (plan(step("a", kind="ssh", action="curl http://x | sh", target="web-1")),
             StepRefusedError, "deny rule"),
            (plan(step("a", needs=["b"]), step("b", needs=["a"])), PlanError, "cycle"),
            (plan(step("a", needs=["zzz"])), PlanError, "unknown step 'zzz'"),
        ]
        for doc, error, match in bad:
            self._refused_without_events(
                system, lambda doc=doc: app.record_segmentation(
                    task_id, doc, segmenter="t", actor="deniz"), error, match)
        assert app.get_task(task_id).status == "requested"

    def test_run_needs_a_segmented_task(self, system: System) -> None:
        task_id = system.app.request_task("do things", "deniz")
        self._refused_without_events(system, lambda: system.app.start_run(task_id, actor="alice"),
                                     TaskNotReadyError, "only a segmented task")

    def test_dream_plans_are_never_run(self, system: System) -> None:
        task = system.app.submit_plan("imagine a failover", plan(step("a")), "deniz",
                                      mode="dream")
        system.worker().until_quiet()
        assert not system.app.exists(run_id_of(UUID(task.id)))
        self._refused_without_events(
            system, lambda: system.app.start_run(UUID(task.id), actor="alice"),
            TaskNotReadyError, "dream")

    def test_a_task_runs_once_however_often_its_run_is_started(
        self, system: System, tmp_path: Path
    ) -> None:
        task_id, run_id, _ = self._gated_run(system, tmp_path)
        self._refused_without_events(
            system, lambda: system.app.start_run(task_id, actor="alice"),
            RunAlreadyStartedError, str(run_id))

    # -- audit ----------------------------------------------------------------------------

    def test_verification_names_a_changed_event(
        self, backend: Backend, system: System, tmp_path: Path
    ) -> None:
        _, _, approval_id = self._gated_run(system, tmp_path)
        system.app.cast_vote(approval_id, "alice")
        [(state,)] = backend.execute(
            f"SELECT state FROM {backend.events_table} WHERE originator_id = ? "
            "AND originator_version = 2", _db_id(backend, approval_id))
        alice, carol = (f'"{system.app.privacy.pseudonym(n)}"'.encode() for n in ("alice", "carol"))
        forged = bytes(state).replace(alice, carol)  # type: ignore[arg-type]
        backend.execute(
            f"UPDATE {backend.events_table} SET state = ? WHERE originator_id = ? "
            "AND originator_version = 2", forged, _db_id(backend, approval_id))
        report = system.history.verify()
        assert not report.ok
        [problem] = report.breaks
        assert problem.aggregate_id == approval_id and problem.version == 2
        assert "ApprovalVoteCast event was changed" in problem.problem

    def test_verification_names_a_removed_event(
        self, backend: Backend, system: System, tmp_path: Path
    ) -> None:
        _, run_id, _ = self._gated_run(system, tmp_path)
        backend.execute(f"DELETE FROM {backend.events_table} WHERE originator_id = ? "
                        "AND originator_version = 3", _db_id(backend, run_id))
        breaks = system.history.verify().breaks
        assert {(b.aggregate_id, b.version) for b in breaks} == {(run_id, 4)}


def _db_id(backend: Backend, aggregate_id: UUID) -> object:
    """How each store writes an aggregate id in its events table."""
    return aggregate_id.hex if isinstance(backend, SQLiteBackend) else aggregate_id


class TestApplicationOnSQLite(OnSQLite, ApplicationContract):
    pass


class TestApplicationOnPostgres(OnPostgres, ApplicationContract):
    pass
