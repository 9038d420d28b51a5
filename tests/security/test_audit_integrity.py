"""The audit notices what it cannot see.

A store that lost events at its end (a WAL file cut by a crash, a store put back from an
older copy, an emptied file) is refused by every command in one line naming the positions,
answered 503 by /healthz and reported by `audit verify`; garbage in the store file is one
line too. The checkpoints kept beside the views (written by the embedded feed with the views
it applies) catch what the hash chains alone cannot, and an operator gets out deliberately
with `audit accept-loss --yes`, which every later audit shows.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from altlas.bootstrap import StartupError, System, bootstrap
from altlas.settings import Settings
from domain.hashchain import GENESIS, event_hash, running_hash
from projections.schema import store_checkpoints
from streams.checkpoints import STORE
from testkit.backends import PostgresBackend
from testkit.helpers import gated_plan, run_to_rest
from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas
from tests.integration.conftest import (  # noqa: F401  (fixtures)
    kafka_bootstrap,
    pg_schema,
    postgres_url,
    topic_prefix,
)
from tests.integration.test_streams import drain, kafka_settings, publish_all

pytestmark = pytest.mark.long(150)  # seconds, about

LOST = "events were lost; restore the store from a backup"
EVERY_COMMAND = [
    ("events",), ("audit", "verify"), ("audit", "verify", "--json"), ("approvals",),
    ("timeline",), ("task", "list"), ("run", "list"), ("audit", "export"),
    ("audit", "replay", "--until", "2026-01-01T00:00:00Z"), ("projections", "rebuild"),
    ("project", "--once"), ("do", "check disk on the altlas host", "--as", "erin"),
    ("worker", "--until-quiet"), ("serve", "--port", "1"),
]


def _data(env: dict[str, str]) -> Path:
    return Path(env["ALTLAS_DATA_DIR"])


def _store_end(env: dict[str, str]) -> int:
    with sqlite3.connect(_data(env) / "events.sqlite3") as conn:
        return int(conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM stored_events")
                   .fetchone()[0])


def _views(env: dict[str, str], sql: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(_data(env) / "views.sqlite3")
    try:
        rows = conn.execute(sql, params).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def _checkpoints(env: dict[str, str]) -> list[tuple[Any, ...]]:
    return _views(env, "SELECT position, events, kept, superseded FROM store_checkpoints "
                  "WHERE source = ? ORDER BY id", STORE)


def _put_back(env: dict[str, str], copy: Path) -> None:
    """The store as it was when ``copy`` was taken: a restore from an older backup, or
    what a crash that lost the last commits leaves."""
    for side in ("-wal", "-shm"):
        (_data(env) / f"events.sqlite3{side}").unlink(missing_ok=True)
    restored = _data(env) / "events.sqlite3.restoring"
    shutil.copy(copy, restored)
    os.replace(restored, _data(env) / "events.sqlite3")  # a new file, as a restore makes


def _copy_store(env: dict[str, str], to: Path) -> Path:
    with sqlite3.connect(_data(env) / "events.sqlite3") as src, sqlite3.connect(to) as dst:
        src.backup(dst)
    return to


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    return {**clean, "ALTLAS_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def demo(env: dict[str, str]) -> dict[str, str]:
    """The demo's 16 events, applied to the views (a listing catches them up)."""
    assert altlas(env, "demo").returncode == 0
    assert altlas(env, "approvals").returncode == 0
    assert _store_end(env) == 16
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@contextmanager
def serving(env: dict[str, str]) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "altlas", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 40
        while True:
            assert proc.poll() is None, "altlas serve stopped"
            assert time.monotonic() < deadline, "altlas serve did not answer"
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)


def _until(found: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


# -- losses at the store's end ----------------------------------------------------------

def test_a_wal_cut_by_a_crash_is_refused_by_every_command_naming_the_positions(
        env: dict[str, str]) -> None:
    assert altlas(env, "demo").returncode == 0
    with serving(env) as (port, proc):
        for _ in range(3):
            assert altlas(env, "do", "check disk on the altlas host", "--as",
                          "erin").returncode == 0

        def applied() -> int | None:  # the server's feed has applied all that is recorded
            status, body = _get(port, "/healthz")
            total = int(json.loads(body)["last_position"]) if status == 200 else -1
            views = _views(env, "SELECT MIN(position) FROM projection_positions")[0][0]
            return total if total == views == _checkpoints(env)[-1][0] else None

        total = _until(applied)
        os.kill(proc.pid, signal.SIGKILL)  # no checkpoint of the WAL into the file
        proc.wait(timeout=10)
    wal = _data(env) / "events.sqlite3-wal"
    assert wal.stat().st_size > 0
    os.truncate(wal, wal.stat().st_size // 2)  # the disk kept half of it
    end = _store_end(env)
    assert 0 < end < total, (end, total)
    assert _checkpoints(env)[-1][:2] == (total, total)

    expected = (f"altlas: the event store ends at position {end} but the views have applied "
                f"up to {total} and the last checkpoint covers {total} ({total} events): "
                f"{LOST}, or accept the loss with `altlas audit accept-loss --yes` "
                '(see README "Recovering a store")')
    for command in EVERY_COMMAND:
        assert one_line_error(altlas(env, *command)) == expected, command
    assert _store_end(env) == end  # refused before anything was recorded


def test_a_store_put_back_from_an_older_copy_is_refused_and_verify_names_it(
        demo: dict[str, str], tmp_path: Path) -> None:
    older = _copy_store(demo, tmp_path / "older.sqlite3")
    assert altlas(demo, "do", "check disk on the altlas host", "--as", "erin").returncode == 0
    assert altlas(demo, "approvals").returncode == 0
    now = _store_end(demo)
    _put_back(demo, older)
    line = one_line_error(altlas(demo, "audit", "verify"))
    assert line.startswith(f"altlas: the event store ends at position 16 but the views have "
                           f"applied up to {now} and the last checkpoint covers {now} ({now} "
                           "events): events were lost")


def test_an_emptied_store_file_is_refused(demo: dict[str, str]) -> None:
    _put_back(demo, Path(os.devnull))
    assert (_data(demo) / "events.sqlite3").stat().st_size == 0
    for command in (("events",), ("audit", "verify"), ("serve", "--port", "1")):
        assert one_line_error(altlas(demo, *command)) == (
            "altlas: the event store is empty but the views have applied up to 16 and the "
            "last checkpoint covers 16 (16 events): the store was emptied or replaced; "
            'restore it from a backup (see README "Recovering a store")')


def test_a_deleted_store_file_is_refused_like_an_emptied_one(demo: dict[str, str]) -> None:
    for name in ("events.sqlite3", "events.sqlite3-wal", "events.sqlite3-shm"):
        (_data(demo) / name).unlink(missing_ok=True)
    assert "the event store is empty but the views have applied up to 16" in one_line_error(
        altlas(demo, "timeline"))


def test_garbage_in_the_store_file_is_one_line(demo: dict[str, str]) -> None:
    (_data(demo) / "events.sqlite3").write_bytes(os.urandom(64 * 1024))
    for command in (("events",), ("audit", "verify"), ("audit", "accept-loss", "--yes"),
                    ("serve", "--port", "1")):
        line = one_line_error(altlas(demo, *command))
        assert line.startswith("altlas: cannot open the event store (SQLite store in "), line
        assert line.endswith("file is not a database"), line


def test_views_ahead_of_the_store_are_refused_without_any_checkpoint(
        demo: dict[str, str], tmp_path: Path) -> None:
    """As views from before the checkpoints were kept beside them would be."""
    older = _copy_store(demo, tmp_path / "older.sqlite3")
    assert altlas(demo, "do", "check disk on the altlas host", "--as", "erin").returncode == 0
    assert altlas(demo, "approvals").returncode == 0
    now = _store_end(demo)
    _views(demo, "DELETE FROM store_checkpoints")
    _put_back(demo, older)
    assert one_line_error(altlas(demo, "events")) == (
        f"altlas: the event store ends at position 16 but the views have applied up to {now}: "
        f"{LOST}, or accept the loss with `altlas audit accept-loss --yes` "
        '(see README "Recovering a store")')


def test_healthz_answers_503_when_the_store_loses_events_under_a_running_server(
        demo: dict[str, str]) -> None:
    # the demo's 16 events only: no packaged models registered as it starts
    with serving({**demo, "ALTLAS_REGISTER_PACKAGED": "false"}) as (port, _):
        status, body = _get(port, "/healthz")
        assert status == 200 and json.loads(body)["last_position"] == 16
        with sqlite3.connect(_data(demo) / "events.sqlite3") as conn:  # as a broken disk would
            conn.execute("DELETE FROM stored_events WHERE rowid > 12")
        status, body = _until(lambda: (r := _get(port, "/healthz"))[0] == 503 and r, 10)
        assert json.loads(body) == {"status": "unavailable", "reason": (
            "the event store ends at position 12 but the views have applied up to 16 and the "
            f"last checkpoint covers 16 (16 events): {LOST}, or accept the loss with "
            '`altlas audit accept-loss --yes` (see README "Recovering a store")')}
        for name in ("events.sqlite3", "events.sqlite3-wal"):  # the disk garbles the files
            garbled = _data(demo) / name
            garbled.write_bytes(os.urandom(max(garbled.stat().st_size, 64 * 1024)))
        status, body = _until(lambda: (r := _get(port, "/healthz"))[0] == 503 and "cannot "
                              "read the event store" in r[1] and r, 10)
        assert json.loads(body)["reason"].endswith(
            ("file is not a database", "database disk image is malformed"))


# -- the way out ------------------------------------------------------------------------

def test_accepting_a_loss_rebuilds_the_views_and_every_later_audit_shows_it(
        demo: dict[str, str], tmp_path: Path) -> None:
    older = _copy_store(demo, tmp_path / "older.sqlite3")
    assert altlas(demo, "do", "check disk on the altlas host", "--as", "erin").returncode == 0
    assert altlas(demo, "approvals").returncode == 0
    lost_at = _store_end(demo)
    _put_back(demo, older)
    before = _checkpoints(demo)

    asked = one_line_error(altlas(demo, "audit", "accept-loss"))
    assert asked.startswith("altlas: the event store ends at position 16 but")
    assert asked.endswith("nothing was changed: with --yes the views are rebuilt from the "
                          "store as it is and the acceptance recorded")
    assert _checkpoints(demo) == before
    assert one_line_error(altlas(demo, "events")).startswith("altlas: the event store ends")

    done = altlas(demo, "audit", "accept-loss", "--yes", "--reason", "restored the backup")
    assert done.returncode == 0, done.stderr
    assert ("rebuilt tasks, approvals, timeline, atlas, leaderboards, incidents, runbooks "
            "from 16 event(s)"
            in done.stdout)
    verify = altlas(demo, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "event store: 16 events in 3 aggregates" in verify.stdout
    assert "every hash chain and checkpoint verified" in verify.stdout
    [note] = [line for line in verify.stdout.splitlines() if line.startswith("  note:")]
    assert "loss accepted " in note
    assert (": the event store ended at position 16 (16 events, running hash " in note
            and f"but the views had applied up to {lost_at} and the last checkpoint covered "
            f"{lost_at} ({lost_at} events); reason: restored the backup" in note)
    report = json.loads(altlas(demo, "audit", "verify", "--json").stdout)[0]
    assert report["ok"] and report["notes"] == [note.removeprefix("  note: ")]
    timeline = json.loads(altlas(demo, "timeline", "--json", "--limit", "1000").stdout)
    assert len(timeline) == 16
    # the checkpoints of the lost events stay, set aside with the acceptance
    assert next(c for c in _checkpoints(demo) if c[3] is not None)[:2] == (lost_at, lost_at)

    # work goes on, and the audit keeps verifying it, the acceptance still shown
    assert altlas(demo, "do", "check disk on the altlas host", "--as", "erin").returncode == 0
    again = altlas(demo, "audit", "verify")
    assert again.returncode == 0 and note in again.stdout
    assert altlas(demo, "audit", "accept-loss", "--yes").stdout.startswith("nothing to accept")


# -- the checkpoints themselves ---------------------------------------------------------

def test_the_embedded_feed_keeps_checkpoints_beside_the_views_and_verify_checks_them(
        demo: dict[str, str]) -> None:
    rows = _views(demo, "SELECT position, running_hash, events, kept FROM store_checkpoints "
                  "WHERE source = ? AND superseded IS NULL ORDER BY position", STORE)
    assert rows[0] == (0, GENESIS, 0, 1)  # the live views' marker
    events = json.loads(altlas(demo, "events", "--json").stdout)
    running = GENESIS
    for e in events:
        running = running_hash(running, e["hash"])
    assert rows[-1] == (16, running, 16, 0)  # the moving head, with the views
    assert _views(demo, "SELECT MAX(position) FROM projection_positions") == [(16,)]
    assert altlas(demo, "audit", "verify").returncode == 0

    _views(demo, "UPDATE store_checkpoints SET running_hash = ? WHERE position = 16", "f" * 64)
    bad = altlas(demo, "audit", "verify")
    assert bad.returncode == 1
    assert "  - checkpoint at position 16 does not match: it covers 16 events with running " \
           "hash ffffffffffff" in bad.stdout


def test_an_event_rewritten_with_its_chain_recomputed_is_caught_by_the_checkpoint(
        demo: dict[str, str]) -> None:
    """The chains verify (the forger recomputed the hash); the running hash kept outside
    the store does not."""
    settings = Settings(data_dir=_data(demo), segmenter="rules")
    system = bootstrap(settings)
    try:
        last = list(system.history.read())[-1]
    finally:
        system.close()
    forged = {**last.state, "actor": "mallory"}
    new_hash = event_hash(str(last.state["prevhash"]), last.type_name, forged)
    with sqlite3.connect(_data(demo) / "events.sqlite3") as conn:
        (raw,) = conn.execute("SELECT state FROM stored_events WHERE rowid = ?",
                              (last.position,)).fetchone()
        text = bytes(raw).decode()
        changed = text.replace(f'"actor":"{last.state["actor"]}"', '"actor":"mallory"', 1)
        changed = changed.replace(last.hash, new_hash)
        assert changed != text
        conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                     (changed.encode(), last.position))
    bad = altlas(demo, "audit", "verify")
    assert bad.returncode == 1
    assert "hash mismatch" not in bad.stdout and "prevhash" not in bad.stdout
    assert "  - checkpoint at position 16 does not match: it covers 16 events" in bad.stdout


def test_checkpoints_are_kept_every_n_events_with_one_moving_head(tmp_path: Path) -> None:
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules", checkpoint_every=10))
    try:
        for _ in range(4):
            run_to_rest(system, gated_plan(str(tmp_path / "maintenance.flag")), environment="prod")
            system.store_feed().catch_up()
        total = system.history.last_position()
        c = store_checkpoints.c
        with system.views().connect() as conn:
            rows = conn.execute(select(c.events, c.kept).where(c.source == STORE)
                                .order_by(c.position)).all()
        kept = [events for events, k in rows if k]
        moving = [events for events, k in rows if not k]
        assert kept[0] == 0 and len(kept) > 3  # genesis, then one per ten events
        assert all(b // 10 == a // 10 + 1 for a, b in itertools.pairwise(kept))
        assert len(moving) <= 1 and rows[-1][0] == total
        assert system.auditor().reports()[0].ok
    finally:
        system.close()


def test_a_postgresql_store_that_lost_its_last_events_is_refused_at_start_up(
        postgres_url: str, pg_schema: str, tmp_path: Path) -> None:  # noqa: F811
    backend = PostgresBackend(postgres_url, pg_schema)
    system: System = backend.open()
    try:
        run_to_rest(system, gated_plan(str(tmp_path / "maintenance.flag")), environment="prod")
        system.store_feed().catch_up()
        total = system.history.last_position()
        assert system.auditor().reports()[0].ok
    finally:
        system.close()
    backend.execute(f"DELETE FROM {backend.events_table} WHERE notification_id > %s", total - 3)
    with pytest.raises(StartupError) as refused:
        backend.open()
    assert str(refused.value) == (
        f"the event store ends at position {total - 3} but the views have applied up to "
        f"{total} and the last checkpoint covers {total} ({total} events): {LOST}, or accept "
        'the loss with `altlas audit accept-loss --yes` (see README "Recovering a store")')
    system = bootstrap(backend.settings(), check_store=False)
    try:
        accepted = system.auditor().accept_loss("test", "the last three were lost")
        assert accepted["accepted"] and accepted["store_end"] == total - 3
        for runner in system.runners():
            runner.reset()
        system.store_feed().catch_up()
    finally:
        system.close()
    system = backend.open()
    try:
        [report] = system.auditor().reports()
        assert report.ok and "the last three were lost" in report.notes[0]
    finally:
        system.close()


def test_with_kafka_the_relays_checkpoints_kept_beside_the_views_catch_a_lost_end(
        postgres_url: str, pg_schema: str, kafka_bootstrap: str,  # noqa: F811
        topic_prefix: str, tmp_path: Path) -> None:  # noqa: F811
    backend = PostgresBackend(postgres_url, pg_schema)
    settings = kafka_settings(backend, kafka_bootstrap, topic_prefix)
    system = bootstrap(settings)
    try:
        run_to_rest(system, gated_plan(str(tmp_path / "maintenance.flag")), environment="prod")
        total = system.history.last_position()
        relay = system.relay()
        publish_all(relay)
        assert relay.checkpoint_now() is not None
        feeds = system.kafka_feeds()
        drain(feeds, system.kafka())
        for feed in feeds:
            feed.close()
        with system.views().connect() as conn:
            kept = conn.execute(select(store_checkpoints.c.position).where(
                store_checkpoints.c.source == f"kafka:{topic_prefix}.events")).scalars().all()
        assert kept == [total]  # each feed saw it; kept once
        assert system.auditor().reports()[0].ok
    finally:
        system.close()
    backend.execute(f"DELETE FROM {backend.events_table} WHERE notification_id > %s", total - 3)
    with pytest.raises(StartupError) as refused:
        bootstrap(settings)
    assert str(refused.value).startswith(
        f"the event store ends at position {total - 3} but the last checkpoint covers {total} "
        f"({total} events): {LOST}")
    system = bootstrap(settings, check_store=False)
    try:
        store, topic = system.auditor().reports(kafka=True)
        assert store.problems[0] == str(refused.value)
        assert (f"the topic holds 3 event(s) past the store's end (position {total - 3}), up "
                f"to position {total}: the store lost them") in topic.problems[0]
    finally:
        system.close()
