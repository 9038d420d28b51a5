"""The arena on real planners: the rules against SmolLM2 (the packaged GGUF model, run by
llama.cpp), a person's verdict as a match, and a task's run as another."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.core import run_id_of
from domain.duel import DuelDecidedError, MakerCannotJudgeError
from domain.errors import ConflictError, InvalidInputError
from testkit.helpers import gated_plan, operator_policy

pytest.importorskip("llama_cpp", reason="the llm extra is not installed")
CACHE = Path(tempfile.gettempdir()) / "altlas-test-models"  # shared with test_models.py


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    from adapters.llm_local import resolve

    operator_policy(tmp_path)
    system = bootstrap(Settings(data_dir=tmp_path / "data", policy_file=tmp_path / "policy.yaml",
                                segmenter="rules", model_cache=CACHE, arena_run_weight=0.5,
                                models_dir=resolve("smollm2", CACHE)[1].parent))
    system.use_cases().models.add("carol", str(resolve("smollm2", CACHE)[1]), "smol")
    yield system
    system.close()


def matches(system: System) -> list[dict[str, object]]:
    return [r.state for r in system.history.read() if r.type_name == "MatchPlayed"]


def test_a_verdict_is_a_match_and_who_made_a_planner_cannot_give_it(system: System) -> None:
    arena = system.use_cases().arena
    duel = arena.ask("erin", "check disk on web-1")
    assert duel["status"] == "requested" and duel["planners"] is None
    with pytest.raises(Exception, match="the plans are not ready yet"):
        arena.vote("alice", duel["id"], "a")
    system.worker().until_quiet()
    shown = arena.duel(None, duel["id"])
    assert shown["status"] == "planned" and shown["planners"] is None  # still hidden
    assert all(shown["plans"][side] or shown["problems"][side] for side in "ab")
    with pytest.raises(MakerCannotJudgeError, match="carol made one of the planners"):
        arena.vote("carol", duel["id"], "a")  # she registered smol
    # SmolLM2 may make no plan, and a side that made none cannot win: vote for one that did
    side = "b" if shown["plans"]["b"] else "a"
    decided = arena.vote("alice", duel["id"], side)
    assert set(decided["planners"].values()) == {"rules", "local:smol"}
    with pytest.raises(DuelDecidedError):
        arena.vote("bob", duel["id"], "a")
    [match] = matches(system)
    assert (match["a"], match["b"], match["outcome"], match["source"]) == (
        decided["planners"]["a"], decided["planners"]["b"], side, "vote")
    refused = [r.state for r in system.history.read() if r.type_name == "ArenaVoteRefused"]
    assert [system.app.privacy.reveal(r["by"]) for r in refused] == ["carol", "bob"]


def test_a_task_s_run_is_a_match_between_its_plan_and_the_arena_s_alternative(
    system: System
) -> None:
    uc = system.use_cases()
    flag = system.settings.data_dir / "maintenance.flag"
    task = system.app.submit_plan("set the maintenance flag on the altlas host",
                                  gated_plan(str(flag)), "erin", environment="prod")
    system.worker().until_quiet()  # written by erin; waits for two approvals
    duel = uc.arena.ask("erin", "", task_ref=task.id[:8], b="rules")
    with pytest.raises(ConflictError, match="has its duel already"):
        uc.arena.ask("erin", "", task_ref=task.id, b="rules")
    system.worker().until_quiet()
    shown = uc.arena.duel(None, task.id)  # a task's id finds its duel
    assert shown["id"] == duel["id"] and shown["task_id"] == task.id
    assert shown["plans"]["a"] == system.app.get_task(UUID(task.id)).plan
    [waiting] = uc.run_model(run_id_of(UUID(task.id))).waiting
    for approver in ("alice", "bob"):
        uc.vote(approver, str(waiting.approval_id))
    system.worker().until_quiet()
    assert uc.run_model(run_id_of(UUID(task.id))).outcome == "succeeded"
    [match] = matches(system)
    assert (match["a"], match["b"], match["outcome"], match["source"], match["weight"]) == (
        "hand-written", "rules", "a", "run", 0.5)
    system.worker().until_quiet()
    assert len(matches(system)) == 1  # counted once


@pytest.mark.parametrize(("a", "b", "why"), [
    ("rules", "rules", "rules cannot play against itself"),
    ("rules", "local:smol", ""),
    ("local:gpt-5", "rules", "local:gpt-5 is not a planner the arena knows"),
    ("rules", "smol", "smol is not a planner the arena knows"),
])
def test_an_arena_between_unknown_or_identical_planners_is_refused(
    system: System, a: str, b: str, why: str
) -> None:
    before = system.history.last_position()
    request = "check disk on web-1" if why else "   "
    with pytest.raises(InvalidInputError, match=why or "the arena needs a request"):
        system.use_cases().arena.ask("erin", request, a=a, b=b)
    assert system.history.last_position() == before
