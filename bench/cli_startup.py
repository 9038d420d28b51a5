"""How long the command line takes before it answers: `altlas --help`, the read commands
(`task list`, `approvals`, `events`, `run list`, `run show`, `task show`, `approval show`,
`incidents`, `timeline`) on the
embedded SQLite store holding the demo's run and --tasks requests, and `altlas do …
--no-wait` to its first line of output, each in a fresh process, against `python -c pass`
measured in the same run (the interpreter's own start, which no command can go below).
Median and 90th percentile of --runs each, after one read that brings the views up to the
store (the reads then open only the views, altlas/quick_reads.py), and the median CPU time
of the whole process (user + system), which other work on a shared machine moves less.
Python writes its bytecode as an installation does (PYTHONDONTWRITEBYTECODE, if set, is
dropped): compiling altlas's modules again in every process is not what a user waits for.

    python bench/cli_startup.py [--runs 11] [--tasks 100]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import record

ROOT = Path(__file__).resolve().parents[1]
ALTLAS = [sys.executable, "-m", "altlas"]
# The requests, recorded in one process: as many commands would take minutes.
SEED = """
import sys
from altlas.bootstrap import bootstrap
from altlas.settings import load_settings
system = bootstrap(load_settings())
for i in range(int(sys.argv[1])):
    system.use_cases().request_work("erin", f"check disk on web-{i % 3 + 1}", source="cli")
system.close()
"""


def commands(run_id: str, task_id: str, approval_id: str) -> list[tuple[str, list[str]]]:
    return [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("altlas --help", [*ALTLAS, "--help"]),
        ("altlas task list", [*ALTLAS, "task", "list"]),
        ("altlas approvals", [*ALTLAS, "approvals"]),
        ("altlas events", [*ALTLAS, "events", "--limit", "20"]),
        ("altlas run list", [*ALTLAS, "run", "list"]),
        ("altlas run show", [*ALTLAS, "run", "show", run_id]),
        ("altlas task show", [*ALTLAS, "task", "show", task_id]),
        ("altlas approval show", [*ALTLAS, "approval", "show", approval_id]),
        ("altlas incidents", [*ALTLAS, "incidents"]),
        ("altlas timeline", [*ALTLAS, "timeline", "--limit", "20"]),
        ("altlas do … --no-wait, first line",
         [*ALTLAS, "do", "check disk on web-1", "--as", "erin", "--no-wait"]),
    ]


def first_line_seconds(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """From the start of the process to its first line on stdout (then it runs to its end),
    and the CPU seconds the whole process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE,  # -m: cwd first
                          stderr=subprocess.DEVNULL, text=True) as process:
        assert process.stdout is not None
        process.stdout.readline()
        seconds = time.perf_counter() - started
        process.stdout.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:])} exited with {process.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="runs of each command")
    parser.add_argument("--tasks", type=int, default=100, help="requests in the store")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        clean = {k: v for k, v in os.environ.items()
                 if not k.upper().startswith("ALTLAS_") and k != "PYTHONDONTWRITEBYTECODE"}
        env = {**clean, "ALTLAS_DATA_DIR": home,
               "PYTHONPATH": os.pathsep.join([str(ROOT), clean.get("PYTHONPATH", "")])}
        subprocess.run([*ALTLAS, "demo"], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        subprocess.run([sys.executable, "-c", SEED, str(args.tasks)], env=env, cwd=ROOT,
                       check=True, capture_output=True)
        listed = subprocess.run([*ALTLAS, "run", "list", "--json"], env=env, cwd=ROOT,
                                check=True, capture_output=True, text=True).stdout
        run = json.loads(listed)["items"][0]  # and the views are caught up
        asked = subprocess.run([*ALTLAS, "timeline", "--type", "ApprovalRequested", "--json"],
                               env=env, cwd=ROOT, check=True, capture_output=True,
                               text=True).stdout
        approval_id = json.loads(asked)[0]["aggregate_id"]
        timed = {name: [first_line_seconds(argv, env) for _ in range(args.runs)]
                 for name, argv in commands(run["run_id"], run["task_id"], approval_id)}
    measured = {name: sorted(wall for wall, _ in runs) for name, runs in timed.items()}
    cpu = {name: statistics.median(used for _, used in runs) for name, runs in timed.items()}
    base = statistics.median(measured["python -c pass"])
    print(f"CLI start-up, {args.runs} runs each, embedded SQLite store, the demo's run and "
          f"{args.tasks} requests\n")
    print(f"{'command':<36} {'median s':>8} {'p90 s':>7} {'median vs python -c pass':>25} "
          f"{'cpu s':>6}")
    for name, runs in measured.items():
        median = statistics.median(runs)
        print(f"{name:<36} {median:>8.3f} {_p90(runs):>7.3f} {median / base:>24.1f}x "
              f"{cpu[name]:>6.3f}")
    for name, runs in list(measured.items())[1:]:
        record(f"CLI start-up, {name}", statistics.median(runs), "s", "lower")


def _p90(runs: list[float]) -> float:
    return statistics.quantiles(runs, n=10, method="inclusive")[-1] if len(runs) > 1 else runs[0]


if __name__ == "__main__":
    main()
