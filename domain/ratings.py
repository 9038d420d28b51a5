"""Ratings of the planners that compete for the same requests: Elo and Bradley-Terry, each with
a 95% interval from the bootstrap (resampling the games with replacement), the way public model
arenas report them.

Computed with numpy across all bootstrap rounds at once: 100,000 games and 200 rounds take
seconds, not minutes (bench/leaderboards.py). Pure functions: nothing here reads or writes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ELO_START = 1000.0
ELO_K = 4.0  # as public model arenas: small steps, so the order of games matters less
BT_SCALE = 400 / math.log(10)  # Bradley-Terry strengths on Elo's scale, for one reading
METHODS = ("elo", "bt")
_CHUNK = 4096  # games resampled at a time for the Elo bootstrap, to bound memory


@dataclass(frozen=True)
class Game:
    """One comparison: ``a`` against ``b``; ``score`` is a's result (1 win, 0.5 tie, 0 loss);
    ``weight`` how much it counts (a vote 1; a run's outcome, the policy's weight)."""

    a: str
    b: str
    score: float
    weight: float = 1.0


@dataclass(frozen=True)
class Rating:
    name: str
    rating: float
    low: float  # the 95% interval, from the bootstrap
    high: float
    matches: int


@dataclass(frozen=True)
class _Games:
    names: list[str]
    a: NDArray[np.intp]
    b: NDArray[np.intp]
    score: NDArray[np.float64]
    weight: NDArray[np.float64]

    @classmethod
    def of(cls, games: Sequence[Game]) -> _Games:
        names = sorted({g.a for g in games} | {g.b for g in games})
        index = {n: i for i, n in enumerate(names)}
        return cls(names, np.array([index[g.a] for g in games], dtype=np.intp),
                   np.array([index[g.b] for g in games], dtype=np.intp),
                   np.array([g.score for g in games], dtype=np.float64),
                   np.array([g.weight for g in games], dtype=np.float64))


def _elo(g: _Games, picks: NDArray[np.intp], k: float) -> NDArray[np.float64]:
    """Elo after the games ``picks[r]`` in order, for every round r at once."""
    rounds = picks.shape[0]
    ratings = np.full((rounds, len(g.names)), ELO_START)
    row = np.arange(rounds)
    for start in range(0, picks.shape[1], _CHUNK):
        chunk = picks[:, start:start + _CHUNK]
        a, b, s, w = g.a[chunk], g.b[chunk], g.score[chunk], g.weight[chunk]
        for j in range(chunk.shape[1]):
            ra, rb = ratings[row, a[:, j]], ratings[row, b[:, j]]
            delta = k * w[:, j] * (s[:, j] - 1 / (1 + 10 ** ((rb - ra) / 400)))
            ratings[row, a[:, j]] = ra + delta
            ratings[row, b[:, j]] = rb - delta
    return ratings


def _bradley_terry(g: _Games, counts: NDArray[np.float64], iterations: int = 200,
                   tolerance: float = 1e-9) -> NDArray[np.float64]:
    """Strengths by the MM algorithm (Hunter 2004) for every round r, where game i counts
    ``counts[r, i]`` times; a tie is half a win each way. A small prior (one tie against an
    average player) keeps a player who never lost or never won finite."""
    rounds, n = counts.shape[0], len(g.names)
    weighted = counts * g.weight
    wins = np.full((rounds, n), 0.5)
    games = np.zeros((rounds, n, n))
    for r in range(rounds):
        wins[r] += np.bincount(g.a, weighted[r] * g.score, minlength=n)
        wins[r] += np.bincount(g.b, weighted[r] * (1 - g.score), minlength=n)
        np.add.at(games[r], (g.a, g.b), weighted[r])
    games += games.transpose(0, 2, 1)
    strength = np.ones((rounds, n))
    for _ in range(iterations):
        pair = strength[:, :, None] + strength[:, None, :]
        denominator = (games / pair).sum(axis=2) + 1 / (strength + 1)
        updated = wins / denominator
        updated /= np.exp(np.log(updated).mean(axis=1, keepdims=True))
        change = np.abs(updated - strength).max()
        strength = updated
        if change < tolerance:
            break
    return ELO_START + BT_SCALE * np.log(strength)


def _points(g: _Games, picks: NDArray[np.intp], method: str) -> NDArray[np.float64]:
    if method == "elo":
        return _elo(g, picks, ELO_K)
    counts = np.zeros((picks.shape[0], len(g.a)))
    for r in range(picks.shape[0]):
        counts[r] = np.bincount(picks[r], minlength=len(g.a))
    return _bradley_terry(g, counts)


def _once(games: Sequence[Game], method: str) -> dict[str, float]:
    if not games:
        return {}
    g = _Games.of(games)
    point = _points(g, np.arange(len(games))[None, :], method)[0]
    return dict(zip(g.names, point.tolist(), strict=True))


def elo(games: Sequence[Game]) -> dict[str, float]:
    """Elo ratings after the games in order."""
    return _once(games, "elo")


def bradley_terry(games: Sequence[Game]) -> dict[str, float]:
    """Bradley-Terry strengths on Elo's scale around 1000."""
    return _once(games, "bt")


def rated(games: Sequence[Game], method: str, rounds: int = 200, seed: int = 0
          ) -> list[Rating]:
    """Ratings (``elo`` or ``bt``) with 95% intervals from resampling the games with
    replacement, best first. Elo depends on the order of the games, and one order's last
    games move it most; like public arenas, its rating is the median over the resampled
    orders. Bradley-Terry does not depend on the order: its rating is the fit to all games."""
    if method not in METHODS:
        raise ValueError(f"unknown rating method {method!r}; use {' or '.join(METHODS)}")
    if not games:
        return []
    g = _Games.of(games)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(games), size=(rounds, len(games)))
    samples = _points(g, picks, method)
    low, median, high = np.percentile(samples, [2.5, 50, 97.5], axis=0)
    point = median if method == "elo" else _points(g, np.arange(len(games))[None, :], method)[0]
    played = np.bincount(g.a, minlength=len(g.names)) + np.bincount(g.b, minlength=len(g.names))
    table = [Rating(name, float(point[i]), float(low[i]), float(high[i]), int(played[i]))
             for i, name in enumerate(g.names)]
    return sorted(table, key=lambda r: r.rating, reverse=True)
