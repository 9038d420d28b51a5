"""This run's headline figures beside the last ones recorded (BENCHMARKS.json); any figure
more than 30% worse is marked, and the exit status is 3 if one is.

    python bench/compare.py FIGURES.jsonl [--recorded BENCHMARKS.json] [--update]

--update writes this run's figures into the recorded file (do it when BENCHMARKS.md is
updated with them). A figure this run did not measure is listed as not run.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORSE = 0.30


def load_run(path: Path) -> dict[str, dict[str, Any]]:
    """The figures of this run; a figure measured twice keeps its last value."""
    found: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                figure = json.loads(line)
                found[figure["name"]] = figure
    return found


def change(recorded: dict[str, Any], now: dict[str, Any]) -> float:
    """How much worse ``now`` is than ``recorded`` (negative: better), as a fraction."""
    before, after = float(recorded["value"]), float(now["value"])
    if before == 0:
        return 0.0
    worse = (after - before) if recorded["better"] == "lower" else (before - after)
    return worse / abs(before)


def table(recorded: dict[str, dict[str, Any]], run: dict[str, dict[str, Any]]
          ) -> tuple[list[str], list[str]]:
    lines = [f"{'figure':<58} {'recorded':>10} {'now':>10} {'unit':<8} {'worse by':>9}"]
    marked = []
    for name in sorted(set(recorded) | set(run)):
        was, now = recorded.get(name), run.get(name)
        unit = (now or was or {}).get("unit", "")
        before = f"{was['value']:.4g}" if was else "-"
        after = f"{now['value']:.4g}" if now else "not run"
        mark = ""
        if was and now:
            by = change(was, now)
            mark = f"{by:>+8.0%}"
            if by > WORSE:
                mark += "  WORSE"
                marked.append(name)
        lines.append(f"{name:<58} {before:>10} {after:>10} {unit:<8} {mark:>9}")
    return lines, marked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figures", type=Path)
    parser.add_argument("--recorded", type=Path, default=ROOT / "BENCHMARKS.json")
    parser.add_argument("--update", action="store_true")
    args = parser.parse_args()
    document = (json.loads(args.recorded.read_text(encoding="utf-8"))
                if args.recorded.is_file() else {"figures": {}})
    recorded = document["figures"]
    run = load_run(args.figures)
    lines, marked = table(recorded, run)
    print("\n".join(lines))
    if args.update:
        stamp = datetime.now(UTC).date().isoformat()
        recorded.update({name: {**figure, "recorded": stamp} for name, figure in run.items()})
        args.recorded.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n",
                                 encoding="utf-8")
        print(f"{len(run)} figures written to {args.recorded.name}")
        return 0
    if marked:
        print(f"{len(marked)} figure(s) more than {WORSE:.0%} worse than recorded: "
              + ", ".join(marked))
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
