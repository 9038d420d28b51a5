"""Ways to the leaderboards around the arena's rules: whoever registered a planner's model may
not judge it, by an arena vote, POST /matches or the CLI's `leaderboard match`, however the
planner's name is spelled; a match names planners that exist; and a side that made no plan
cannot win or tie. Each refusal records no match."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testkit.helpers import write_gguf
from tests.security.gatehouse import Gatehouse, gatehouse


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gatehouse]:
    """alice (an operator and approver) registered local:tiny; bob is an approver."""
    with gatehouse(tmp_path_factory.mktemp("matches"), worker=True) as g:
        tiny = write_gguf(g.system.settings.models_directory / "tiny.gguf")
        made = g.post("/models", "alice", {"path": str(tiny),
                                           "name": "tiny"})
        assert made.status_code == 201, made.text
        yield g


def matches(gate: Gatehouse) -> int:
    return sum(1 for r in gate.system.history.read() if r.type_name == "MatchPlayed")


def refused(gate: Gatehouse, person: str, body: dict[str, Any], status: int,
            words: str) -> None:
    before = matches(gate)
    r = gate.post("/matches", person, body)
    assert r.status_code == status, r.text
    assert words in r.json()["message"]
    assert matches(gate) == before


@pytest.mark.parametrize("side", ["a", "b"])
@pytest.mark.parametrize("outcome", ["a", "b", "tie", "both_bad"])
def test_the_registrant_of_a_model_may_not_record_a_match_involving_it(
        gate: Gatehouse, side: str, outcome: str) -> None:
    pair = ["local:tiny", "rules"] if side == "a" else ["rules", "local:tiny"]
    refused(gate, "alice", {"planners": pair, "outcome": outcome}, 403,
            "made one of the planners")


@pytest.mark.parametrize("spelled", [" local:tiny", "local:tiny\t", "local:tiny\u200b"])
def test_spelling_the_registrants_planner_differently_names_no_planner(
        gate: Gatehouse, spelled: str) -> None:
    """Padding or an invisible character makes another name, which no planner has: refused,
    and never recorded under the real planner's name."""
    refused(gate, "alice", {"planners": [spelled, "rules"], "outcome": "a"}, 404,
            "is not a planner the arena knows")


@pytest.mark.parametrize("name", ["local:nope", "LOCAL:TINY", "tiny", "local:tiny/..",
                                  "ru\u0406es", "local:tiny+lora-00000000", "model:a"])
def test_a_match_naming_a_planner_that_does_not_exist_is_404_with_the_name(
        gate: Gatehouse, name: str) -> None:
    refused(gate, "bob", {"planners": ["rules", name], "outcome": "a"}, 404,
            f"{name} is not a planner the arena knows")


def test_someone_who_made_neither_planner_may_record_the_match(gate: Gatehouse) -> None:
    before = matches(gate)
    r = gate.post("/matches", "bob", {"planners": ["local:tiny", "rules"], "outcome": "b"})
    assert r.status_code == 201, r.text
    assert matches(gate) == before + 1


def test_the_cli_applies_the_same_rule_to_the_registrant(gate: Gatehouse) -> None:
    before = matches(gate)
    done = gate.cli("leaderboard", "match", "rules", "local:tiny", "a", "--as", "alice")
    assert done.returncode == 2, done.stderr
    assert "made one of the planners" in done.stderr and "Traceback" not in done.stderr
    unknown = gate.cli("leaderboard", "match", "rules", "local:nope", "a", "--as", "bob")
    assert unknown.returncode == 2 and "local:nope is not a planner" in unknown.stderr
    assert matches(gate) == before


def _planned_duel(gate: Gatehouse) -> dict[str, Any]:
    """A duel of the rules against local:tiny, which cannot plan (its file is no model)."""
    made = gate.post("/arena", "erin", {"request": "check disk on web-1", "a": "rules",
                                        "b": "local:tiny"})
    assert made.status_code == 201, made.text
    duel: dict[str, Any] = gate.until(
        lambda: (d := gate.get(f"/arena/{made.json()['id']}"))["status"] == "planned" and d,
        timeout=120)
    return duel


def test_an_arena_vote_for_a_side_that_made_no_plan_cannot_count(gate: Gatehouse) -> None:
    duel = _planned_duel(gate)
    planless = [side for side in ("a", "b") if duel["plans"][side] is None]
    assert len(planless) == 1, duel["problems"]
    before = matches(gate)
    for verdict in (planless[0], "tie"):
        r = gate.post(f"/arena/{duel['id']}/votes", "bob", {"verdict": verdict})
        assert r.status_code == 409, r.text
        assert f"side {planless[0]} made no plan" in r.json()["message"]
    refusals = [r for r in gate.system.history.read() if r.type_name == "ArenaVoteRefused"]
    assert len(refusals) >= 2
    assert matches(gate) == before
    planned = "b" if planless == ["a"] else "a"
    r = gate.post(f"/arena/{duel['id']}/votes", "bob", {"verdict": planned})
    assert r.status_code == 200, r.text
    assert matches(gate) == before + 1


def test_the_registrant_cannot_judge_the_duel_either(gate: Gatehouse) -> None:
    duel = _planned_duel(gate)
    before = matches(gate)
    r = gate.post(f"/arena/{duel['id']}/votes", "alice", {"verdict": "both_bad"})
    assert r.status_code == 403, r.text
    assert matches(gate) == before


def test_the_schema_says_what_the_server_refuses_of_a_pair(gate: Gatehouse) -> None:
    """The same planner twice breaks the schema's uniqueItems, and the server refuses it as
    such; the old a/b body is refused by name, not taken half."""
    schema = gate.client.get("/openapi.json").json()["components"]["schemas"]["MatchIn"]
    assert schema["properties"]["planners"]["uniqueItems"] is True
    before = matches(gate)
    for body in ({"planners": ["rules", "rules"], "outcome": "a"},
                 {"a": "rules", "b": "local:tiny", "outcome": "a"}):
        r = gate.post("/matches", "bob", body)
        assert r.status_code == 422, r.text
    assert matches(gate) == before
