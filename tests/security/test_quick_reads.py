"""A read that opens only the views (altlas/quick_reads.py) must not be a way around what
every command checks at start-up: the cipher key, the policy, a store that lost events; nor
around what the whole system believes of people (a key put back after forgetting). Each case
makes the views current first, so the quick read is the one tried."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import imports, one_line_error
from tests.e2e.conftest import run_altlas as altlas
from tests.security.test_privacy import ERASED, SECRET, leaks, privacy_policy

READS = [("task", "list"), ("run", "list"), ("approvals",), ("timeline",), ("events",),
         ("incidents",)]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("ALTLAS_")}
    return {**clean, "ALTLAS_DATA_DIR": str(tmp_path / "data")}


def _current(env: dict[str, str]) -> None:
    """Something recorded, and the views caught up with it."""
    assert altlas(env, "task", "request", "check disk on web-1", "--as", "erin").returncode == 0
    assert "check disk on web-1" in altlas(env, "task", "list").stdout


def test_an_encrypted_store_is_not_read_without_its_key(env: dict[str, str]) -> None:
    key = json.loads(altlas(env, "key", "new", "--json").stdout)["ALTLAS_CIPHER_KEY"]
    _current({**env, "ALTLAS_CIPHER_KEY": key})
    for read in READS:
        assert one_line_error(altlas(env, *read)) == (
            "altlas: cannot read the event store (SQLite store in "
            f"{env['ALTLAS_DATA_DIR']}): its events are encrypted: set ALTLAS_CIPHER_KEY to the "
            "key this store was begun with")


@pytest.mark.parametrize("name", ["ALTLAS_CIPHER_KEY", "altlas_cipher_key", "Altlas_Cipher_Key"])
def test_a_key_for_a_store_in_clear_is_refused_however_its_name_is_written(
        env: dict[str, str], name: str) -> None:
    _current(env)
    key = json.loads(altlas(env, "key", "new", "--json").stdout)["ALTLAS_CIPHER_KEY"]
    for read in READS:
        assert one_line_error(altlas({**env, name: key}, *read)).endswith(
            "its events are stored in clear, but ALTLAS_CIPHER_KEY is set: unset it (a store "
            "is encrypted from its first event or not at all)")


@pytest.mark.parametrize("where", ["data dir", "variable"])
def test_a_broken_policy_stops_a_read(env: dict[str, str], tmp_path: Path, where: str) -> None:
    _current(env)
    bad = Path(env["ALTLAS_DATA_DIR"]) / "policy.yaml" if where == "data dir" else (
        tmp_path / "elsewhere.yaml")
    bad.write_text("version: 1\nenvironments:\n  prod: {tier: production}\n")
    if where == "variable":
        env = {**env, "ALTLAS_POLICY_FILE": str(bad)}
    for read in READS:
        assert one_line_error(altlas(env, *read)) == (
            f"altlas: {bad}:3: environments.prod.tier: must be one of dev, staging, prod")


def test_views_ahead_of_a_store_put_back_are_refused(env: dict[str, str],
                                                     tmp_path: Path) -> None:
    _current(env)
    data = Path(env["ALTLAS_DATA_DIR"])
    older = tmp_path / "older.sqlite3"
    with sqlite3.connect(data / "events.sqlite3") as src, sqlite3.connect(older) as dst:
        src.backup(dst)
    _current(env)  # one more request, applied to the views
    for side in ("-wal", "-shm"):
        (data / f"events.sqlite3{side}").unlink(missing_ok=True)
    shutil.copy(older, data / "events.sqlite3")
    for read in READS:
        assert "events were lost" in one_line_error(altlas(env, *read))


def test_a_key_put_back_after_forgetting_is_not_believed(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    """As the whole system (tests/security/test_key_table.py): alice's row restored from a
    copy after she was forgotten reveals nothing, and is destroyed again."""
    env = {**env, "ALTLAS_POLICY_FILE": str(privacy_policy(tmp_path))}
    assert altlas(env, "task", "request", SECRET, "--as", "alice").returncode == 0
    keys = Path(env["ALTLAS_DATA_DIR"]) / "events.sqlite3"
    select = "SELECT pseudonym, name, key, created_at FROM altlas_person_keys WHERE name = ?"
    with sqlite3.connect(keys) as db:
        [row] = db.execute(select, ("alice",)).fetchall()
    asked = altlas(env, "privacy", "forget", "alice", "--as", "erin", "--reason", "left")
    approval = re.search(r"approval ([0-9a-f]{8})", asked.stdout)
    assert approval is not None, asked.stderr
    # the CLI's inline worker plans alice's request with the local model first: 16 s alone,
    # past 120 s on a CI machine running three suites at once
    granted = subprocess.run([sys.executable, "-m", "altlas", "approve", approval.group(1),
                              "--as", "bob"], env=env, capture_output=True, text=True,
                             timeout=600)
    assert granted.returncode == 0, granted.stderr
    altlas(env, "task", "list")  # the views catch up with the store
    # the views, and the events as stored (whose table clips the actor)
    for read, erased in ((("task", "list"), ERASED), (("events",), re.compile("erased pers"))):
        with sqlite3.connect(keys) as db:
            db.execute("INSERT INTO altlas_person_keys VALUES (?, ?, ?, ?)", row)
        out, modules = imports(env, *read)
        assert "altlas.bootstrap" not in modules
        assert leaks(out) == [] and erased.search(out), read
        with sqlite3.connect(keys) as db:
            assert db.execute(select, ("alice",)).fetchall() == []
