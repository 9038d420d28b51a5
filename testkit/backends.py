"""One way to open altlas per event-store backend, so contract tests run on each."""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.ports import Clock, system_clock
from testkit.helpers import FakeClock


class Backend(ABC):
    @abstractmethod
    def settings(self) -> Settings: ...

    @abstractmethod
    def execute(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        """Run SQL straight against the store, as an attacker or a broken disk would."""

    @property
    @abstractmethod
    def events_table(self) -> str: ...

    def open(self, clock: Clock = system_clock) -> System:
        return bootstrap(self.settings(), clock=clock)


class SQLiteBackend(Backend):
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, database_url=None, views_database_url=None,
                        segmenter="rules")

    events_table = "stored_events"

    def execute(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(self.data_dir / "events.sqlite3")
        try:
            rows = conn.execute(sql.replace("%s", "?"), params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()


class PostgresBackend(Backend):
    def __init__(self, url: str, schema: str) -> None:
        self.url, self.schema = url, schema

    def settings(self) -> Settings:
        return Settings(database_url=f"{self.url}?schema={self.schema}",
                        views_database_url=f"{self.url}?schema={self.schema}v",
                        segmenter="rules")

    @property
    def events_table(self) -> str:
        return f"{self.schema}.altlas_events"

    def execute(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []


# Mix one of these into a contract class to run its tests against that backend.
class OnSQLite:
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Backend:
        return SQLiteBackend(tmp_path)


class OnPostgres:
    @pytest.fixture
    def backend(self, postgres_url: str, pg_schema: str) -> Backend:
        return PostgresBackend(postgres_url, pg_schema)


class ClockedSystem:
    """A contract's system on its backend, on a clock the test moves."""

    @pytest.fixture
    def clock(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture
    def system(self, backend: Backend, clock: FakeClock) -> Iterator[System]:
        system = backend.open(clock)
        yield system
        system.close()
