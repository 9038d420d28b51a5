"""The leaderboards over real databases: runbooks ranked by how surely and how soon they
resolve, planners by their plans' fate, ratings from recorded matches, and the views rebuilt
from events alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select

from altlas.bootstrap import System, bootstrap
from application.errors import NotFoundError
from application.leaderboards import InvalidRatingMethodError
from domain.errors import NotAllowedError
from domain.matches import MatchError
from projections.schema import matches
from testkit.backends import Backend, OnPostgres, OnSQLite
from testkit.helpers import gated_plan, plan, run_id_of, step, token_policy


def disk(path: str = "/") -> dict[str, object]:
    return plan(step("s1", action=f"df -h {path}"))


class LeaderboardsContract:
    @pytest.fixture
    def system(self, backend: Backend, tmp_path: Path) -> Iterator[System]:
        policy = tmp_path / "policy.yaml"
        policy.write_text(token_policy())
        system = bootstrap(backend.settings().model_copy(update={"policy_file": policy}))
        yield system
        system.close()

    @pytest.fixture
    def played(self, system: System, tmp_path: Path) -> System:
        """rules planned four tasks: three ran well, one failed; model:a planned one that
        was refused in prod; erin wrote one by hand; and a short tournament."""
        app = system.app
        for path in ("/", "/tmp"):
            app.submit_plan("disk space", disk(path), "deniz", segmenter="rules")
        app.submit_plan("disk space", disk("/no-such-place"), "deniz", segmenter="rules")
        app.submit_plan("load", plan(step("s1", action="uptime")), "erin", segmenter="rules")
        app.submit_plan("load", plan(step("s1", action="uptime")), "erin")
        refused = app.submit_plan("flag", gated_plan(str(tmp_path / "maintenance.flag")), "deniz",
                                  segmenter="model:a", environment="prod")
        system.worker().until_quiet()
        run = app.get_run(run_id_of(UUID(refused.id)))
        approval = next(s.approval_id for s in run.steps if s.approval_id)
        system.use_cases().deny("alice", str(approval), "not during the freeze")
        system.worker().until_quiet()
        for outcome in ["a"] * 6 + ["b", "tie"]:  # as recorded before planners were checked
            app.record_match("local:qwen", "rules", outcome, "alice", makers=[])
        app.record_match("rules", "model:a", "both_bad", "alice", makers=[])
        system.store_feed().catch_up()
        return system

    def test_planners_are_ranked_by_their_plans_fate(self, played: System) -> None:
        found = {p["planner"]: p for p in played.use_cases().leaderboard(None)["planners"]}
        rules = found["rules"]
        assert (rules["plans"], rules["runs"], rules["successes"]) == (4, 4, 3)
        assert rules["refused_rate"] == 0
        assert rules["interval"][0] < 0.75 < rules["interval"][1]
        model = found["model:a"]
        assert (model["plans"], model["runs"], model["refused_rate"]) == (1, 1, 1.0)
        assert found["hand-written"]["plans"] == 1
        assert next(iter(found)) == "rules"  # the surest success first

    def test_runbooks_rank_the_surely_successful_first(self, played: System) -> None:
        runbooks = played.use_cases().leaderboard(None)["runbooks"]
        by_pattern = {r["pattern"]: r for r in runbooks}
        assert (by_pattern["local:disk"]["runs"], by_pattern["local:disk"]["successes"]) == (3, 2)
        assert runbooks[0]["interval"][0] >= runbooks[-1]["interval"][0]
        assert by_pattern["local:disk"]["time_to_resolve_ms"]["p50"] > 0

    def test_matches_rate_the_planners_with_intervals(self, played: System) -> None:
        board = played.use_cases().ratings(None, "bt")
        assert board["matches"] == 9
        names = [r["planner"] for r in board["ratings"]]
        assert names[0] == "local:qwen"
        for r in board["ratings"]:
            assert r["interval"][0] <= r["rating"] <= r["interval"][1]
        assert {r["planner"]: r["matches"] for r in board["ratings"]} == {
            "local:qwen": 8, "rules": 9, "model:a": 1}
        assert played.use_cases().ratings(None, "elo")["ratings"][0]["planner"] == "local:qwen"

    def test_the_charts_are_png(self, played: System) -> None:
        for png in (played.use_cases().chart(None, method="elo"),
                    played.use_cases().chart(None, runbook="disk")):
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000

    def test_nothing_to_chart_says_so(self, system: System) -> None:
        with pytest.raises(NotFoundError, match="no match was played yet"):
            system.use_cases().chart(None, method="bt")
        with pytest.raises(NotFoundError, match="no runbook matches 'disk'"):
            system.use_cases().chart(None, runbook="disk")
        with pytest.raises(InvalidRatingMethodError, match="use elo or bt"):
            system.use_cases().ratings(None, "glicko")

    def test_a_match_needs_a_judge_and_two_planners(self, system: System) -> None:
        before = system.history.last_position()
        with pytest.raises(NotAllowedError, match="needs the approver role"):
            system.use_cases().record_match("ivy", "local:qwen", "rules", "a")
        with pytest.raises(MatchError, match="against itself"):
            system.use_cases().record_match("alice", "rules", "rules", "a")
        assert system.history.last_position() == before

    def test_a_rebuild_gives_the_same_leaderboards(self, played: System) -> None:
        before = played.use_cases().leaderboard(None, "bt")
        with played.views().connect() as conn:
            rows = conn.execute(select(matches)).all()
        for runner in played.runners(names=["leaderboards"]):
            runner.reset()
        with played.views().connect() as conn:
            assert conn.execute(select(matches)).all() == []
        played.store_feed().catch_up()
        with played.views().connect() as conn:
            assert conn.execute(select(matches)).all() == rows
        assert played.use_cases().leaderboard(None, "bt") == before


class TestLeaderboardsOnSQLite(OnSQLite, LeaderboardsContract):
    """The contract on the embedded default."""


class TestLeaderboardsOnPostgres(OnPostgres, LeaderboardsContract):
    """The contract on PostgreSQL."""
