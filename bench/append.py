"""Events appended per second through the altlas application vs the raw eventsourcing recorder.

Each journey is the realistic mix of one gated task: request, segmentation, run start with
its approval, two step results, two votes (the second grants), the gated step, completion —
10 commands, 14 events. Every command loads its aggregate, checks its rules, seals the hash
chain and saves; the baseline inserts exactly the same stored events, in the same
transactions, straight into a fresh recorder of the same kind (and once more one event per
transaction). Same machine, same run: compare the ratios, not the absolute numbers.

    python bench/append.py [--journeys N] [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from uuid import uuid4

import psycopg
from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from journeys import journey, person_keys, timed

from adapters.policy_file import load_policy
from altlas.settings import Settings
from application.app import AltlasApplication
from domain.policy import Policy

DEFAULT_PG = "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test"


def one_repeat(policy: Policy, env_for: Callable[[str], dict[str, str]], tag: str,
               journeys: int) -> tuple[int, float, float, float]:
    """Our application, then the raw recorder fed the exact stored events we wrote."""
    env = env_for(f"app{tag}")
    app = AltlasApplication(policy, env=env, keys=person_keys(env))
    batches: list[Sequence[StoredEvent]] = []
    insert = app.recorder.insert_events

    def recording(stored: Sequence[StoredEvent], **kw: object) -> object:
        batches.append(list(stored))
        return insert(stored, **kw)

    app.recorder.insert_events = recording  # type: ignore[method-assign]
    journey(app, -1)  # warm up connections and caches
    batches.clear()
    ours = timed(lambda: [journey(app, i) for i in range(journeys)])
    app.close()

    same = InfrastructureFactory.construct(env_for(f"raw{tag}")).application_recorder()
    raw_same = timed(lambda: [same.insert_events(b) for b in batches])
    single = InfrastructureFactory.construct(env_for(f"one{tag}")).application_recorder()
    raw_single = timed(lambda: [single.insert_events([e]) for b in batches for e in b])
    return sum(len(b) for b in batches), ours, raw_same, raw_single


def measure(name: str, env_for: Callable[[str], dict[str, str]], journeys: int,
            repeats: int) -> list[tuple[str, str, int, float]]:
    policy = load_policy(None)
    runs = [one_repeat(policy, env_for, str(r), journeys) for r in range(repeats)]
    events = runs[0][0]
    median = statistics.median
    return [
        (name, "altlas application (10 commands/journey)", events, median(r[1] for r in runs)),
        (name, "raw recorder, same transactions", events, median(r[2] for r in runs)),
        (name, "raw recorder, one event per transaction", events, median(r[3] for r in runs)),
    ]


def sqlite_env(root: Path) -> Callable[[str], dict[str, str]]:
    def env(tag: str) -> dict[str, str]:
        s = Settings(data_dir=root / tag, database_url=None)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        return {**s.persistence_env(), "CREATE_TABLE": "y"}

    return env


def postgres_env(url: str, schemas: list[str]) -> Callable[[str], dict[str, str]]:
    def env(tag: str) -> dict[str, str]:
        schema = f"bench_{tag}_{uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        return {**Settings(database_url=f"{url}?schema={schema}").persistence_env(),
                "CREATE_TABLE": "y"}

    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()

    rows = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as root:
            rows += measure("sqlite", sqlite_env(Path(root)), args.journeys, args.repeats)
    if args.backend in ("postgres", "both"):
        url = os.environ.get("ALTLAS_TEST_DATABASE_URL", DEFAULT_PG)
        schemas: list[str] = []
        try:
            rows += measure("postgres", postgres_env(url, schemas), args.journeys, args.repeats)
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")

    print(f"append benchmark: {args.journeys} journeys x 14 events, median of {args.repeats}")
    print(f"{'backend':<9} {'path':<44} {'events':>7} {'seconds':>8} {'events/s':>9} "
          f"{'vs raw (same txns)':>19}")
    for i, (backend, path, events, seconds) in enumerate(rows):
        baseline = rows[i - i % 3 + 1][3]
        print(f"{backend:<9} {path:<44} {events:>7} {seconds:>8.2f} {events / seconds:>9.0f} "
              f"{baseline / seconds:>18.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
