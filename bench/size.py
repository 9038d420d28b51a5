"""What a large history costs: verify, verify --kafka, rebuild, export and HTTP reads at
100k (and, with --events, 1M) events, each command in a process of its own (time and peak
memory from the kernel: the largest of the command and its worker processes), against the
baseline of a raw read of the same store in the same run (psycopg streaming every row of the
events table, nothing decoded). The rebuild runs twice: one process, then two (one a core).

The events are real journeys (bench/journeys.py) loaded into a PostgreSQL store, then
published by the relay to a fresh topic; the views are built by `projections rebuild` before
the HTTP reads.

    python bench/size.py [--events 100000] [--reads 400]

Needs the services of scripts/services.sh (PostgreSQL and Kafka).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
from event_flow import PG, SCHEMAS, history, load, percentile, pg_system
from served import served

from altlas.bootstrap import System

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' policy with tokens
from testkit.helpers import TOKENS, token_policy

# Runs one altlas command (or the raw read) in this fresh process and prints its time and
# peak memory as the last line.
CHILD = """
import json, sys, time, contextlib, io
started = time.perf_counter()
if sys.argv[1] == "raw":
    import psycopg
    rows = 0
    with psycopg.connect(sys.argv[2]) as conn, conn.cursor(name="raw") as cur:
        cur.itersize = 2000
        cur.execute(f"SELECT * FROM {sys.argv[3]}.altlas_events ORDER BY notification_id")
        for _ in cur:
            rows += 1
    code = 0
else:
    from altlas.cli import main
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(sys.argv[1:])
# VmHWM, not ru_maxrss: that one keeps the forking parent's peak across exec; the
# largest of its own worker processes (a parallel rebuild's) from the children's ru_maxrss
import resource
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": code, "seconds": time.perf_counter() - started,
                  "peak_mb": max(peak, workers) / 1024}))
"""


def env_of(system: System, home: Path) -> dict[str, str]:
    s = system.settings
    assert s.database_url is not None and s.views_database_url is not None
    return {**os.environ, "ALTLAS_DATA_DIR": str(home), "ALTLAS_LOG_LEVEL": "WARNING",
            "ALTLAS_DATABASE_URL": s.database_url.get_secret_value(),
            "ALTLAS_VIEWS_DATABASE_URL": s.views_database_url.get_secret_value(),
            "ALTLAS_KAFKA_BOOTSTRAP_SERVERS": str(s.kafka_bootstrap_servers),
            "ALTLAS_KAFKA_TOPIC_PREFIX": s.kafka_topic_prefix,
            "ALTLAS_POLICY_FILE": str(home / "policy.yaml")}


def measure(env: dict[str, str], *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, *args], env=env, check=True,
                         capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise RuntimeError(f"{' '.join(args)} exited {result['code']}: {out.stderr[-500:]}")
    return result


def http_reads(env: dict[str, str], reads: int, events: int) -> tuple[list[float], float]:
    """Latencies of GETs of the views and the event log, and the server's peak memory."""
    with served(env) as (base, proc):
        rng = random.Random(1)
        paths = ["/tasks?limit=50", "/runs?limit=50", "/timeline?limit=100",
                 "/approvals"]
        took = []
        for i in range(reads):
            path = (f"/events?after={rng.randrange(events)}&limit=100" if i % 5 == 4
                    else paths[i % 4])
            request = urllib.request.Request(base + path, headers={
                "Authorization": f"Bearer {TOKENS['alice']}"})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as reply:
                reply.read()
            took.append((time.perf_counter() - started) * 1000)
        status = Path(f"/proc/{proc.pid}/status").read_text()
        peak = next(int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("VmHWM")) / 1024
        return took, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=400)
    args = parser.parse_args()
    try:
        started = time.perf_counter()
        stored = history(args.events)
        print(f"made {len(stored)} events from real journeys in "
              f"{time.perf_counter() - started:.0f}s", file=sys.stderr)
        system = pg_system("size")
        load(system, stored)
        started = time.perf_counter()
        published = system.relay().drain()
        relay_s = time.perf_counter() - started
        schema = str(system.settings.database_url.get_secret_value()  # type: ignore[union-attr]
                     ).rsplit("schema=", 1)[1]
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            (home / "policy.yaml").write_text(token_policy())
            env = env_of(system, home)
            raw = measure(env, "raw", PG, schema)
            rows = [("raw read of the store (baseline)", raw)]
            for label, command in (
                    ("audit verify (the store)", ["audit", "verify"]),
                    ("audit verify --kafka", ["audit", "verify", "--kafka"]),
                    ("projections rebuild, 1 process", ["projections", "rebuild",
                                                        "--workers", "1"]),
                    ("projections rebuild, 2 processes", ["projections", "rebuild",
                                                          "--workers", "2"]),
                    ("audit export (JSON lines)", ["audit", "export", "--output",
                                                   os.devnull])):
                rows.append((label, measure(env, *command)))
            took, serve_peak = http_reads(env, args.reads, len(stored))
        system.close()
        print(f"{len(stored)} events ({published} published by the relay in {relay_s:.0f} s, "
              f"{published / relay_s:.0f} ev/s)")
        print(f"{'operation':<36} {'seconds':>8} {'ev/s':>8} {'peak MB':>8} {'× raw':>6}")
        for label, r in rows:
            print(f"{label:<36} {r['seconds']:>8.1f} {len(stored) / r['seconds']:>8.0f} "
                  f"{r['peak_mb']:>8.0f} {r['seconds'] / raw['seconds']:>6.1f}")
        print(f"HTTP reads ({len(took)}: tasks, runs, timeline, approvals, events): "
              f"p50 {statistics.median(took):.1f} ms, p99 {percentile(took, 0.99):.1f} ms, "
              f"server peak {serve_peak:.0f} MB")
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            for name in SCHEMAS:
                conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
