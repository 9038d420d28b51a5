"""How long the command line takes before it answers: `altlas --help`, the read commands
`altlas task list`, `altlas approvals` and `altlas events` on the embedded SQLite store, and
`altlas do … --no-wait` to its first line of output, each in
a fresh process, against `python -c pass` measured in the same run (the interpreter's own
start, which no command can go below). Median of --runs each, after one warm-up run that
creates the store.

    python bench/cli_startup.py [--runs 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import record

ROOT = Path(__file__).resolve().parents[1]
ALTLAS = [sys.executable, "-m", "altlas"]
COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("altlas --help", [*ALTLAS, "--help"]),
    ("altlas task list", [*ALTLAS, "task", "list"]),
    ("altlas approvals", [*ALTLAS, "approvals"]),
    ("altlas events", [*ALTLAS, "events"]),
    ("altlas do … --no-wait, first line",
     [*ALTLAS, "do", "check disk on web-1", "--as", "erin", "--no-wait"]),
]


def first_line_seconds(argv: list[str], env: dict[str, str]) -> float:
    """From the start of the process to its first line on stdout (then it runs to its end)."""
    started = time.perf_counter()
    with subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE,  # -m: cwd first
                          stderr=subprocess.DEVNULL, text=True) as process:
        assert process.stdout is not None
        process.stdout.readline()
        seconds = time.perf_counter() - started
        process.stdout.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:])} exited with {process.returncode}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="runs of each command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
        env = {**clean, "ALTLAS_DATA_DIR": home,
               "PYTHONPATH": os.pathsep.join([str(ROOT), clean.get("PYTHONPATH", "")])}
        first_line_seconds(COMMANDS[2][1], env)  # the store is created, not measured
        medians = {name: statistics.median(first_line_seconds(argv, env)
                                           for _ in range(args.runs))
                   for name, argv in COMMANDS}
    base = medians["python -c pass"]
    print(f"CLI start-up, median of {args.runs} runs each, embedded SQLite store\n")
    print(f"{'command':<36} {'seconds':>8} {'vs python -c pass':>18}")
    for name, seconds in medians.items():
        print(f"{name:<36} {seconds:>8.3f} {seconds / base:>17.1f}x")
    for name, seconds in list(medians.items())[1:]:
        record(f"CLI start-up, {name}", seconds, "s", "lower")


if __name__ == "__main__":
    main()
