"""The .atlas over real databases: patterns from runs, export and import between two
installations, and documents that are refused without a trace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from altlas.bootstrap import System, bootstrap
from application.atlas import AtlasDocumentError
from domain.errors import NotAllowedError
from testkit.backends import Backend, OnPostgres, OnSQLite, SQLiteBackend
from testkit.helpers import plan, run_to_rest, step, token_policy


def disk(path: str = "/") -> dict[str, object]:
    return plan(step("s1", action=f"df -h {path}"))


class AtlasContract:
    @pytest.fixture
    def policy(self, tmp_path: Path) -> Path:
        path = tmp_path / "policy.yaml"  # alice operates: she may import
        path.write_text(token_policy())
        return path

    @pytest.fixture
    def system(self, backend: Backend, policy: Path) -> Iterator[System]:
        system = bootstrap(backend.settings().model_copy(update={"policy_file": policy}))
        yield system
        system.close()

    @pytest.fixture
    def learned(self, system: System) -> System:
        """Three runs of one pattern asked three ways, one of them failing; one run of another."""
        run_to_rest(system, disk("/"), requester="deniz")
        run_to_rest(system, disk("/tmp"), requester="erin")
        failed = run_to_rest(system, disk("/no-such-place"), requester="deniz")
        assert failed.outcome == "failed"
        run_to_rest(system, plan(step("s1", action="uptime")), requester="erin")
        system.store_feed().catch_up()
        return system

    def test_runs_of_one_pattern_are_counted_together(self, learned: System) -> None:
        found = {p["pattern"]: p for p in learned.use_cases().atlas_patterns(None)}
        assert set(found) == {"local:disk", "local:load"}
        disk_runs = found["local:disk"]
        assert (disk_runs["runs"], disk_runs["successes"]) == (3, 2)
        assert disk_runs["success_rate"] == pytest.approx(2 / 3, abs=1e-4)
        low, high = disk_runs["interval"]
        assert 0.2 < low < 2 / 3 < high < 0.95  # Wilson, 95%: wide with three runs
        assert "No such file or directory" in disk_runs["last_failure"]
        assert disk_runs["failures"][0]["count"] == 1
        assert sorted(disk_runs["requesters"]) == ["deniz", "erin"]
        assert disk_runs["duration_ms"]["mean"] is not None
        assert disk_runs["plan"]["steps"][0]["action"] == "df -h /tmp"  # the latest success
        assert found["local:load"]["runs"] == 1

    def test_a_query_finds_patterns_by_their_words(self, learned: System) -> None:
        assert [p["pattern"] for p in learned.use_cases().atlas_patterns(None, "disk")] == [
            "local:disk"]
        assert learned.use_cases().atlas_patterns(None, "reboot everything") == []

    def test_an_export_imported_elsewhere_is_marked_and_counted_once(
        self, learned: System, tmp_path: Path
    ) -> None:
        document = learned.use_cases().atlas_document(None, "site-a", datetime.now(UTC))
        raw = json.dumps(document).encode()
        other = bootstrap(SQLiteBackend(tmp_path / "other").settings().model_copy(
            update={"policy_file": tmp_path / "policy.yaml"}))
        try:
            done = other.use_cases().import_atlas("alice", raw)
            assert (done["imported"], done["patterns"], done["runs"]) == (True, 2, 4)
            at = other.history.last_position()
            again = other.use_cases().import_atlas("alice", raw)
            assert again["imported"] is False
            assert other.history.last_position() == at  # nothing recorded the second time
            other.store_feed().catch_up()
            [imported] = [p for p in other.use_cases().atlas_patterns(None, "disk")]
            assert (imported["runs"], imported["successes"]) == (3, 2)
            assert imported["imported"][0]["source"] == "site-a"
            assert imported["imported"][0]["runs"] == 3
            exported = other.use_cases().atlas_document(None, "site-b", datetime.now(UTC))
            assert exported["patterns"] == []  # what was imported stays with its source
        finally:
            other.close()

    @pytest.mark.parametrize(("change", "path"), [
        (lambda d: d.update(atlas=2), "$.atlas"),
        (lambda d: d["patterns"][0].update(runs="three"), "$.patterns[0].runs"),
        (lambda d: d["patterns"][0].update(successes=9), "$.patterns[0].successes"),
        (lambda d: d["patterns"][0]["plan"]["steps"][0].update(kind="rm"),
         "$.patterns[0].plan.steps[0].kind"),
        (lambda d: d["patterns"].append(dict(d["patterns"][0])), "$.patterns[2].pattern"),
    ])
    def test_a_bad_document_is_refused_at_its_path_and_changes_nothing(
        self, learned: System, change: object, path: str
    ) -> None:
        document = learned.use_cases().atlas_document(None, "site-a", datetime.now(UTC))
        change(document)  # type: ignore[operator]
        at = learned.history.last_position()
        with pytest.raises(AtlasDocumentError) as refused:
            learned.use_cases().import_atlas("alice", json.dumps(document).encode())
        assert str(refused.value).startswith(f"{path}: ")
        assert learned.history.last_position() == at

    def test_only_an_operator_imports(self, learned: System) -> None:
        document = learned.use_cases().atlas_document(None, "site-a", datetime.now(UTC))
        with pytest.raises(NotAllowedError, match=r"deniz may not import an \.atlas: that "
                                                  "needs the operator role"):
            learned.use_cases().import_atlas("deniz", json.dumps(document).encode())


class TestAtlasOnSQLite(OnSQLite, AtlasContract):
    """The contract on the embedded default."""


class TestAtlasOnPostgres(OnPostgres, AtlasContract):
    """The contract on PostgreSQL."""


def test_a_pattern_that_fails_often_is_said_once_and_once_when_it_recovers(
    tmp_path: Path,
) -> None:
    system = SQLiteBackend(tmp_path).open()
    try:
        def said() -> list[tuple[str, int, int]]:
            return [(r.type_name, r.data["runs"], r.data["successes"])
                    for r in system.history.read()
                    if r.type_name.startswith("PatternSuccess")]

        for _ in range(4):
            run_to_rest(system, disk("/no-such-place"))
        assert said() == []  # four runs: fewer than the policy's five
        run_to_rest(system, disk("/no-such-place"))
        assert said() == [("PatternSuccessLow", 5, 0)]
        [low] = [r for r in system.history.read() if r.type_name == "PatternSuccessLow"]
        assert "No such file or directory" in low.data["last_failure"]
        assert low.data["threshold"] == 0.6
        run_to_rest(system, disk("/no-such-place"))  # still low: not said again
        for _ in range(9):
            run_to_rest(system, disk("/"))
        assert said() == [("PatternSuccessLow", 5, 0), ("PatternSuccessRecovered", 15, 9)]
    finally:
        system.close()
