"""Votes cast at the same moment from separate processes: none lost, never a double grant."""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from uuid import UUID

from altlas.bootstrap import bootstrap
from altlas.settings import Settings
from domain.errors import DomainError
from testkit.backends import Backend, OnPostgres, OnSQLite
from testkit.helpers import plan, run_to_rest, step

ROUNDS = 12


def _voter(settings: dict[str, Any], voter: str, approval_ids: list[str], barrier: Barrier,
           results: Any) -> None:
    system = bootstrap(Settings(**settings))
    try:
        barrier.wait(timeout=60)  # everyone has started and connected
        for approval_id in approval_ids:
            barrier.wait(timeout=60)
            try:
                outcome = system.app.cast_vote(UUID(approval_id), voter).status
            except DomainError as e:
                outcome = type(e).__name__
            results.put((approval_id, voter, outcome))
    finally:
        system.close()


class ConcurrentVotesContract:
    def _open_approvals(self, backend: Backend, tmp_path: Path) -> list[str]:
        system = backend.open()
        ids = []
        try:
            for i in range(ROUNDS):
                run = run_to_rest(system, plan(
                    step("s1", action=f"touch {tmp_path}/{i}/maintenance.flag")),
                    environment="prod")
                ids.append(str(run.steps[0].approval_id))
        finally:
            system.close()
        return ids

    def _vote_together(self, backend: Backend, voters: list[str],
                       ids: list[str]) -> list[tuple[str, str, str]]:
        ctx = mp.get_context("spawn")
        barrier = ctx.Barrier(len(voters))
        results = ctx.Queue()
        settings = backend.settings().model_dump()
        if settings["database_url"] is not None:
            settings["database_url"] = settings["database_url"].get_secret_value()
        procs = [ctx.Process(target=_voter, args=(settings, v, ids, barrier, results))
                 for v in voters]
        for p in procs:
            p.start()
        collected = [results.get(timeout=120) for _ in range(len(voters) * len(ids))]
        for p in procs:
            p.join(timeout=30)
            assert p.exitcode == 0
        return collected

    def _granted_events(self, backend: Backend) -> Counter[str]:
        system = backend.open()
        try:
            return Counter(str(r.aggregate_id) for r in system.history.read()
                           if r.type_name == "ApprovalGranted")
        finally:
            system.close()

    def test_two_simultaneous_votes_both_count_and_grant_once(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        ids = self._open_approvals(backend, tmp_path)
        results = self._vote_together(backend, ["alice", "bob"], ids)
        assert all(outcome in ("open", "granted") for _, _, outcome in results), results
        granted = self._granted_events(backend)
        system = backend.open()
        try:
            for approval_id in ids:
                view = system.app.get_approval(UUID(approval_id))
                assert view.status == "granted"
                assert sorted(view.votes) == ["alice", "bob"]
                assert granted[approval_id] == 1
        finally:
            system.close()

    def test_three_simultaneous_votes_on_a_quorum_of_two_grant_exactly_once(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        ids = self._open_approvals(backend, tmp_path)
        results = self._vote_together(backend, ["alice", "bob", "carol"], ids)
        by_approval: dict[str, list[tuple[str, str]]] = {}
        for approval_id, voter, outcome in results:
            by_approval.setdefault(approval_id, []).append((voter, outcome))
        granted = self._granted_events(backend)
        system = backend.open()
        try:
            for approval_id, outcomes in by_approval.items():
                counted = sorted(v for v, o in outcomes if o in ("open", "granted"))
                refused = [o for _, o in outcomes if o not in ("open", "granted")]
                assert len(counted) == 2 and refused == ["ApprovalAlreadyDecidedError"]
                assert sorted(system.app.get_approval(UUID(approval_id)).votes) == counted
                assert granted[approval_id] == 1
        finally:
            system.close()


class TestConcurrentVotesOnPostgres(OnPostgres, ConcurrentVotesContract):
    pass


class TestConcurrentVotesOnSQLite(OnSQLite, ConcurrentVotesContract):
    pass
