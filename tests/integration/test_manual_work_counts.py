"""Work altlas left to a person counts as done by hand once confirmed, the same in the run,
the .atlas, the leaderboards, similar-run search and the training data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from altlas.bootstrap import System
from application.core import run_id_of
from application.training_data import from_history
from projections.schema import atlas_runs
from projections.store import alembic_config, migrate
from testkit.backends import SQLiteBackend
from testkit.helpers import plan, step

REQUEST = "wipe the application data directory on web-1"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = SQLiteBackend(tmp_path).open()
    yield system
    system.close()


def _left_to_a_person(system: System) -> str:
    task = system.app.submit_plan(REQUEST, plan(step("s1", kind="ssh", action="rm -rf /var/lib/app",
                                                         target="web-1")),
                                  "deniz")
    system.worker().until_quiet()
    run_id = str(run_id_of(UUID(task.id)))
    assert system.app.get_run(UUID(run_id)).outcome == "manual_outstanding"
    return run_id


def _caught_up(system: System) -> None:
    system.worker().until_quiet()
    system.store_feed().catch_up()
    system.similar().catch_up()


def test_outstanding_manual_work_is_counted_as_neither_success_nor_failure(
    system: System
) -> None:
    _left_to_a_person(system)
    _caught_up(system)
    assert system.use_cases().atlas_patterns(None) == []
    assert system.similar().search(REQUEST, 1) == []
    assert from_history(system.app, system.history)[0] == []


def test_a_confirmed_manual_step_counts_as_done_by_hand_everywhere(system: System) -> None:
    run_id = _left_to_a_person(system)
    run = system.use_cases().confirm_step("bob", run_id[:8], "s1", "wiped by hand")
    assert run.outcome == "succeeded"
    _caught_up(system)
    uc = system.use_cases()
    [pattern] = uc.atlas_patterns(None)
    assert (pattern["runs"], pattern["successes"], pattern["last_failure"]) == (1, 1, None)
    [runbook] = uc.leaderboards.runbooks()
    assert (runbook["runs"], runbook["successes"]) == (1, 1)
    [planner] = uc.leaderboards.planners()
    assert (planner["runs"], planner["successes"]) == (1, 1)
    [found] = system.similar().search(REQUEST, 1)
    assert found.outcome == "succeeded"
    assert [run.request for run in from_history(system.app, system.history)[0]] == [REQUEST]


def test_a_store_counted_by_an_earlier_release_is_counted_again_on_upgrade(
    system: System
) -> None:
    """Before 0.6 the .atlas kept a confirmed run as "manual_outstanding", a failure."""
    from alembic import command

    run_id = _left_to_a_person(system)
    system.use_cases().confirm_step("bob", run_id[:8], "s1")
    _caught_up(system)
    engine = system.views()
    with engine.begin() as conn:
        conn.execute(atlas_runs.update().values(outcome="manual_outstanding"))
        config = alembic_config()
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")  # the views as that release left them
        command.stamp(config, "0013")
    migrate(engine)
    system.store_feed().catch_up()
    [pattern] = system.use_cases().atlas_patterns(None)
    assert (pattern["runs"], pattern["successes"]) == (1, 1)
