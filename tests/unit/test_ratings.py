"""Ratings of planners (Elo, Bradley-Terry, bootstrap intervals) and the matches they come
from."""

from __future__ import annotations

import math
import random

import pytest
from eventsourcing.utils import resolve_topic

from domain.base import EventMeta
from domain.matches import Match, MatchError
from domain.ratings import Game, bradley_terry, elo, rated


def tournament(strengths: dict[str, float], games: int, seed: int = 7) -> list[Game]:
    """Random pairings; a beats b with Bradley-Terry probability s_a / (s_a + s_b)."""
    rng = random.Random(seed)
    names = sorted(strengths)
    matches = []
    for _ in range(games):
        a, b = rng.sample(names, 2)
        p = strengths[a] / (strengths[a] + strengths[b])
        matches.append(Game(a, b, 1.0 if rng.random() < p else 0.0))
    return matches


STRENGTHS = {"qwen-lora": 8.0, "qwen": 4.0, "smollm": 2.0, "rules": 1.0}


def test_elo_and_bradley_terry_recover_the_order_of_known_strengths() -> None:
    matches = tournament(STRENGTHS, 3000)
    truth = sorted(STRENGTHS, key=STRENGTHS.__getitem__, reverse=True)
    for method in (elo, bradley_terry):
        ratings = method(matches)
        assert sorted(ratings, key=ratings.__getitem__, reverse=True) == truth


def test_bradley_terry_recovers_the_strength_ratios() -> None:
    ratings = bradley_terry(tournament(STRENGTHS, 6000))
    gap = ratings["qwen-lora"] - ratings["rules"]  # log(8) on Elo's scale: ~361
    assert gap == pytest.approx(400 * math.log10(8), rel=0.15)


def test_intervals_hold_the_rating_and_narrow_with_more_matches() -> None:
    few = {r.name: r for r in rated(tournament(STRENGTHS, 100), "bt", rounds=100)}
    many = {r.name: r for r in rated(tournament(STRENGTHS, 2000), "bt", rounds=100)}
    for name in STRENGTHS:
        assert few[name].low <= few[name].rating <= few[name].high
        assert (many[name].high - many[name].low) < (few[name].high - few[name].low)
    best = rated(tournament(STRENGTHS, 2000), "elo", rounds=50)[0]
    assert best.name == "qwen-lora"


def test_a_tie_counts_half_and_no_match_rates_nobody() -> None:
    assert bradley_terry([Game("a", "b", 0.5)] * 10) == pytest.approx({"a": 1000, "b": 1000})
    assert rated([], "bt") == []


def test_a_weighted_game_counts_more() -> None:
    light = [Game("a", "b", 1.0), Game("b", "a", 1.0, weight=0.25)]
    heavy = [Game("a", "b", 1.0), Game("b", "a", 1.0, weight=4.0)]
    assert bradley_terry(light)["a"] > 1000 > bradley_terry(heavy)["a"]


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="use elo or bt"):
        rated([Game("a", "b", 1.0)], "glicko")


META = EventMeta.for_command("slack:U1")


@pytest.mark.parametrize(("outcome", "score"), [("a", 1.0), ("b", 0.0), ("tie", 0.5),
                                                ("both_bad", 0.5)])
def test_a_match_scores_its_outcome_for_a(outcome: str, score: float) -> None:
    match = Match.record("local:qwen", "rules", outcome, META)
    assert match.score == score
    assert [e.type_name for e in match.collect_events()] == ["MatchPlayed"]


@pytest.mark.parametrize(("a", "b", "outcome", "weight", "says"), [
    ("rules", "rules", "a", 1.0, "against itself"),
    (" rules ", "rules", "a", 1.0, "against itself"),
    ("", "rules", "a", 1.0, "two planners"),
    ("x" * 101, "rules", "a", 1.0, "two planners"),
    ("local:qwen", "rules", "draw", 1.0, "unknown outcome"),
    ("local:qwen", "rules", "a", 0.0, "above 0"),
    ("local:qwen", "rules", "a", 11.0, "at most 10"),
])
def test_a_match_that_means_nothing_is_refused(a: str, b: str, outcome: str, weight: float,
                                               says: str) -> None:
    with pytest.raises(MatchError, match=says):
        Match.record(a, b, outcome, META, weight=weight)


def test_matches_recorded_before_their_module_was_renamed_still_load() -> None:
    import application.app  # noqa: F401  # registers the topics events were recorded under

    assert resolve_topic("domain.arena:Match.Played") is Match.Played
    assert resolve_topic("domain.arena:Match") is Match
