"""Events appended per second through the altlas application vs the raw eventsourcing recorder.

Each journey is the realistic mix of one gated task: request, segmentation, run start with
its approval, two step results, two votes (the second grants), the gated step, completion —
10 commands, 14 events. Every command loads its aggregate, checks its rules, seals the hash
chain and saves; the baseline inserts exactly the same stored events, in the same
transactions, straight into a fresh recorder of the same kind (and once more one event per
transaction). The same journeys run once more with the stored events encrypted at rest
(ALTLAS_CIPHER_KEY: the library's AES-GCM cipher). Same machine, same run: compare the ratios,
not the absolute numbers.

    python bench/append.py [--journeys N] [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import timeit
from collections.abc import Callable, Sequence
from pathlib import Path
from uuid import uuid4

import psycopg
from eventsourcing.cryptography import AESCipher
from eventsourcing.persistence import Cipher, InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment, resolve_topic
from figures import record
from journeys import journey, person_keys, timed

from adapters.policy_file import load_policy
from altlas.settings import Settings
from application.app import AltlasApplication
from domain.policy import Policy

DEFAULT_PG = "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test"
KEY = AESCipher.create_key(32)  # as `altlas key new` makes one

EnvFor = Callable[[str, str | None], dict[str, str]]  # (tag, cipher key) -> the library's env
Batches = list[Sequence[StoredEvent]]
Row = tuple[str, str, int, float, float]  # backend, path, events, seconds, stored bytes/event
PATHS = ("altlas application (10 commands/journey)", "raw recorder, same transactions",
         "raw recorder, one event per transaction", "altlas application, encrypted at rest",
         "  the same, zlib before the cipher (not used)")
ZLIB = {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"}


def ours(policy: Policy, env: dict[str, str], journeys: int) -> tuple[float, Batches]:
    """Our application: seconds for the journeys, and the stored events of each transaction."""
    app = AltlasApplication(policy, env=env, keys=person_keys(env))
    batches: Batches = []
    insert = app.recorder.insert_events

    def recording(stored: Sequence[StoredEvent], **kw: object) -> object:
        batches.append(list(stored))
        return insert(stored, **kw)

    app.recorder.insert_events = recording  # type: ignore[method-assign]
    journey(app, -1)  # warm up connections and caches
    batches.clear()
    seconds = timed(lambda: [journey(app, i) for i in range(journeys)])
    app.close()
    return seconds, batches


def one_repeat(policy: Policy, env_for: EnvFor, tag: str, journeys: int
               ) -> list[tuple[float, Batches]]:
    """Our application, the raw recorder fed the exact stored events it wrote, and our
    application again with the events encrypted at rest, without and with the library's
    compressor before the cipher: one (seconds, batches) per path."""
    clear, batches = ours(policy, env_for(f"app{tag}", None), journeys)
    same = InfrastructureFactory.construct(env_for(f"raw{tag}", None)).application_recorder()
    raw_same = timed(lambda: [same.insert_events(b) for b in batches])
    single = InfrastructureFactory.construct(env_for(f"one{tag}", None)).application_recorder()
    raw_single = timed(lambda: [single.insert_events([e]) for b in batches for e in b])
    encrypted = ours(policy, env_for(f"enc{tag}", KEY), journeys)
    compressed = ours(policy, {**env_for(f"zip{tag}", KEY), **ZLIB}, journeys)
    return [(clear, batches), (raw_same, batches), (raw_single, batches), encrypted,
            compressed]


def measure(name: str, env_for: EnvFor, journeys: int, repeats: int) -> list[Row]:
    policy = load_policy(None)
    runs = [one_repeat(policy, env_for, str(r), journeys) for r in range(repeats)]
    rows: list[Row] = []
    for i, path in enumerate(PATHS):
        stored = [e for batch in runs[0][i][1] for e in batch]
        size = sum(len(e.state) for e in stored) / len(stored)
        rows.append((name, path, len(stored), statistics.median(r[i][0] for r in runs), size))
    return rows


def cipher_alone(policy: Policy) -> tuple[float, float]:
    """The cipher on its own, without a database and so without its noise: microseconds per
    event to encrypt and to decrypt, over the events of 100 journeys."""
    _, batches = ours(policy, {"PERSISTENCE_MODULE": "eventsourcing.popo"}, 100)
    states = [e.state for batch in batches for e in batch]
    env = Settings(database_url=None, cipher_key=KEY).persistence_env()
    cipher: Cipher = resolve_topic(env["CIPHER_TOPIC"])(Environment(env=env))
    sealed = [cipher.encrypt(state) for state in states]
    encrypt = min(timeit.repeat(lambda: [cipher.encrypt(s) for s in states], number=1, repeat=5))
    decrypt = min(timeit.repeat(lambda: [cipher.decrypt(s) for s in sealed], number=1, repeat=5))
    return encrypt / len(states) * 1e6, decrypt / len(states) * 1e6


def sqlite_env(root: Path) -> EnvFor:
    def env(tag: str, key: str | None) -> dict[str, str]:
        s = Settings(data_dir=root / tag, database_url=None, cipher_key=key)
        s.data_dir.mkdir(parents=True, exist_ok=True)
        return {**s.persistence_env(), "CREATE_TABLE": "y"}

    return env


def postgres_env(url: str, schemas: list[str]) -> EnvFor:
    def env(tag: str, key: str | None) -> dict[str, str]:
        schema = f"bench_{tag}_{uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        settings = Settings(database_url=f"{url}?schema={schema}", cipher_key=key)
        return {**settings.persistence_env(), "CREATE_TABLE": "y"}

    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()

    tables: list[list[Row]] = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as root:
            tables.append(measure("sqlite", sqlite_env(Path(root)), args.journeys, args.repeats))
    if args.backend in ("postgres", "both"):
        url = os.environ.get("ALTLAS_TEST_DATABASE_URL", DEFAULT_PG)
        schemas: list[str] = []
        try:
            tables.append(measure("postgres", postgres_env(url, schemas), args.journeys,
                                  args.repeats))
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")

    print(f"append benchmark: {args.journeys} journeys x 14 events, median of {args.repeats}")
    print(f"{'backend':<9} {'path':<44} {'events':>7} {'seconds':>8} {'events/s':>9} "
          f"{'vs raw (same txns)':>19} {'vs in clear':>12} {'bytes/event':>12}")
    for rows in tables:
        clear, raw = rows[0][3], rows[1][3]
        for backend, path, events, seconds, size in rows:
            versus = "" if path.startswith("raw") else f"{clear / seconds:.0%}"
            print(f"{backend:<9} {path:<44} {events:>7} {seconds:>8.2f} "
                  f"{events / seconds:>9.0f} {raw / seconds:>18.0%} {versus:>12} {size:>12.0f}")
        record(f"append, application vs raw recorder, {rows[0][0]}", raw / clear, "ratio",
               "higher")
    encrypt, decrypt = cipher_alone(load_policy(None))
    print(f"the cipher alone, without a database: {encrypt:.1f} µs to encrypt an event, "
          f"{decrypt:.1f} µs to decrypt one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
