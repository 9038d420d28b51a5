"""Alerts through the whole path with correlation keeping up: Alertmanager's webhook → recorded
→ correlated → the incidents view, from the first post until the view holds every occurrence
in an incident; against recording alone through the same webhook in the same run (baseline).

The storm is a frozen one written elsewhere (bench/storms/; direct_push seed 101, 120 faults
a fault every 4 minutes by default: re-sends every 1-2 minutes, duplicates, resolved notices),
its deliveries posted in order over real sockets to uvicorn as fast as they are answered. On
the embedded default (SQLite) a worker runs in the serving process, as `altlas serve` does; on
PostgreSQL (--database-url) `--workers` processes of `altlas worker` correlate beside it.

    python bench/alert_flow.py [--database-url URL] [--workers 2] [--family F --seed N ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from altlas.bootstrap import System
from bench.incident_storms import key_of
from bench.storm_server import open_system, post, storm_policy
from bench.storms import Storm, frozen, load
from testkit.fakes.asgi import UvicornThread


def settled(system: System, occurrences: int, timeout: float = 900) -> float:
    """When the incidents view holds every occurrence (merged incidents' alerts counted in
    the incidents they went to)."""
    uc = system.use_cases()
    deadline = time.monotonic() + timeout
    while True:
        system.store_feed().catch_up()
        rows = uc.incidents(None, status=None, limit=1_000_000)
        if len({a["alert_id"] for r in rows for a in r["alerts"]}) >= occurrences:
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise SystemExit("the incidents did not settle in time")
        time.sleep(0.05)


def workers(system: System, root: Path, url: str, schema: str, n: int
            ) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    env.update(ALTLAS_DATABASE_URL=f"{url}?schema={schema}",
               ALTLAS_VIEWS_DATABASE_URL=f"{url}?schema={schema}v", ALTLAS_SEGMENTER="rules",
               ALTLAS_DATA_DIR=str(root), ALTLAS_POLICY_FILE=str(root / "policy.yaml"),
               ALTLAS_LOG_LEVEL="WARNING", ALTLAS_REGISTER_PACKAGED="0")
    started = [subprocess.Popen([sys.executable, "-m", "altlas", "worker"], env=env)
               for _ in range(n)]
    deadline = time.monotonic() + 60
    while len(system.registry().live()) < n:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not start")
        time.sleep(0.1)
    return started


def run(storm: Storm, database_url: str | None, n_workers: int, correlate: bool
        ) -> tuple[float, int]:
    """Seconds from the first post until recorded (``correlate`` False) or until the view
    holds every occurrence; and the occurrences."""
    occurrences = len({key_of(a["fingerprint"], a["startsAt"])
                       for d in storm["deliveries"] for a in d["payload"]["alerts"]})
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "policy.yaml").write_text(storm_policy(storm))
        system = open_system(root, storm, database_url)
        procs: list[subprocess.Popen[bytes]] = []
        stop = threading.Event()
        try:
            if correlate and database_url:
                schema = str(system.settings.database_url.get_secret_value()  # type: ignore[union-attr]
                             ).split("schema=")[1]
                procs = workers(system, root, database_url, schema, n_workers)
            elif correlate:
                threading.Thread(target=system.worker().run, args=(stop,), daemon=True).start()
            with UvicornThread(system.api()) as server:
                started = time.perf_counter()
                post(server.url, storm)
                done = settled(system, occurrences) if correlate else time.perf_counter()
            return done - started, occurrences
        finally:
            stop.set()
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(60)
            system.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="direct_push")
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--faults", type=int, default=120)
    parser.add_argument("--every", type=float, default=4)
    parser.add_argument("--database-url", help="PostgreSQL (default: the embedded SQLite)")
    parser.add_argument("--workers", type=int, default=2, help="altlas worker processes (PG)")
    args = parser.parse_args()
    [entry] = [e for e in frozen("test") + frozen("dev") if (
        e["family"], e["seed"], e["faults"], e["every"]) == (
        args.family, args.seed, args.faults, args.every)]
    storm = load(entry)
    sent = sum(len(d["payload"]["alerts"]) for d in storm["deliveries"])
    store = f"PostgreSQL, {args.workers} worker processes" if args.database_url else \
        "SQLite, a worker in the serving process"
    print(f"alert flow: {args.family} seed {args.seed} ({args.faults} faults, one every "
          f"{args.every:g} min): {len(storm['deliveries'])} webhook posts carrying {sent:,} "
          f"alerts; {store}")
    print(f"{'path':<52} {'seconds':>8} {'alerts/s':>9} {'occurrences/s':>14} {'vs':>6}")
    base, occurrences = run(storm, args.database_url, args.workers, correlate=False)
    whole, _ = run(storm, args.database_url, args.workers, correlate=True)
    for label, seconds in (("recorded through the webhook (baseline)", base),
                           ("recorded, correlated, in the incidents view", whole)):
        print(f"{label:<52} {seconds:>8.2f} {sent / seconds:>9,.0f} "
              f"{occurrences / seconds:>14,.0f} {base / seconds:>5.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
