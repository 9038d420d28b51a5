"""The event store's table read as plain SQL, for what needs no event decoded: where the
store ends, whether its events are stored in clear, and whether an aggregate recorded an
event of a kind. The library's own recorder is for everything else."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from uuid import UUID

from sqlalchemy import Engine, text

SQLITE_TABLE = "stored_events"  # the library's SQLite table
POSTGRES_TABLE = "altlas_events"  # the library's: the application's name, then _events


def in_clear(state: bytes) -> bool:
    """The library's JSON, as recorded without a cipher (ciphertext never parses as it)."""
    try:
        return isinstance(json.loads(state), dict)
    except ValueError:
        return False


def sqlite_end(path: Path, table: str = SQLITE_TABLE) -> int:
    """The last position of the SQLite store at ``path``, through a connection of its own,
    as it sees the file now. Never open() the file itself: closing any descriptor of it
    drops the SQLite locks this process holds on it (SQLite's documented caveat)."""
    with contextlib.closing(_read_only(path)) as conn:
        return _end(conn, table)


def sqlite_ends(path: Path) -> tuple[int, bool]:
    """The store's last position, and whether its first and last events are in clear."""
    with contextlib.closing(_read_only(path)) as conn:
        end = _end(conn, SQLITE_TABLE)
        states = conn.execute(f"SELECT state FROM {SQLITE_TABLE} WHERE rowid IN "
                              f"((SELECT MIN(rowid) FROM {SQLITE_TABLE}), ?)", (end,))
        return end, all(in_clear(row[0]) for row in states)


def postgres_ends(engine: Engine) -> tuple[int, bool]:
    """As `sqlite_ends`, for the PostgreSQL store ``engine`` reaches (its schema first on
    the search path)."""
    with engine.connect() as conn:
        end = int(conn.execute(text(
            f"SELECT COALESCE(MAX(notification_id), 0) FROM {POSTGRES_TABLE}")).scalar_one())
        states = conn.execute(text(
            f"SELECT state FROM {POSTGRES_TABLE} WHERE notification_id IN "
            f"((SELECT MIN(notification_id) FROM {POSTGRES_TABLE}), :end)"), {"end": end})
        return end, all(in_clear(bytes(row[0])) for row in states)


def recorded(engine: Engine, originator_id: UUID, topic_end: str) -> bool:
    """Whether the store ``engine`` reaches holds an event of ``originator_id`` whose topic
    ends with ``topic_end`` (under any module name the topic was registered with)."""
    if engine.dialect.name == "sqlite":  # the library keeps a UUID's hex there
        query, ident = (f"SELECT 1 FROM {SQLITE_TABLE} WHERE originator_id = :id "
                        "AND topic LIKE :topic LIMIT 1"), originator_id.hex
    else:
        query, ident = (f"SELECT 1 FROM {POSTGRES_TABLE} WHERE originator_id = "
                        "CAST(:id AS uuid) AND topic LIKE :topic LIMIT 1"), str(originator_id)
    with engine.connect() as conn:
        found = conn.execute(text(query), {"id": ident, "topic": f"%{topic_end}"}).first()
    return found is not None


def _end(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}").fetchone()[0])


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
