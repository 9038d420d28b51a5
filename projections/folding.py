"""How a projection folds a batch: the rows it touches loaded once, folded in memory, written
back in a few statements; the base class every projection derives from.

Every aggregate row keeps the version of the last event applied to it and an event only
takes effect if it is newer, so a re-delivered event (a relay retry, a consumer restart)
changes nothing.
"""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Dialect, Table, TextClause, bindparam, select, text, update
from sqlalchemy.dialects import sqlite

from domain.records import RecordedEvent

Row = dict[str, Any]


# The statements a projection runs with every batch, built once per table: building them
# cost a feed more than running them (bench/reactions.py).

@functools.cache
def _insert_ignore(table: Table) -> Any:
    return sqlite.insert(table).on_conflict_do_nothing()


@functools.cache
def _update(table: Table) -> tuple[Any, list[str], list[str]]:
    keys = [c.name for c in table.primary_key.columns]
    values = [c.name for c in table.columns if c.name not in keys]
    statement = (update(table)
                 .where(*[table.c[k] == bindparam(f"k_{k}") for k in keys])
                 .values({v: bindparam(f"v_{v}") for v in values}))
    return statement, keys, values


@functools.cache
def _select_in(table: Table, column: str) -> Any:
    return select(table).where(table.c[column].in_(bindparam("ids", expanding=True)))


# On PostgreSQL a batch's rows go as one JSON array expanded by the server
# (json_populate_recordset): one statement instead of one per row, twice as fast for a
# replay (bench/event_flow.py). SQLite, in process, takes executemany as fast.

@functools.cache
def _pg_insert(dialect: Dialect, table: Table) -> TextClause:
    q = dialect.identifier_preparer.quote
    name, columns = q(table.name), ", ".join(q(c.name) for c in table.columns)
    return text(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM "
                f"json_populate_recordset(NULL::{name}, CAST(:rows AS json)) "
                "ON CONFLICT DO NOTHING")


@functools.cache
def _pg_update(dialect: Dialect, table: Table) -> TextClause:
    q = dialect.identifier_preparer.quote
    name = q(table.name)
    keys = {c.name for c in table.primary_key.columns}
    sets = ", ".join(f"{q(c.name)} = x.{q(c.name)}" for c in table.columns if c.name not in keys)
    match = " AND ".join(f"t.{q(k)} = x.{q(k)}" for k in sorted(keys))
    return text(f"UPDATE {name} AS t SET {sets} FROM json_populate_recordset(NULL::{name}, "
                f"CAST(:rows AS json)) AS x WHERE {match}")


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"a view row cannot hold {type(value).__name__}")


def _recordset(rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {"rows": json.dumps(rows, default=_json_value, ensure_ascii=False)}


def insert_ignore(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows whose key does not exist yet; the others are left as they are."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_pg_insert(conn.dialect, table), _recordset(rows))
    else:
        conn.execute(_insert_ignore(table), list(rows))


def update_rows(conn: Connection, table: Table, rows: Iterable[Row]) -> None:
    """Write whole rows back by primary key, in one statement per batch."""
    rows = list(rows)
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(_pg_update(conn.dialect, table), _recordset(rows))
        return
    statement, keys, values = _update(table)
    conn.execute(statement, [{**{f"k_{k}": r[k] for k in keys},
                              **{f"v_{v}": r[v] for v in values}} for r in rows])


def load(conn: Connection, table: Table, column: str, ids: set[str]) -> dict[Any, Row]:
    """Rows whose ``column`` is one of ``ids``, keyed by primary key."""
    if not ids:
        return {}
    keys = [c.name for c in table.primary_key.columns]
    found = conn.execute(_select_in(table, column), {"ids": sorted(ids)})
    return {tuple(r._mapping[k] for k in keys) if len(keys) > 1 else r._mapping[keys[0]]:
            dict(r._mapping) for r in found}


class Projection(ABC):
    """A named view over events, owning its tables."""

    name: str
    tables: tuple[Table, ...]

    @abstractmethod
    def apply(self, conn: Connection, records: Sequence[RecordedEvent]) -> None:
        """Fold a batch of events, in order, into this projection's tables, in the caller's
        transaction."""


class Changes:
    """The rows one batch touches: loaded once, folded in memory, written once."""

    def __init__(self, rows: dict[Any, Row]) -> None:
        self.rows = rows
        self.new: set[Any] = set()
        self.dirty: set[Any] = set()

    def create(self, key: Any, row: Row) -> bool:
        if key in self.rows:
            return False
        self.rows[key] = row
        self.new.add(key)
        return True

    def newer(self, key: Any, version: int) -> Row | None:
        """The aggregate's row if this event is newer than what it shows, else None."""
        row = self.rows.get(key)
        if row is None or row["version"] >= version:
            return None
        row["version"] = version
        self.touch(key)
        return row

    def touch(self, key: Any) -> None:
        if key not in self.new:
            self.dirty.add(key)

    def write(self, conn: Connection, table: Table) -> None:
        insert_ignore(conn, table, [self.rows[k] for k in self.new])
        update_rows(conn, table, [self.rows[k] for k in self.dirty])
