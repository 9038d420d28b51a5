"""An auditor's journey through the CLI: verify, find the tampered event, replay, export."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas


@pytest.fixture
def demo(env: dict[str, str]) -> dict[str, str]:
    assert altlas(env, "demo").returncode == 0
    return env


def pseudonym(conn: sqlite3.Connection, name: str) -> str:
    return str(conn.execute("SELECT pseudonym FROM altlas_person_keys WHERE name = ?",
                            (name,)).fetchone()[0])


def test_verify_passes_then_names_the_tampered_event(demo: dict[str, str]) -> None:
    ok = altlas(demo, "audit", "verify")
    assert ok.returncode == 0
    assert "event store: 16 events in 3 aggregates" in ok.stdout
    assert "every hash chain and checkpoint verified" in ok.stdout
    db = Path(demo["ALTLAS_DATA_DIR"]) / "events.sqlite3"
    with sqlite3.connect(db) as conn:
        (state, agg) = conn.execute(
            "SELECT state, originator_id FROM stored_events WHERE topic LIKE '%VoteCast' "
            "ORDER BY rowid LIMIT 1").fetchone()
        alice, carol = (f'"{pseudonym(conn, name)}"'.encode() for name in ("alice", "carol"))
        conn.execute("UPDATE stored_events SET state = ? WHERE topic LIKE '%VoteCast' AND "
                     "state = ?", (bytes(state).replace(alice, carol), state))
    bad = altlas(demo, "audit", "verify")
    assert bad.returncode == 1
    aggregate = f"{agg[:8]}-{agg[8:12]}-{agg[12:16]}-{agg[16:20]}-{agg[20:]}"
    assert f"aggregate {aggregate} version 2 (position 9): hash mismatch" in bad.stdout


def test_export_writes_cloudevents_lines(demo: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "history.jsonl"
    result = altlas(demo, "audit", "export", "--output", str(out))
    assert result.returncode == 0 and "exported 16 event(s)" in result.stdout
    assert "export: 16/16 events" in result.stderr  # plain progress lines off a terminal
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["sequence"] for e in events] == [f"{n:019d}" for n in range(1, 17)]
    assert events[0]["type"] == "altlas.task.TaskRequested"


def test_replay_until_shows_the_past(demo: dict[str, str]) -> None:
    votes = json.loads(altlas(demo, "timeline", "--type", "ApprovalVoteCast", "--json").stdout)
    assert [v["actor"] for v in votes] == ["alice", "bob"]
    target = Path(demo["ALTLAS_DATA_DIR"]) / "then.sqlite3"  # replays go inside the data dir
    result = altlas(demo, "audit", "replay", "--until", votes[0]["time"],
                    "--into", f"sqlite:///{target}")
    assert result.returncode == 0 and "replayed 9 event(s)" in result.stdout
    with sqlite3.connect(Path(demo["ALTLAS_DATA_DIR"]) / "events.sqlite3") as conn:
        alice = pseudonym(conn, "alice")
    with sqlite3.connect(target) as conn:  # views keep people as the events name them
        assert conn.execute("SELECT status, votes FROM approvals").fetchall() == [
            ("open", f'["{alice}"]')]
    live = json.loads(altlas(demo, "timeline", "--actor", "bob", "--json").stdout)
    assert [e["type"] for e in live] == ["ApprovalVoteCast", "ApprovalGranted"]


def test_replay_refuses_a_bad_time(demo: dict[str, str]) -> None:
    line = one_line_error(altlas(demo, "audit", "replay", "--until", "yesterday"))
    assert "'yesterday' is not a time" in line


def test_rebuild_and_queue(demo: dict[str, str]) -> None:
    rebuilt = altlas(demo, "projections", "rebuild")
    assert ("rebuilt tasks, approvals, timeline, atlas, leaderboards, incidents, runbooks "
            "from 16 event(s)"
            in rebuilt.stdout)
    assert altlas(demo, "approvals").stdout.strip() == "no approvals are waiting"


def test_rebuild_in_parallel_is_refused_on_sqlite_views(demo: dict[str, str]) -> None:
    refused = altlas(demo, "projections", "rebuild", "--workers", "2")
    assert refused.returncode == 2
    assert one_line_error(refused) == (
        "altlas: --workers above 1 needs the views on PostgreSQL (SQLite takes one writer "
        "at a time); leave --workers out")
    zero = altlas(demo, "projections", "rebuild", "--workers", "0")
    assert zero.returncode == 2 and "'0' is not a whole number of 1 or more" in zero.stderr
    assert "rebuilt tasks" in altlas(demo, "projections", "rebuild", "--workers", "1").stdout


def test_metrics_endpoint_reports_positions(demo: dict[str, str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "altlas", "serve", "--port", str(port)],
                            env=demo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30

        def numbers(text: str) -> tuple[float, float, float] | None:
            """(appended, the timeline's position, its lag) once all three are reported."""
            found = [re.search(pattern + r" ([0-9.]+)", text) for pattern in (
                r"altlas_events_appended_total",
                r'altlas_projection_position\{partition="0",projection="timeline",'
                r'source="store"\}',
                r'altlas_projection_lag_events\{projection="timeline",source="store"\}')]
            return None if None in found else tuple(float(m[1]) for m in found if m)

        # the demo's 16 events, and the packaged models registered as `serve` starts: the
        # timeline has every event the store appended, with no lag
        while True:
            assert time.monotonic() < deadline, "the metrics never caught up"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    seen = numbers(r.read().decode())
            except OSError:
                seen = None
            if seen is not None and seen[0] >= 16 and seen[1] == seen[0] and seen[2] == 0:
                break
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
