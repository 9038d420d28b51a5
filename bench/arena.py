"""The arena: from a person's verdict on a duel to the leaderboards rating it, against the
same path for a match recorded directly (POST /matches, `altlas leaderboard match`) measured
in the same run.

Each duel is the rules against a registered model; what the planners take to plan is not
measured here (a model's plan takes seconds, BENCHMARKS.md "Planning"): the clock starts at
the vote. The leaderboards are read as the HTTP API reads them (the views caught up first,
the ratings recomputed because a match was played: Elo and Bradley-Terry, 200 bootstrap
rounds each, over every match so far).

    python bench/arena.py [--duels 50] [--history 1000]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altlas.bootstrap import bootstrap
from altlas.settings import Settings
from testkit.helpers import operator_policy, write_gguf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duels", type=int, default=50)
    parser.add_argument("--history", type=int, default=1000,
                        help="matches on record before the first duel")
    args = parser.parse_args()
    logging.getLogger("altlas.segmentation").setLevel(logging.ERROR)  # the model's failures
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        operator_policy(root)
        system = bootstrap(Settings(data_dir=root / "data", policy_file=root / "policy.yaml",
                                    segmenter="rules"))
        uc = system.use_cases()
        uc.models.add("carol", str(write_gguf(root / "tiny.gguf")), "tiny")
        for i in range(args.history):
            uc.record_match("alice", "rules", "local:tiny", "ab"[i % 2])
        voted, direct = [], []

        def rated(count: int) -> bool:
            board = uc.leaderboard(None, "elo")["ratings"]
            return sum(r["matches"] for r in board["ratings"]) // 2 >= count

        played = args.history
        for _ in range(args.duels):
            duel = uc.arena.ask("erin", "check disk on web-1", a="rules", b="local:tiny")
            system.worker().until_quiet()  # both plan (the model cannot load: fast)
            plans = uc.arena.duel(None, duel["id"])["plans"]
            side = "a" if plans["a"] else "b"  # the model made no plan: it cannot win
            started = time.perf_counter()
            uc.arena.vote("alice", duel["id"], side)
            played += 1
            assert rated(played)
            voted.append(time.perf_counter() - started)
            started = time.perf_counter()
            uc.record_match("bob", "rules", "local:tiny", "b")
            played += 1
            assert rated(played)
            direct.append(time.perf_counter() - started)
        system.close()
    print(f"arena: {args.duels} duels, {args.history} matches on record before, the rules "
          "against a registered model; Elo, 200 bootstrap rounds")
    print(f"{'from the verdict to the leaderboards rating it':<50} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'max ms':>8}")
    for label, times in (("a match recorded directly (baseline)", direct),
                         ("an arena vote (ArenaVoted + MatchPlayed)", voted)):
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"{label:<50} {1000 * statistics.median(times):>8.1f} {1000 * p95:>8.1f} "
              f"{1000 * max(times):>8.1f}")
    print(f"ratio (vote / direct, p50): {statistics.median(voted) / statistics.median(direct):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
