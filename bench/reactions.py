"""Reaction latency: an event recorded → the policy's new events recorded, per reaction.

Requests in words ("check disk and load on the altlas host": plan, start the run, run two
read-only steps, complete it) go through every kind of reaction, ten a second. An observer in
this process notes when each event becomes visible (woken at once, by the application's own
signal or by PostgreSQL's NOTIFY), so a reaction's latency is the time from its cause's commit
to its own. Three setups, each measured twice in the same run: with the wake-ups (this
release) and with the followers polling every 25 ms as before it (the baseline):

- embedded, a worker alone: SQLite, one process;
- embedded as `altlas serve` runs: the worker and the views' feed in one process;
- PostgreSQL, two `altlas worker` processes sharing the work.

    python bench/reactions.py [--requests N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from uuid import uuid4

import psycopg
from figures import record as record_figure

from altlas.bootstrap import System, bootstrap
from altlas.serving import start_inside
from altlas.settings import Settings

DEFAULT_PG = "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test"
REQUEST = "check disk and load on the altlas host"
SETTLE = float(os.environ.get("BENCH_SETTLE", "3"))


class Observer:
    """Notes the moment each event becomes visible to this process."""

    def __init__(self, system: System, poll: bool = False) -> None:
        self.system = system
        self.poll = poll  # nothing wakes it: look every millisecond
        self.seen: dict[str, float] = {}
        self.records: dict[str, tuple[str, str]] = {}  # event id → (type, causation id)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        position = self.system.history.last_position()
        signal = self.system.app.recorded
        while not self.stop.is_set():
            generation = signal.generation
            now = time.perf_counter()
            for record in self.system.history.read(after=position):
                position = record.position or position
                self.seen[record.id] = now
                self.records[record.id] = (record.type_name, record.causation_id)
            if self.poll:
                time.sleep(0.001)
            else:
                signal.wait(generation, 0.002)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)

    def latencies(self) -> dict[str, list[float]]:
        """Per reaction (cause → what it recorded), in ms; a reaction recording several
        events counts once."""
        out: dict[str, list[float]] = defaultdict(list)
        counted = set()
        for event_id, (kind, cause) in self.records.items():
            if cause not in self.records or cause in counted:
                continue
            counted.add(cause)
            name = f"{self.records[cause][0]} → {kind}"
            out[name].append((self.seen[event_id] - self.seen[cause]) * 1000)
        return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def wait_done(system: System, count: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while sum(1 for r in system.history.read() if r.type_name == "RunCompleted") < count:
        if time.monotonic() > deadline:
            raise SystemExit("the runs did not complete in time")
        time.sleep(0.05)


SPACING = 0.1  # seconds between requests


def ask(system: System, requests: int) -> None:
    for _ in range(requests):
        system.app.request_task(REQUEST, "deniz")
        time.sleep(SPACING)


def embedded(requests: int, wakeup: bool, feed: bool) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as root:
        system = bootstrap(Settings(data_dir=Path(root), database_url=None,
                                    views_database_url=None, segmenter="rules",
                                    wakeup=wakeup, poll_interval_ms=25))
        stop = threading.Event()
        threads = start_inside(system, stop, worker=True, feed=feed)
        if not wakeup:  # the views' feed polls too, as before this release
            system.app.recorded.notify = lambda: None  # type: ignore[method-assign]
        observer = Observer(system, poll=not wakeup)
        time.sleep(0.5)
        ask(system, requests)
        wait_done(system, requests)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        observer.close()
        system.close()
    return observer.latencies()


def postgres(requests: int, wakeup: bool, url: str) -> dict[str, list[float]]:
    schema = f"bench_react_{uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    store, views = f"{url}?schema={schema}", f"{url}?schema={schema}v"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    env.update(ALTLAS_DATABASE_URL=store, ALTLAS_VIEWS_DATABASE_URL=views,
               ALTLAS_SEGMENTER="rules", ALTLAS_WAKEUP="1" if wakeup else "0",
               ALTLAS_POLL_INTERVAL_MS="25", ALTLAS_LOG_LEVEL="WARNING")
    with tempfile.TemporaryDirectory() as root:
        env["ALTLAS_DATA_DIR"] = root
        system = bootstrap(Settings(database_url=store, views_database_url=views,
                                    segmenter="rules", data_dir=Path(root)))
        system.wake_on_other_processes()
        workers = [subprocess.Popen([sys.executable, "-m", "altlas", "worker"], env=env)
                   for _ in range(int(os.environ.get("BENCH_WORKERS", "2")))]
        try:
            deadline = time.monotonic() + 60
            while len(system.registry().live()) < int(os.environ.get("BENCH_WORKERS", "2")):
                if time.monotonic() > deadline:
                    raise SystemExit("the workers did not start")
                time.sleep(0.1)
            observer = Observer(system)
            time.sleep(SETTLE)  # the first worker shares its lanes out with the second
            ask(system, requests)
            wait_done(system, requests)
            observer.close()
        finally:
            for proc in workers:
                proc.terminate()
            for proc in workers:
                proc.wait(timeout=60)
            system.close()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
                conn.execute(f"DROP SCHEMA IF EXISTS {schema}v CASCADE")
    return observer.latencies()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    url = os.environ.get("ALTLAS_TEST_DATABASE_URL", DEFAULT_PG)
    results = []
    for setup, run in (("embedded, a worker alone",
                        lambda w: embedded(args.requests, w, feed=False)),
                       ("embedded, as in altlas serve",
                        lambda w: embedded(args.requests, w, feed=True)),
                       ("PostgreSQL, 2 worker processes",
                        lambda w: postgres(args.requests, w, url))):
        for wakeup in (True, False):
            results.append((setup, "woken" if wakeup else "poll 25 ms", run(wakeup)))
    print(f"reaction latency: cause committed -> its reaction committed, {args.requests} "
          "requests in words, ms")
    print(f"{'setup':<32} {'followers':<11} {'reaction':<36} {'n':>5} {'p50':>6} {'p99':>6}")
    for setup, how, found in results:
        every = [v for values in found.values() for v in values]
        for name, values in [*sorted(found.items()), ("every reaction", every)]:
            print(f"{setup:<32} {how:<11} {name:<36} {len(values):>5} "
                  f"{percentile(values, 0.5):>6.1f} {percentile(values, 0.99):>6.1f}")
        for q in (0.5, 0.99):
            record_figure(f"reaction hop, {setup}, {how}, p{q * 100:.0f}",
                          percentile(every, q), "ms", "lower")
    return 0


if __name__ == "__main__":
    sys.exit(main())
