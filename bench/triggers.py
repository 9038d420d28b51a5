"""How precisely triggers fire, and whether any firing runs twice or never: 1,000 interval
schedules on one PostgreSQL store, fired by worker processes that look every second (as the
worker loop does), over a soak in which a worker is killed with SIGKILL at seeded moments and
started again. The baseline, measured in the same run on a fresh store: one worker, no kills.

Precision is scheduled time → TriggerFired's own time (when the worker decided) and → the
event's recorded time. A duplicate is a second TriggerFired for one scheduled time; a miss is
a scheduled time more than 30 s before the end with neither TriggerFired nor TriggerMissed.

    python bench/triggers.py [--schedules 1000] [--every 60] [--soak 150] [--kills 3]
    python bench/triggers.py --webhooks 200

Needs the PostgreSQL of scripts/services.sh (ALTLAS_TEST_DATABASE_URL). The workers only fire
triggers (the runs they request are recorded, not run), so what is timed is the firing.

``--webhooks N``: webhook → run started instead. N deliveries to POST /triggers/NAME, one at a
time, with a worker thread as in `altlas serve` (polling every 50 ms); the time from sending
each to its RunStarted as recorded. The baseline, in the same run on the same store: N POST
/tasks of a request the rules plan, to their RunStarted (planning included, as a person's
request has it). Steps run on a fake executor: what is timed is the path to the run's start.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import yaml
from fastapi.testclient import TestClient
from pydantic import SecretStr

from adapters.policy_file import default_policy_text
from altlas.bootstrap import bootstrap
from altlas.settings import Settings
from application.core import run_id_of
from domain.plan import STEP_KINDS
from testkit.fakes.ports import FakeExecutor
from testkit.helpers import TOKENS

URL = os.environ.get("ALTLAS_TEST_DATABASE_URL",
                     "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test")
MARGIN = timedelta(seconds=30)
PLAN = {"alt": 1, "steps": [{"id": "up", "kind": "ssh", "action": "uptime",
                             "target": "{param:host}"}]}


def settings(schema: str, policy: Path) -> Settings:
    return Settings(database_url=f"{URL}?schema={schema}",
                    views_database_url=f"{URL}?schema={schema}v", policy_file=policy,
                    segmenter="rules")


def worker(schema: str, policy: Path) -> None:
    """A worker process that only fires triggers, every second like the worker loop."""
    system = bootstrap(settings(schema, policy))
    looking = system.worker()
    while True:
        looking.fire_triggers()
        time.sleep(1.0)


def start(schema: str, policy: Path) -> subprocess.Popen[bytes]:
    with (policy.parent / f"{schema}.log").open("ab") as log:
        return subprocess.Popen([sys.executable, __file__, "--worker", schema, str(policy)],
                                stdout=log, stderr=log)


def one_run(schedules: int, every: int, soak: float, workers: int, kills: int, seed: int,
            home: Path) -> dict[str, float]:
    schema = f"benchtrig{uuid4().hex[:8]}"
    policy = home / f"{schema}.yaml"
    data = yaml.safe_load(default_policy_text())
    data["triggers"] = {"min_interval": f"{every}s"}
    policy.write_text(yaml.safe_dump(data))
    system = bootstrap(settings(schema, policy))
    system.app.publish_runbook("uptime", PLAN, {"host": {"kind": "host"}}, "alice")
    for i in range(schedules):
        system.app.create_trigger(f"up-{i}", "uptime", {"host": "web-1"}, "alice",
                                  every_seconds=every, late="run_once", overlap="allow")
    began = system.app.clock()
    system.close()  # the workers feed the views (one at a time holds them), as in production
    procs = [start(schema, policy) for _ in range(workers)]
    rng = random.Random(seed)
    moments = sorted(rng.uniform(5, soak - 10) for _ in range(kills)) if workers > 1 else []
    t0 = time.monotonic()
    for moment in moments:
        time.sleep(max(0.0, moment - (time.monotonic() - t0)))
        victim = rng.randrange(len(procs))
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait(timeout=10)
        time.sleep(2.0)
        procs[victim] = start(schema, policy)
    time.sleep(max(0.0, soak - (time.monotonic() - t0)))
    for p in procs:
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
    system = bootstrap(settings(schema, policy))
    ended = system.app.clock()
    fired: Counter[tuple[str, str]] = Counter()
    decided, recorded, missed = [], [], set()
    created: dict[str, datetime] = {}
    for r in system.history.read():
        if r.type_name == "TriggerCreated":
            created[str(r.aggregate_id)] = datetime.fromisoformat(r.data["next_at"])
        elif r.type_name == "TriggerFired":
            scheduled = datetime.fromisoformat(r.data["scheduled_at"])
            fired[(str(r.aggregate_id), r.data["scheduled_at"])] += 1
            decided.append((datetime.fromisoformat(r.data["fired_at"]) - scheduled)
                           .total_seconds())
            recorded.append((r.timestamp - scheduled).total_seconds())
        elif r.type_name == "TriggerMissed":
            missed.update((str(r.aggregate_id), s) for s in r.data["scheduled"])
    system.close()
    expected = set()
    for ident, first in created.items():
        moment = first
        while moment <= ended - MARGIN:  # a firing due just before the end may be going
            expected.add((ident, moment.isoformat()))
            moment += timedelta(seconds=every)
    lost = expected - set(fired) - missed
    return {"firings": float(sum(fired.values())), "expected": float(len(expected)),
            "p50": _q(decided, 0.5), "p99": _q(decided, 0.99),
            "rec_p50": _q(recorded, 0.5), "rec_p99": _q(recorded, 0.99),
            "dups": float(sum(n - 1 for n in fired.values())), "misses": float(len(lost)),
            "kills": float(len(moments)), "soak": (ended - began).total_seconds()}


HOOK_TOKEN = "bench-hook-token"
HOOK_SCHEMA = {"type": "object", "required": ["host"], "properties": {"host": {"type": "string"}}}


def webhook_runs(deliveries: int, home: Path) -> dict[str, list[float]]:
    """Seconds from sending to RunStarted recorded, for webhooks and for POST /tasks."""
    schema = f"benchhook{uuid4().hex[:8]}"
    policy = home / f"{schema}.yaml"
    data = yaml.safe_load(default_policy_text())
    data.setdefault("api_tokens", {})[hashlib.sha256(TOKENS["erin"].encode()).hexdigest()] = (
        "erin")
    data["triggers"] = {"webhooks": {"up": {
        "bearer_sha256": hashlib.sha256(HOOK_TOKEN.encode()).hexdigest()}}}
    policy.write_text(yaml.safe_dump(data))
    fake = FakeExecutor()
    system = bootstrap(Settings(database_url=SecretStr(f"{URL}?schema={schema}"),
                                views_database_url=SecretStr(f"{URL}?schema={schema}v"),
                                policy_file=policy, segmenter="rules", poll_interval_ms=50),
                       executors=dict.fromkeys(STEP_KINDS, fake))
    system.app.publish_runbook("uptime", PLAN, {"host": {"kind": "host"}}, "alice")
    system.app.create_webhook_trigger("up", "uptime", "alice", HOOK_SCHEMA, {"host": "host"})
    stop = threading.Event()
    thread = threading.Thread(target=system.worker().run, args=(stop,), daemon=True)
    thread.start()
    sent: dict[str, list[tuple[str, datetime]]] = {"webhook": [], "POST /tasks": []}
    try:
        with TestClient(system.api()) as client:
            for i in range(deliveries):
                at = datetime.now(UTC)
                answer = client.post("/triggers/up", json={"host": "web-1"}, headers={
                    "Authorization": f"Bearer {HOOK_TOKEN}", "X-Delivery-Id": f"d-{i}"})
                assert answer.status_code in (200, 201, 202), answer.text
                sent["webhook"].append((answer.json()["task_id"], at))
                at = datetime.now(UTC)
                answer = client.post("/tasks", json={"request": "check uptime on web-1"},
                                     headers={"Authorization": f"Bearer {TOKENS['erin']}"})
                assert answer.status_code in (200, 201, 202), answer.text
                sent["POST /tasks"].append((answer.json()["id"], at))
                time.sleep(0.2)  # one at a time: what is timed is one request's path
            time.sleep(3.0)
        started = {r.aggregate_id: r.timestamp for r in system.history.read()
                   if r.type_name == "RunStarted"}
    finally:
        stop.set()
        thread.join(timeout=30)
        system.close()
    return {path: [(started[run_id_of(UUID(task))] - at).total_seconds()
                   for task, at in pairs if run_id_of(UUID(task)) in started]
            for path, pairs in sent.items()}


def _q(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100)[max(0, min(98, round(q * 100) - 1))]


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1000)
    parser.add_argument("--every", type=int, default=60, help="each schedule's interval (s)")
    parser.add_argument("--soak", type=float, default=150.0, help="seconds per run")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--webhooks", type=int, default=0,
                        help="measure webhook → run started over this many deliveries instead")
    args = parser.parse_args()
    if args.webhooks:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            timed = webhook_runs(args.webhooks, Path(tmp))
        print(f"{args.webhooks} requests each way, one at a time, PostgreSQL, a worker thread "
              "polling every 50 ms")
        print("| path | runs started | → RunStarted p50 (s) | p99 (s) |")
        print("|---|---|---|---|")
        for path, seconds in timed.items():
            print(f"| {path} | {len(seconds)} / {args.webhooks} | {_q(seconds, 0.5):.3f} | "
                  f"{_q(seconds, 0.99):.3f} |")
        return
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        rows = [("baseline: 1 worker, no kills",
                 one_run(args.schedules, args.every, args.soak, 1, 0, args.seed, Path(tmp))),
                (f"2 workers, {args.kills} seeded SIGKILLs",
                 one_run(args.schedules, args.every, args.soak, 2, args.kills, args.seed,
                         Path(tmp)))]
    print(f"{args.schedules} schedules every {args.every} s, {args.soak:.0f} s each run, "
          f"PostgreSQL, workers looking every 1 s")
    print("| run | firings / expected | scheduled → decided p50 / p99 (s) | → recorded p50 / "
          "p99 (s) | duplicates | misses |")
    print("|---|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['firings']:.0f} / {r['expected']:.0f} | {r['p50']:.2f} / "
              f"{r['p99']:.2f} | {r['rec_p50']:.2f} / {r['rec_p99']:.2f} | {r['dups']:.0f} | "
              f"{r['misses']:.0f} |")


if __name__ == "__main__":
    main()
