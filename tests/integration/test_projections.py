"""Projections over real databases: exact views, idempotent, never blocked by a bad event."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from altlas.bootstrap import System
from altlas.progress import Progress
from altlas.rebuild import RebuildError, rebuild
from projections.runner import Delivery
from projections.schema import metadata, poisoned, positions
from projections.views import PROJECTIONS
from streams.audit import replay
from testkit.backends import Backend, OnPostgres, OnSQLite
from testkit.journeys import journey
from testkit.views import dump


class ProjectionContract:
    @pytest.fixture
    def system(self, backend: Backend) -> Iterator[System]:
        system = backend.open()
        yield system
        system.close()

    def test_views_show_tasks_runs_steps_and_the_approval_queue(
        self, system: System, tmp_path: Path
    ) -> None:
        task_id, run_id, _ = journey(system, tmp_path)
        _, _, waiting = journey(system, tmp_path, grant=False)
        system.store_feed().catch_up()
        views = dump(system.views())
        task = next(t for t in views["tasks"] if t["task_id"] == str(task_id))
        assert task["status"] == "segmented"
        assert task["requester"] == system.app.privacy.find("deniz")  # as the events name her
        assert [s["id"] for s in task["plan"]["steps"]] == ["s1", "s2", "s3"]
        run = next(r for r in views["runs"] if r["run_id"] == str(run_id))
        assert (run["status"], run["outcome"]) == ("completed", "succeeded")
        assert run["summary"] == {"succeeded": 3}
        steps = {s["step_id"]: s for s in views["run_steps"] if s["run_id"] == str(run_id)}
        assert {k: s["status"] for k, s in steps.items()} == dict.fromkeys(steps, "succeeded")
        queue = system.use_cases().open_approvals(None)
        assert [q["approval_id"] for q in queue] == [str(waiting)]
        assert queue[0]["votes"] == ["alice"] and queue[0]["remaining"] == 1
        assert 0 < queue[0]["seconds_left"] <= 900

    def test_applying_the_same_events_again_changes_nothing(
        self, system: System, tmp_path: Path
    ) -> None:
        journey(system, tmp_path)
        system.store_feed().catch_up()
        before = dump(system.views())
        records = list(system.history.read())
        for runner in system.runners():
            with system.views().begin() as conn:  # forget positions, keep the rows
                conn.execute(positions.delete().where(positions.c.projection == runner.name))
            runner.apply([Delivery(0, r.position or 0, r) for r in records])
            runner.apply([Delivery(0, r.position or 0, r) for r in records[:5]])
        assert dump(system.views()) == before

    def test_unreadable_message_is_set_aside_and_the_rest_applied(
        self, system: System, tmp_path: Path
    ) -> None:
        journey(system, tmp_path)
        records = list(system.history.read())
        runner = system.runners(names=["timeline"])[0]
        runner.reset()  # the worker's housekeeping read the views, so they caught up
        bad = Delivery(0, 1, None, "garbage", "not valid JSON")
        applied = runner.apply([bad] + [Delivery(0, (r.position or 0) + 1, r) for r in records])
        assert applied == len(records)
        with system.views().connect() as conn:
            row = conn.execute(select(poisoned)).one()
            assert (row.reason, row.offset, row.raw) == ("not valid JSON", 1, "garbage")

    def test_event_that_breaks_its_projection_is_set_aside_without_blocking(
        self, system: System, tmp_path: Path
    ) -> None:
        journey(system, tmp_path)
        records = list(system.history.read())
        broken = replace(records[0], state={k: v for k, v in records[0].state.items()
                                            if k != "request"})
        runner = system.runners(names=["tasks"])[0]
        runner.reset()
        applied = runner.apply([Delivery(0, 1, broken)]
                               + [Delivery(0, i + 2, r) for i, r in enumerate(records[1:])])
        assert applied == len(records) - 1
        with system.views().connect() as conn:
            reason = conn.execute(select(poisoned.c.reason)).scalar_one()
            assert "KeyError" in reason
            assert conn.execute(select(func.count()).select_from(positions).where(
                positions.c.projection == "tasks")).scalar_one() == 1

    def test_timeline_filters_by_actor_aggregate_type_and_time(
        self, system: System, tmp_path: Path
    ) -> None:
        _, run_id, approval_id = journey(system, tmp_path)
        reads = system.reads()
        votes = reads.timeline(type_name="ApprovalVoteCast")
        who = system.app.privacy.find
        assert [v["actor"] for v in votes] == [who("alice"), who("bob")]
        assert {v["aggregate_id"] for v in votes} == {str(approval_id)}
        assert [e["type"] for e in reads.timeline(actor=who("bob"))] == [
            "ApprovalVoteCast", "ApprovalGranted"]
        shown = system.use_cases().timeline(None, actor="bob")  # people ask by name
        assert [(e["type"], e["actor"]) for e in shown] == [
            ("ApprovalVoteCast", "bob"), ("ApprovalGranted", "bob")]
        run_events = reads.timeline(aggregate_id=str(run_id), limit=1000)
        assert run_events[0]["type"] == "RunStarted" and run_events[-1]["type"] == "RunCompleted"
        cut = datetime.fromisoformat(votes[0]["time"])
        assert all(datetime.fromisoformat(e["time"]) <= cut
                   for e in reads.timeline(until=cut, limit=1000))
        assert reads.timeline(since=datetime(2100, 1, 1, tzinfo=UTC)) == []

    def test_replay_builds_past_views_apart_from_the_live_ones(
        self, system: System, tmp_path: Path, backend: Backend
    ) -> None:
        journey(system, tmp_path)
        system.store_feed().catch_up()
        live = dump(system.views())
        first_vote = next(r for r in system.history.read() if r.type_name == "ApprovalVoteCast")
        target = f"sqlite:///{tmp_path / 'replay.sqlite3'}"
        engine = system.views_at(target)
        replay(system.history, system.runners(engine=engine), first_vote.timestamp)
        past = dump(engine)
        assert [a["votes"] for a in past["approvals"]] == [[system.app.privacy.find("alice")]]
        assert past["approvals"][0]["status"] == "open"
        assert [r["status"] for r in past["runs"]] == ["running"]
        assert dump(system.views()) == live

    def test_rebuild_gives_the_same_views(self, system: System, tmp_path: Path) -> None:
        journey(system, tmp_path)
        journey(system, tmp_path, grant=False)
        system.store_feed().catch_up()
        before = dump(system.views())
        for runner in system.runners():
            runner.reset()
        assert dump(system.views())["tasks"] == []
        system.store_feed().catch_up()
        assert dump(system.views()) == before

    def test_migrations_build_exactly_the_tables_the_code_writes(self, system: System) -> None:
        with system.views().connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []


class TestProjectionsOnSQLite(OnSQLite, ProjectionContract):
    pass


class TestProjectionsOnPostgres(OnPostgres, ProjectionContract):
    @pytest.fixture
    def same_settings(self, backend: Backend, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
        """The rebuild's worker processes read their settings from the environment."""
        settings = backend.settings()
        assert settings.database_url is not None and settings.views_database_url is not None
        monkeypatch.setenv("ALTLAS_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("ALTLAS_DATABASE_URL", settings.database_url.get_secret_value())
        monkeypatch.setenv("ALTLAS_VIEWS_DATABASE_URL",
                           settings.views_database_url.get_secret_value())

    @pytest.mark.usefixtures("same_settings")
    def test_parallel_rebuild_gives_the_same_views_and_one_position(
        self, system: System, tmp_path: Path
    ) -> None:
        for _ in range(4):
            journey(system, tmp_path)
        journey(system, tmp_path, grant=False)
        system.store_feed().catch_up()
        before = dump(system.views())
        end = system.history.last_position()
        progress = Progress("rebuild", end, stream=io.StringIO())
        assert rebuild(system, None, 3, progress) == end
        assert dump(system.views()) == before
        with system.views().connect() as conn:
            kept = conn.execute(select(positions.c.source, positions.c.partition,
                                       positions.c.position)).all()
        assert sorted(kept) == [("store", 0, end)] * len(PROJECTIONS)  # none of the workers'
        task_id, _, _ = journey(system, tmp_path)  # what comes after is applied once
        system.store_feed().catch_up()
        tasks = dump(system.views())["tasks"]
        assert [t["task_id"] for t in tasks].count(str(task_id)) == 1

    @pytest.mark.usefixtures("same_settings")
    def test_a_parallel_rebuild_of_new_views_counts_each_event_once(
        self, system: System, tmp_path: Path
    ) -> None:
        for _ in range(3):
            journey(system, tmp_path)  # recorded, never applied: the views are new
        end = system.history.last_position()
        said = io.StringIO()
        progress = Progress("rebuild", end, stream=said)
        assert rebuild(system, None, 2, progress) == end
        progress.close()
        assert progress.done == end
        assert f"rebuild: {end}/{end} events" in said.getvalue()

    @pytest.mark.usefixtures("same_settings")
    def test_a_failed_rebuild_worker_is_reported_not_hidden(
        self, system: System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        journey(system, tmp_path)
        monkeypatch.setenv("ALTLAS_VIEWS_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/x")
        with pytest.raises(RebuildError) as failed:
            rebuild(system, None, 2, Progress("rebuild", None, stream=io.StringIO()))
        assert str(failed.value).startswith("2 of 2 rebuild workers failed")
        assert str(failed.value).endswith("run `altlas projections rebuild` again")
