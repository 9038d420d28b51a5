"""Approval cards follow the events: every change reaches the fronts once, even one made while
no front was running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from altlas.bootstrap import System
from application.ports import FrontUnavailableError
from tests.helpers import gated_plan
from tests.integration.backends import Backend, OnPostgres, OnSQLite


class Recorder:
    def __init__(self, down_for: int = 0) -> None:
        self.seen: list[tuple[str, str]] = []
        self.down_for = down_for  # how many more updates find the platform unreachable

    def approval_changed(self, approval_id: str) -> None:
        if self.down_for:
            self.down_for -= 1
            raise FrontUnavailableError("Slack answered HTTP 503")
        self.seen.append(("approval", approval_id))

    def run_finished(self, run_id: str) -> None:
        self.seen.append(("run", run_id))


def open_approval(system: System, tmp_path: Path) -> tuple[UUID, UUID]:
    app = system.app
    task_id = app.request_task("set the flag", "deniz", environment="prod")
    app.record_segmentation(task_id, gated_plan(str(tmp_path / "maintenance.flag")),
                            segmenter="test", actor="deniz")
    run = app.start_run(task_id, actor="deniz")
    system.worker.advance(UUID(run.id))
    return UUID(run.id), UUID(str(run.steps[2].approval_id))


class CardUpdatesContract:
    @pytest.fixture
    def system(self, backend: Backend) -> Iterator[System]:
        system = backend.open()
        yield system
        system.close()

    def test_first_start_shows_only_what_changes_from_then_on(
        self, system: System, tmp_path: Path
    ) -> None:
        open_approval(system, tmp_path)
        recorder = Recorder()
        cards = system.card_updates(recorder, "slack")
        cards.poll()
        assert recorder.seen == []

    def test_each_change_renders_its_card_once_and_the_run_when_it_ends(
        self, system: System, tmp_path: Path
    ) -> None:
        recorder = Recorder()
        cards = system.card_updates(recorder, "slack")
        run_id, approval_id = open_approval(system, tmp_path)
        system.app.cast_vote(approval_id, "alice")
        system.app.cast_vote(approval_id, "bob")  # the vote and the grant: one render
        system.worker.advance(run_id)
        cards.poll()
        assert recorder.seen == [("approval", str(approval_id)), ("run", str(run_id))]
        cards.poll()
        assert len(recorder.seen) == 2

    def test_a_change_while_no_front_ran_shows_after_the_restart(
        self, system: System, tmp_path: Path
    ) -> None:
        _, approval_id = open_approval(system, tmp_path)
        system.card_updates(Recorder(), "slack").poll()  # a front ran, then stopped
        system.app.cast_vote(approval_id, "alice")  # from the CLI, say
        recorder = Recorder()
        system.card_updates(recorder, "slack").poll()
        assert recorder.seen == [("approval", str(approval_id))]
        other = Recorder()  # a front that never ran starts from now
        system.card_updates(other, "discord").poll()
        assert other.seen == []

    def test_a_change_the_front_could_not_take_is_shown_when_it_can(
        self, system: System, tmp_path: Path
    ) -> None:
        _, first = open_approval(system, tmp_path)
        _, second = open_approval(system, tmp_path)
        recorder = Recorder(down_for=1)
        cards = system.card_updates(recorder, "slack")
        system.app.cast_vote(first, "alice")
        system.app.cast_vote(second, "alice")
        cards.poll()
        assert cards.unavailable and recorder.seen == []
        cards.poll()
        assert not cards.unavailable
        assert recorder.seen == [("approval", str(first)), ("approval", str(second))]

    def test_a_restart_while_the_front_is_down_keeps_the_change(
        self, system: System, tmp_path: Path
    ) -> None:
        _, approval_id = open_approval(system, tmp_path)
        system.card_updates(Recorder(), "slack")  # the front ran before
        system.app.cast_vote(approval_id, "alice")
        system.card_updates(Recorder(down_for=5), "slack").poll()  # down, then stopped
        recorder = Recorder()
        system.card_updates(recorder, "slack").poll()
        assert recorder.seen == [("approval", str(approval_id))]


class TestCardUpdatesOnSQLite(OnSQLite, CardUpdatesContract):
    pass


class TestCardUpdatesOnPostgres(OnPostgres, CardUpdatesContract):
    pass
