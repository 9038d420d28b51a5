"""Per-person keys: what pseudonyms and sealing cost a command, and what forgetting costs.

1. Append: the journey of bench/append.py on the altlas application as it runs (people named
   by pseudonym, the request sealed with the requester's key, every view a command returns
   revealed) vs the same application naming people in clear and sealing nothing; same run,
   same backend, alternating.
2. Forget, on a store of N events (default 100,000): `privacy forget` (the request and its
   approval), the granting vote, and the reaction that destroys the key and records
   PersonForgotten. Beside it, on the same store: the data-access export (reads every event)
   and a timeline page of 1,000 rows revealed vs as the views keep it.

    python bench/privacy.py [--journeys N] [--repeats N] [--events N]
                            [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import psycopg
import yaml
from journeys import EVENTS_PER_JOURNEY, journey, person_keys, timed

from adapters.policy_file import default_policy_text, load_policy
from altlas.bootstrap import bootstrap
from altlas.settings import Settings
from application.app import AltlasApplication
from application.privacy import Privacy
from application.reactions import LANES
from application.reactor import tracking_name
from domain.base import Seal, as_written
from projections.queries import SqlReadModels

DEFAULT_PG = "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test"
T = TypeVar("T")


class InClear(Privacy):
    """The application as it was before per-person keys: names and text as written."""

    def pseudonym(self, name: str) -> str:
        return name

    def seal(self, writer: str, text: str) -> str:
        return text

    def sealer(self, writer: str) -> Seal:
        return as_written

    def reveal(self, value: T) -> T:
        return value


def append(env_for: Callable[[str], dict[str, str]], journeys: int, repeats: int
           ) -> tuple[float, float]:
    """Median seconds for ``journeys`` journeys: with per-person keys, and in clear."""
    policy = load_policy(None)
    times: dict[bool, list[float]] = {True: [], False: []}
    for r in range(repeats):
        for keyed in (True, False):
            env = env_for(f"{'k' if keyed else 'c'}{r}")
            app = AltlasApplication(policy, env=env, keys=person_keys(env))
            if not keyed:
                app.privacy = InClear(app.privacy.keys)
            journey(app, -1)  # warm up connections and caches
            times[keyed].append(timed(lambda app=app: [journey(app, i)  # type: ignore[misc]
                                                        for i in range(journeys)]))
            app.close()
    return statistics.median(times[True]), statistics.median(times[False])


def forget(settings: Settings, events: int) -> dict[str, float]:
    """Seconds for each part of forgetting one person on a store of ``events`` events."""
    system = bootstrap(settings)
    try:
        for i in range(-(-events // EVENTS_PER_JOURNEY)):
            journey(system.app, i)
        end = system.history.last_position()
        for lane in LANES:  # the journeys recorded their steps themselves: nothing to react to
            system.app.track(tracking_name(lane), end)
        system.store_feed().catch_up()  # the worker's housekeeping reads the views
        uc = system.use_cases(catch_up=False)
        worker = system.worker()
        out: dict[str, float] = {"events": float(end)}
        asked: list[Any] = []
        out["privacy forget (request + approval)"] = timed(
            lambda: asked.append(uc.forget("erin", "alice", "bench")))
        out["the granting vote"] = timed(lambda: uc.vote("bob", asked[0].id))
        out["the reaction: key destroyed, PersonForgotten"] = timed(worker.until_quiet)
        out["privacy export (reads every event)"] = timed(
            lambda: list(uc.personal_data("erin", "bob")))
        system.store_feed().catch_up()
        raw = SqlReadModels(system.views)
        out["timeline page of 1,000, as the views keep it"] = timed(
            lambda: raw.timeline(limit=1000))
        out["timeline page of 1,000, revealed"] = timed(
            lambda: uc.timeline(None, limit=1000))
        return out
    finally:
        system.close()


@contextmanager
def backends(which: str, root: Path) -> Iterator[list[tuple[str, Callable[[str], Any]]]]:
    """(name, settings for a tag) per backend; PostgreSQL schemas are dropped afterwards."""
    url = os.environ.get("ALTLAS_TEST_DATABASE_URL", DEFAULT_PG)
    schemas: list[str] = []
    policy = root / "policy.yaml"
    data = yaml.safe_load(default_policy_text())
    data["people"]["erin"]["roles"] = ["requester", "admin"]
    policy.write_text(yaml.safe_dump(data))

    def sqlite(tag: str) -> Settings:
        return Settings(data_dir=root / tag, database_url=None, views_database_url=None,
                        policy_file=policy, segmenter="rules")

    def postgres(tag: str) -> Settings:
        name = f"bench_{tag}_{uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
            conn.execute(f"CREATE SCHEMA {name}v")
        schemas.extend([name, f"{name}v"])
        return Settings(data_dir=root / tag, database_url=f"{url}?schema={name}",
                        views_database_url=f"{url}?schema={name}v", policy_file=policy,
                        segmenter="rules")

    chosen = [(n, f) for n, f in (("sqlite", sqlite), ("postgres", postgres))
              if which in (n, "both")]
    try:
        yield chosen
    finally:
        if schemas:
            with psycopg.connect(url, autocommit=True) as conn:
                for name in schemas:
                    conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, backends(args.backend, Path(tmp)) as chosen:
        print(f"append: {args.journeys} journeys x 14 events, median of {args.repeats}")
        print(f"{'backend':<9} {'path':<44} {'seconds':>8} {'events/s':>9} {'vs in clear':>12}")
        for name, settings in chosen:
            def env_for(tag: str, settings: Callable[[str], Any] = settings) -> dict[str, str]:
                s = settings(tag)
                s.data_dir.mkdir(parents=True, exist_ok=True)
                return {**s.persistence_env(), "CREATE_TABLE": "y"}

            keyed, clear = append(env_for, args.journeys, args.repeats)
            events = args.journeys * EVENTS_PER_JOURNEY
            for path, seconds in (("per-person keys (pseudonyms, sealed text)", keyed),
                                  ("names and text in clear", clear)):
                print(f"{name:<9} {path:<44} {seconds:>8.2f} {events / seconds:>9.0f} "
                      f"{clear / seconds:>12.0%}")
        for name, settings in chosen:
            parts = forget(settings("forget"), args.events)
            print(f"\nforget on {name}, a store of {int(parts.pop('events')):,} events")
            for part, seconds in parts.items():
                print(f"  {part:<48} {seconds * 1000:>10.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
