"""The Slack gate's replay check under a crowd: every signed request is recorded in the view
database before bolt sees it. Baseline in the same run: one transaction per request (as the gate
did before), against the gate's batches (bots/slack_gate.py, Firsts), on the embedded SQLite.

    python bench/replay_check.py [--people 50 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from figures import record

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bots.slack_gate import Firsts  # noqa: E402
from projections.seen_requests import SqlSeenRequests  # noqa: E402
from projections.store import migrate, open_engine  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def crowd(check: Callable[[str], Awaitable[bool]], people: int, tag: str
                ) -> list[float]:
    async def one(i: int) -> float:
        started = time.perf_counter()
        assert await check(f"signature:{tag}{i}")
        return (time.perf_counter() - started) * 1000
    return list(await asyncio.gather(*(one(i) for i in range(people))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'people':>6} {'check':<34} {'n':>5} {'p50 ms':>8} {'p99 ms':>8}")
    with tempfile.TemporaryDirectory() as root:
        engine = open_engine(f"sqlite:///{root}/views.db")
        migrate(engine)
        seen = SqlSeenRequests(lambda: engine, timedelta(minutes=15))

        async def batched(people: int, tag: str) -> list[float]:
            return await crowd(Firsts(seen, "slack").first, people, tag)

        for people in args.people:
            single: list[float] = []
            grouped: list[float] = []
            for r in range(args.rounds):
                single += asyncio.run(crowd(
                    lambda key: asyncio.to_thread(seen.first, "slack", key), people,
                    f"one-{people}-{r}-"))
                grouped += asyncio.run(batched(people, f"batch-{people}-{r}-"))
            for label, values in (("one transaction each (baseline)", single),
                                  ("batched, as the gate does", grouped)):
                print(f"{people:>6} {label:<34} {len(values):>5} "
                      f"{statistics.median(values):>8.1f} {percentile(values, 0.99):>8.1f}")
            record(f"replay check, {people} people, batched p99 vs one transaction each",
                   percentile(grouped, 0.99) / percentile(single, 0.99), "ratio", "lower")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
