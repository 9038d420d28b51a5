"""The headline figures of a benchmark run, for the comparison `make bench` ends with.

A benchmark calls ``record`` for each figure BENCHMARKS.md quotes; with
``ALTLAS_BENCH_FIGURES`` set (scripts/bench.sh sets it) they are appended to that file as JSON
lines, and bench/compare.py sets them beside the figures recorded in BENCHMARKS.json.
"""

from __future__ import annotations

import json
import os
from typing import Literal

Better = Literal["higher", "lower"]


def record(name: str, value: float, unit: str, better: Better) -> None:
    path = os.environ.get("ALTLAS_BENCH_FIGURES")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"name": name, "value": round(value, 4), "unit": unit,
                              "better": better}) + "\n")
