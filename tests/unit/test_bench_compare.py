"""`make bench` ends by setting this run's figures beside the recorded ones: a figure more
than 30% worse is marked, whichever way is better for it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def compare(tmp_path: Path, recorded: dict[str, object], run: list[dict[str, object]],
            *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "recorded.json").write_text(json.dumps({"figures": recorded}))
    (tmp_path / "run.jsonl").write_text("".join(json.dumps(f) + "\n" for f in run))
    return subprocess.run([sys.executable, str(ROOT / "bench" / "compare.py"),
                           str(tmp_path / "run.jsonl"), "--recorded",
                           str(tmp_path / "recorded.json"), *args],
                          capture_output=True, text=True, check=False)


def fig(name: str, value: float, better: str, unit: str = "ms") -> dict[str, object]:
    return {"name": name, "value": value, "unit": unit, "better": better}


def test_a_latency_up_by_more_than_30_percent_is_marked_and_fails(tmp_path: Path) -> None:
    done = compare(tmp_path, {"hop p99": fig("hop p99", 40, "lower")},
                   [fig("hop p99", 60, "lower")])
    assert done.returncode == 3
    assert "+50%  WORSE" in done.stdout
    assert "more than 30% worse than recorded: hop p99" in done.stdout


def test_a_ratio_down_by_less_than_30_percent_passes_and_one_not_run_is_listed(
        tmp_path: Path) -> None:
    recorded = {"append": fig("append", 0.8, "higher", "ratio"),
                "replay": fig("replay", 0.7, "higher", "ratio")}
    done = compare(tmp_path, recorded, [fig("append", 0.6, "higher", "ratio")])
    assert done.returncode == 0, done.stdout
    assert "+25%" in done.stdout and "WORSE" not in done.stdout
    assert "not run" in next(line for line in done.stdout.splitlines()
                             if line.startswith("replay"))


def test_update_records_this_runs_figures_and_keeps_the_others(tmp_path: Path) -> None:
    recorded = {"replay": fig("replay", 0.7, "higher", "ratio")}
    done = compare(tmp_path, recorded, [fig("hop p99", 55, "lower")], "--update")
    assert done.returncode == 0
    figures = json.loads((tmp_path / "recorded.json").read_text())["figures"]
    assert figures["hop p99"]["value"] == 55 and figures["replay"]["value"] == 0.7
