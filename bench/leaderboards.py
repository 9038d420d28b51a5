"""Leaderboards: rebuilding the matches view and rating the planners, against baselines
measured in the same run.

  rebuild  100,000 MatchPlayed events recorded in the embedded store; the leaderboards view
           emptied and applied again from the events, against inserting the same rows
           straight into an empty table (the floor for any fold).
  ratings  Elo and Bradley-Terry with 200 bootstrap rounds over those matches (what the
           leaderboards compute when a match was played since they were last read), against
           one pass without intervals; whether each recovers the order of the known
           strengths the tournament was drawn from.

    python bench/leaderboards.py [--matches 100000] [--rounds 200]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from sqlalchemy import Table, create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altlas.bootstrap import bootstrap
from altlas.settings import Settings
from domain.base import EventMeta
from domain.matches import SCORES, Match
from domain.ratings import Game, rated
from projections.folding import insert_ignore
from projections.schema import matches

STRENGTHS = {"local:qwen+lora": 8.0, "litellm:gpt": 5.0, "local:qwen": 4.0, "rules": 3.0,
             "local:smollm2": 2.0}
BATCH = 1000


def tournament(count: int, seed: int = 3) -> list[tuple[str, str, str]]:
    """(a, b, outcome): random pairings, a wins with probability s_a / (s_a + s_b)."""
    rng = random.Random(seed)
    names = sorted(STRENGTHS)
    out = []
    for _ in range(count):
        a, b = rng.sample(names, 2)
        p = STRENGTHS[a] / (STRENGTHS[a] + STRENGTHS[b])
        out.append((a, b, "a" if rng.random() < p else "b"))
    return out


def rebuild(tmp: Path, played: list[tuple[str, str, str]]) -> None:
    system = bootstrap(Settings(data_dir=tmp / "store", database_url=None,
                                views_database_url=None))
    try:
        started = time.perf_counter()
        for i in range(0, len(played), BATCH):
            system.app.save(*[Match.record(a, b, o, EventMeta.for_command("bench"))
                              for a, b, o in played[i:i + BATCH]])
        recorded = time.perf_counter() - started
        system.store_feed().catch_up()
        [runner] = system.runners(names=["leaderboards"])
        runner.reset()
        started = time.perf_counter()
        system.store_feed().catch_up()
        folded = time.perf_counter() - started
        now = datetime.now(UTC)
        rows = [{"match_id": str(uuid4()), "a": a, "b": b, "score": SCORES[o], "weight": 1.0,
                 "source": "vote", "played_at": now} for a, b, o in played]
    finally:
        system.close()
    engine = create_engine(f"sqlite:///{tmp / 'raw.sqlite3'}")
    table: Table = matches.to_metadata(matches.metadata.__class__())
    table.metadata.create_all(engine)
    started = time.perf_counter()
    with engine.begin() as conn:
        for i in range(0, len(rows), BATCH):
            insert_ignore(conn, table, rows[i:i + BATCH])
    raw = time.perf_counter() - started
    n = len(played)
    print(f"rebuild: {n:,} MatchPlayed events, embedded store (SQLite)")
    print(f"{'what':<44} {'s':>7} {'events/s':>10} {'vs raw':>7}")
    print(f"{'record the matches (app.save, 1,000 a call)':<44} {recorded:>7.1f} "
          f"{n / recorded:>10,.0f}")
    print(f"{'rebuild the leaderboards view':<44} {folded:>7.1f} {n / folded:>10,.0f} "
          f"{raw / folded:>6.0%}")
    print(f"{'raw insert of the same rows (baseline)':<44} {raw:>7.1f} {n / raw:>10,.0f}")


def ratings(played: list[tuple[str, str, str]], rounds: int) -> None:
    games = [Game(a, b, SCORES[o]) for a, b, o in played]
    truth = sorted(STRENGTHS, key=STRENGTHS.__getitem__, reverse=True)
    print(f"\nratings: {len(games):,} matches among {len(STRENGTHS)} planners")
    print(f"{'method':<6} {'one pass s':>10} {f'{rounds} rounds s':>12} {'x':>6} "
          f"{'order':>10} {'median 95% width':>17}")
    for method in ("elo", "bt"):
        started = time.perf_counter()
        rated(games, method, rounds=1)
        once = time.perf_counter() - started
        started = time.perf_counter()
        table = rated(games, method, rounds=rounds)
        took = time.perf_counter() - started
        order = "recovered" if [r.name for r in table] == truth else "WRONG"
        width = statistics.median(r.high - r.low for r in table)
        print(f"{method:<6} {once:>10.2f} {took:>12.2f} {took / once:>6.1f} {order:>10} "
              f"{width:>14.1f} pt")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matches", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    played = tournament(args.matches)
    with tempfile.TemporaryDirectory() as tmp:
        rebuild(Path(tmp), played)
    ratings(played, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
