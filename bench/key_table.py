"""The people's keys sealed with the installation key vs in clear: what a lookup costs (by name,
and the pseudonyms of a page revealed at once), and what sealing an earlier release's table in
place costs at start-up; same run, same backend, alternating.

    python bench/key_table.py [--people N] [--lookups N] [--backend sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import psycopg
from eventsourcing.cryptography import AESCipher
from journeys import timed

from adapters.person_key_seal import KeyTableSeal
from adapters.person_keys import SqlPersonKeys, metadata
from application.ports import PersonKey
from projections.store import create_tables, open_engine

DEFAULT_PG = "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test"
PAGE = 50  # pseudonyms revealed at once, as a page of tasks names them


def table(url: str, seal: KeyTableSeal | None, people: int) -> SqlPersonKeys:
    keys = SqlPersonKeys(open_engine(url), seal)
    create_tables(keys.engine, metadata)
    for i in range(people):
        keys.enrol(PersonKey(f"p-{secrets.token_hex(6)}", f"person-{i}", os.urandom(32)))
    return keys


def lookups_ms(keys: SqlPersonKeys, people: int, lookups: int) -> tuple[float, float]:
    """Milliseconds for one lookup by name, and for one page's pseudonyms at once."""
    names = [f"person-{i % people}" for i in range(lookups)]
    page = [k.pseudonym for i in range(PAGE) if (k := keys.named(f"person-{i}")) is not None]
    pages = max(lookups // 10, 1)
    return (timed(lambda: [keys.named(x) for x in names]) / lookups * 1000,
            timed(lambda: [keys.known(page) for _ in range(pages)]) / pages * 1000)


def measure(url_for: Callable[[], str], people: int, lookups: int
            ) -> dict[str, tuple[float, float]]:
    """(sealed, in clear) milliseconds per operation, medians of three rounds."""
    seal = KeyTableSeal.of(AESCipher.create_key(32))
    sealed: list[tuple[float, float, float]] = []
    clear: list[tuple[float, float, float]] = []
    for _ in range(3):
        keys = table(url_for(), None, people)  # then sealed in place, as at start-up
        clear.append((*lookups_ms(keys, people, lookups), float("nan")))
        in_place = timed(SqlPersonKeys(keys.engine, seal).seal_rows) * 1000
        keys.engine.dispose()
        keys = table(url_for(), seal, people)
        sealed.append((*lookups_ms(keys, people, lookups), in_place))
        keys.engine.dispose()
    names = ("named (a lookup by name)", f"known ({PAGE} pseudonyms at once)",
             f"seal_rows at start-up ({people} rows in clear), whole")
    return {name: (statistics.median(s[i] for s in sealed), statistics.median(c[i] for c in clear))
            for i, name in enumerate(names)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="altlas-bench-keys-"))
    pg = os.environ.get("ALTLAS_TEST_DATABASE_URL", DEFAULT_PG)
    schemas: list[str] = []

    def sqlite() -> str:
        return f"sqlite:///{root / f'{uuid4().hex}.sqlite3'}"

    def postgres() -> str:
        name = f"bench_keys_{uuid4().hex[:8]}"
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        schemas.append(name)
        return f"{pg}?schema={name}"

    print("| backend | operation | sealed (ms) | in clear (ms) |\n|---|---|---:|---:|")
    try:
        for name, url_for in (("sqlite", sqlite), ("postgres", postgres)):
            if args.backend not in (name, "both"):
                continue
            for what, (sealed, clear) in measure(url_for, args.people, args.lookups).items():
                shown = "—" if math.isnan(clear) else f"{clear:.3f}"
                print(f"| {name} | {what} | {sealed:.3f} | {shown} |")
                sys.stdout.flush()
    finally:
        if schemas:
            with psycopg.connect(pg, autocommit=True) as conn:
                for s in schemas:
                    conn.execute(f"DROP SCHEMA {s} CASCADE")


if __name__ == "__main__":
    main()
