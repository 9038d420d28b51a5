"""Replays never hit the live views or the store.

`audit replay --into TARGET` and POST /audit/replay write views as of a time into a database
someone names. Whatever the spelling (another host name for the same server, another driver
prefix, extra parameters, %-escapes, `..`, symlinks, hard links, relative paths), the live
views database and the event store are refused, and so is anything that is not empty and
not an earlier replay; nothing changes: not the live views, not the feeds' positions, not
the checkpoints. Over HTTP only an admin may replay at all. A fresh target still works.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from adapters.policy_file import default_policy_text
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from projections.schema import positions, store_checkpoints
from streams.targets import ReplayTargetError
from testkit.backends import PostgresBackend
from testkit.helpers import gated_plan, run_to_rest, verified_over_http
from testkit.views import dump
from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas
from tests.integration.conftest import pg_schema, postgres_url  # noqa: F401  (fixtures)

KAFKA = "kafka:altlas.events"


@dataclass
class Live:
    system: System
    data: Path
    until: datetime

    def state(self) -> dict[str, Any]:
        """Everything a replay into the live views would change."""
        views: Engine = self.system.views()
        with views.connect() as conn:
            feeds = sorted(tuple(r) for r in conn.execute(select(positions)))
            marks = sorted(tuple(r) for r in conn.execute(select(store_checkpoints)))
        return {"views": dump(views), "positions": feeds, "checkpoints": marks,
                "store": self.system.history.last_position()}

    def refused(self, into: str, *why: str) -> None:
        before = self.state()
        with pytest.raises(ReplayTargetError) as refusal:
            self.system.auditor().replay(self.until, into)
        message = str(refusal.value)
        assert "@" not in message and ":altlas@" not in message  # no credentials
        for part in why:
            assert part in message, message
        assert self.state() == before


def _journey(system: System, flag: Path) -> datetime:
    """A run with an approval granted; returns a time in the middle of it."""
    run_to_rest(system, gated_plan(str(flag)), environment="prod", approve=True)
    system.store_feed().catch_up()
    with system.views().begin() as conn:  # the Kafka feed's place, kept with the views
        conn.execute(positions.insert().values(projection="timeline", source=KAFKA,
                                               partition=0, position=41))
    records = list(system.history.read())
    return records[len(records) // 2].timestamp


def _policy(tmp: Path) -> Path:
    data = yaml.safe_load(default_policy_text())
    data["people"]["alice"]["roles"] = ["requester", "auditor", "operator"]
    data["people"]["ada"] = {"roles": ["admin"]}
    data["api_tokens"] = {hashlib.sha256(f"tok-{who}".encode()).hexdigest(): who
                          for who in ("alice", "ada", "erin")}
    path = tmp / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# -- SQLite: the embedded default ---------------------------------------------------------

@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    data = tmp_path / "data"
    system = bootstrap(Settings(data_dir=data, database_url=None, views_database_url=None,
                                segmenter="rules", policy_file=_policy(tmp_path)))
    until = _journey(system, data / "maintenance.flag")
    yield Live(system, data, until)
    system.close()


SPELLINGS: dict[str, Callable[[Path], str]] = {
    "as configured": lambda d: f"sqlite:///{d}/views.sqlite3",
    "dot segment": lambda d: f"sqlite:///{d}/./views.sqlite3",
    "dot-dot segment": lambda d: f"sqlite:///{d}/sub/../views.sqlite3",
    "dot-dot out and back in": lambda d: f"sqlite:///{d}/../{d.name}/views.sqlite3",
    "doubled slashes": lambda d: f"sqlite:///{d}//views.sqlite3",
    "percent-escaped": lambda d: f"sqlite:///{d}/views%2Esqlite3",
    "escaped slash": lambda d: f"sqlite:///{d}%2Fviews.sqlite3",
}


@pytest.mark.parametrize("spelling", list(SPELLINGS), ids=list(SPELLINGS))
def test_the_live_views_file_is_refused_however_it_is_spelled(live: Live, spelling: str
                                                              ) -> None:
    (live.data / "sub").mkdir(exist_ok=True)
    live.refused(SPELLINGS[spelling](live.data), "is the live views database")


def test_a_relative_path_to_the_live_views_is_refused(
        live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(live.data.parent)
    live.refused("sqlite:///data/views.sqlite3", "is the live views database")
    monkeypatch.chdir(live.data)
    live.refused("sqlite:///views.sqlite3", "is the live views database")


def test_links_to_the_live_views_are_refused(live: Live) -> None:
    (live.data / "link.sqlite3").symlink_to(live.data / "views.sqlite3")
    live.refused(f"sqlite:///{live.data}/link.sqlite3", "is the live views database")
    (live.data / "alias").symlink_to(live.data)
    live.refused(f"sqlite:///{live.data}/alias/views.sqlite3", "is the live views database")
    os.link(live.data / "views.sqlite3", live.data / "hard.sqlite3")
    live.refused(f"sqlite:///{live.data}/hard.sqlite3", "is the live views database")


def test_a_copy_of_the_live_views_is_refused_by_its_marker(live: Live) -> None:
    with sqlite3.connect(live.data / "views.sqlite3") as src, \
            sqlite3.connect(live.data / "copy.sqlite3") as dst:
        src.backup(dst)
    live.refused(f"sqlite:///{live.data}/copy.sqlite3", "carries their marker")


def test_the_event_store_file_and_sqlite_side_files_are_refused(live: Live) -> None:
    live.refused(f"sqlite:///{live.data}/events.sqlite3", "is the event store's database")
    live.refused(f"sqlite:///{live.data}/sub/../events.sqlite3", "is the event store")
    (live.data / "store.sqlite3").symlink_to(live.data / "events.sqlite3")
    live.refused(f"sqlite:///{live.data}/store.sqlite3", "is the event store's database")
    for side in ("events.sqlite3-wal", "events.sqlite3-shm", "views.sqlite3-wal",
                 "events.sqlite3.lock", "views.sqlite3-journal"):
        live.refused(f"sqlite:///{live.data}/{side}", "one of SQLite's own side files")
    with sqlite3.connect(live.data / "events.sqlite3") as src, \
            sqlite3.connect(live.data / "store-copy.sqlite3") as dst:
        src.backup(dst)
    live.refused(f"sqlite:///{live.data}/store-copy.sqlite3", "holds an event store's tables")


def test_targets_outside_the_data_dir_or_not_plain_files_are_refused(
        live: Live, tmp_path: Path) -> None:
    live.refused(f"sqlite:///{tmp_path}/elsewhere.sqlite3", "is outside the data directory")
    live.refused(f"sqlite:///{live.data}/../elsewhere.sqlite3", "outside the data directory")
    (live.data / "out.sqlite3").symlink_to(tmp_path / "elsewhere.sqlite3")
    live.refused(f"sqlite:///{live.data}/out.sqlite3", "is outside the data directory")
    for url in (f"sqlite:///{live.data}/views.sqlite3?mode=rw",
                f"sqlite:///file:{live.data}/views.sqlite3?uri=true", "sqlite:///:memory:",
                "sqlite://", f"sqlite:///{live.data}/x.sqlite3#frag"):
        live.refused(url, "sqlite:///PATH (a file, no parameters)")
    for url in (f"SQLite:///{live.data}/views.sqlite3",
                f"sqlite+pysqlite:///{live.data}/views.sqlite3", "mysql://x/y", "/tmp/x"):
        live.refused(url)
    live.refused(f"sqlite:///{live.data}", "is not a file")


def test_a_database_that_is_not_empty_or_not_sqlite_is_refused(live: Live) -> None:
    with sqlite3.connect(live.data / "foreign.sqlite3") as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    live.refused(f"sqlite:///{live.data}/foreign.sqlite3",
                 "is not empty and is not an earlier replay (it holds invoices)")
    with sqlite3.connect(live.data / "foreign.sqlite3") as conn:
        assert conn.execute("SELECT * FROM invoices").fetchall() == [(1, 9.5)]
    (live.data / "garbage.sqlite3").write_bytes(os.urandom(8192))
    live.refused(f"sqlite:///{live.data}/garbage.sqlite3", "is not a SQLite database")


def test_a_fresh_file_in_the_data_dir_and_an_earlier_replay_still_work(live: Live) -> None:
    before = live.state()
    auditor = live.system.auditor()
    target = f"sqlite:///{live.data}/replays/then.sqlite3"
    first = auditor.replay(live.until, target)
    assert first["replayed"] > 0
    again = auditor.replay(live.until + timedelta(days=1), target)  # an earlier replay
    assert again["replayed"] > first["replayed"]
    default = auditor.replay(live.until)  # a new file in the data dir
    assert default["into"].startswith(f"sqlite:///{live.data}/replay-")
    (live.data / "empty.sqlite3").touch()
    assert auditor.replay(live.until, f"sqlite:///{live.data}/empty.sqlite3")["replayed"]
    assert live.state() == before


def test_the_cli_refuses_the_live_views_in_one_line_and_changes_nothing(live: Live) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    env.update(ALTLAS_DATA_DIR=str(live.data), ALTLAS_SEGMENTER="rules")
    before = live.state()
    until = live.until.isoformat()
    for into, why in ((f"sqlite:///{live.data}/sub/../views.sqlite3", "live views database"),
                      (f"sqlite:///{live.data}/events.sqlite3", "event store's database")):
        line = one_line_error(altlas(env, "audit", "replay", "--until", until, "--into", into))
        assert line.startswith("altlas: the replay target ") and why in line, line
    assert live.state() == before


def test_over_http_only_an_admin_replays_and_never_into_the_live_views(live: Live) -> None:
    before = live.state()
    until = live.until.isoformat()
    fresh = f"sqlite:///{live.data}/http.sqlite3"
    with TestClient(live.system.api()) as client:
        for who in ("alice", "erin"):  # an auditor who operates, a requester
            r = client.post("/audit/replay", json={"until": until, "into": fresh},
                            headers={"Authorization": f"Bearer tok-{who}"})
            assert (r.status_code, r.json()["error"]) == (403, "forbidden"), r.text
            assert "needs the admin role" in r.json()["message"]
        assert not (live.data / "http.sqlite3").exists()
        admin = {"Authorization": "Bearer tok-ada"}
        for into in (f"sqlite:///{live.data}/views.sqlite3",
                     f"sqlite:///{live.data}/./views.sqlite3",
                     f"sqlite:///{live.data}/events.sqlite3", "sqlite:///views.sqlite3"):
            r = client.post("/audit/replay", json={"until": until, "into": into}, headers=admin)
            assert (r.status_code, r.json()["error"]) == (422, "replay_target"), r.text
        ok = client.post("/audit/replay", json={"until": until, "into": fresh}, headers=admin)
        assert ok.status_code == 200 and ok.json()["replayed"] > 0, ok.text
        assert verified_over_http(client, admin)["ok"] is True
    assert live.state() == before


# -- PostgreSQL ---------------------------------------------------------------------------

@pytest.fixture
def pg_live(postgres_url: str, pg_schema: str, tmp_path: Path  # noqa: F811
            ) -> Iterator[Live]:
    backend = PostgresBackend(postgres_url, pg_schema)
    system = bootstrap(backend.settings().model_copy(update={"data_dir": tmp_path / "data"}))
    until = _journey(system, tmp_path / "maintenance.flag")
    yield Live(system, tmp_path / "data", until)
    system.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        for extra in ("f", "r"):
            conn.execute(f"DROP SCHEMA IF EXISTS {pg_schema}{extra} CASCADE")


def _respell(url: str, schema: str) -> dict[str, str]:
    rest = url.split("://", 1)[1]  # altlas:altlas@127.0.0.1:55432/altlas_test
    return {
        "as configured": f"postgresql://{rest}?schema={schema}",
        "localhost": f"postgresql://{rest.replace('127.0.0.1', 'localhost')}?schema={schema}",
        "LOCALHOST": f"postgresql://{rest.replace('127.0.0.1', 'LOCALHOST')}?schema={schema}",
        "psycopg driver": f"postgresql+psycopg://{rest}?schema={schema}",
        "postgres scheme": f"postgres://{rest}?schema={schema}",
        "extra parameters": f"postgresql://{rest}?sslmode=disable&schema={schema}"
                            "&application_name=replay&connect_timeout=5",
        "schema twice": f"postgresql://{rest}?schema={schema}&schema=other",
        "escaped user": "postgresql://%61ltlas" + rest[rest.index(":"):] + f"?schema={schema}",
        "escaped database": f"postgresql://{rest.replace('/altlas_test', '/altlas%5Ftest')}"
                            f"?schema={schema}",
        "ipv4-mapped ipv6": f"postgresql://{rest.replace('127.0.0.1', '[::ffff:127.0.0.1]')}"
                                    f"?schema={schema}",
    }


@pytest.mark.parametrize("spelling", list(_respell("x://a:b@127.0.0.1:1/altlas_test", "s")))
def test_the_live_postgresql_views_are_refused_however_they_are_spelled(
        pg_live: Live, postgres_url: str, pg_schema: str, spelling: str) -> None:  # noqa: F811
    into = _respell(postgres_url, f"{pg_schema}v")[spelling]
    before = pg_live.state()
    with pytest.raises(ReplayTargetError) as refusal:
        pg_live.system.auditor().replay(pg_live.until, into)
    message = str(refusal.value)
    assert ("is the live views database" in message or "cannot connect" in message), message
    if spelling in ("as configured", "localhost", "psycopg driver", "postgres scheme",
                    "extra parameters", "escaped user"):
        assert f"database altlas_test, schema {pg_schema}v is the live views" in message
    assert "altlas:altlas" not in message
    assert pg_live.state() == before


def test_the_postgresql_store_a_foreign_schema_and_a_broken_url_are_refused(
        pg_live: Live, postgres_url: str, pg_schema: str) -> None:  # noqa: F811
    spell = _respell(postgres_url, pg_schema)
    pg_live.refused(spell["as configured"], f"schema {pg_schema} is the event store's database")
    pg_live.refused(spell["localhost"], "is the event store's database")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {pg_schema}f")
        conn.execute(f"CREATE TABLE {pg_schema}f.invoices (id int primary key)")
    pg_live.refused(_respell(postgres_url, f"{pg_schema}f")["localhost"],
                    "is not empty and is not an earlier replay (it holds invoices)")
    pg_live.refused(f"{postgres_url}/?schema={pg_schema}v", "cannot connect to the replay target")
    pg_live.refused(f"{postgres_url}?schema=Bad-Name", "must be lowercase letters")
    pg_live.refused(f"postgresql+asyncpg://{postgres_url.split('://', 1)[1]}?schema={pg_schema}r")


def test_a_fresh_postgresql_schema_and_an_earlier_replay_still_work(
        pg_live: Live, postgres_url: str, pg_schema: str) -> None:  # noqa: F811
    before = pg_live.state()
    into = _respell(postgres_url, f"{pg_schema}r")["localhost"]
    auditor = pg_live.system.auditor()
    first = auditor.replay(pg_live.until, into)
    assert first["replayed"] > 0 and "altlas:altlas" not in first["into"]
    again = auditor.replay(datetime.now(UTC), _respell(postgres_url, f"{pg_schema}r")[
        "psycopg driver"])
    assert again["replayed"] > first["replayed"]
    assert pg_live.state() == before
