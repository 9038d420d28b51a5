"""Where a replay may write: a new file in the data directory, a fresh PostgreSQL database
or schema, or an earlier replay; never the live views, never the event store.

Decided by what the target is, never by how its URL is spelled: a SQLite target is the file
its path resolves to (symlinks, `..` and relative paths followed, hard links caught by the
inode); a PostgreSQL target is the server (its system identifier), database and schema a
connection made exactly as the replay would make it lands in. Then by what it holds: the
event store's tables, the live views' marker (their genesis checkpoint), or anything at all
that is not an earlier replay, and it is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Connection, Engine, create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from domain.errors import InvalidInputError
from domain.secrets import redact
from projections.schema import store_checkpoints
from projections.store import ViewStoreError, open_engine
from streams.checkpoints import REPLAY, STORE

_SIDE_FILES = ("-wal", "-shm", "-journal", ".lock")
# Columns only an event store's tables (or the tables kept beside its events) have.
_STORE_COLUMNS = {"originator_id", "notification_id", "application_name"}
_STORE_TABLES = {"altlas_relay_positions", "altlas_relay_checkpoints", "altlas_workers",
                 "altlas_person_keys"}


@dataclass(frozen=True)
class Place:
    """What a database is, found by opening it."""

    key: tuple[object, ...]
    label: str  # for messages: never a password

    def same(self, other: Place) -> bool:
        return self.key == other.key


@dataclass(frozen=True)
class Holding:
    """What a database holds, as far as a replay cares."""

    tables: frozenset[str]
    store_tables: frozenset[str]
    sources: frozenset[str]  # of its checkpoints

    @property
    def empty(self) -> bool:
        return not self.tables


_EMPTY = Holding(frozenset(), frozenset(), frozenset())


class ReplayTargets:
    """Decides whether a replay may write into a database."""

    def __init__(self, data_dir: Path, live_views: str, store: str) -> None:
        self.data_dir = data_dir
        self.live_views = live_views
        self.store = store

    def check(self, url: str) -> None:
        """Raise ReplayTargetError unless ``url`` is a fresh database, an earlier replay or
        a new file inside the data directory; looks, changes nothing."""
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError as e:  # say, an unclosed [ of an IPv6 address
            raise ReplayTargetError(f"the replay target is not a URL: {e}") from None
        if scheme == "sqlite":
            path = self._inside(_sqlite_path(url))
            place = _file_place(path)
            self._not_live(place)
            holding = _sqlite_holding(path)
        elif scheme in ("postgresql", "postgres", "postgresql+psycopg"):
            place, holding = _postgres(url)
            self._not_live(place)
        else:
            raise ReplayTargetError(f"the replay target must be sqlite:///PATH inside the data "
                                    f"directory or postgresql://…, not {scheme or 'a bare'}:"
                                    " (a URL of another kind)")
        if holding.store_tables:
            raise ReplayTargetError(
                f"the replay target {place.label} holds an event store's tables "
                f"({', '.join(sorted(holding.store_tables))}); choose a fresh one")
        if STORE in holding.sources:
            raise ReplayTargetError(f"the replay target {place.label} is the live views "
                                    "database of an altlas (it carries their marker)")
        if not holding.empty and REPLAY not in holding.sources:
            raise ReplayTargetError(
                f"the replay target {place.label} is not empty and is not an earlier replay "
                f"(it holds {', '.join(sorted(holding.tables)[:5])}); choose a fresh one")

    def _not_live(self, place: Place) -> None:
        for url, what in ((self.live_views, "the live views database"),
                          (self.store, "the event store's database")):
            if place.same(_place(url)):
                raise ReplayTargetError(f"the replay target {place.label} is {what}; a "
                                        "replay writes into a new file or a fresh schema")

    def _inside(self, path: Path) -> Path:
        root = self.data_dir.resolve()
        if not path.is_relative_to(root):
            raise ReplayTargetError(f"the replay target {path} is outside the data directory "
                                    f"{root}; a SQLite replay goes inside it")
        if path.name.endswith(_SIDE_FILES):
            raise ReplayTargetError(f"the replay target {path} is one of SQLite's own side "
                                    "files; name a .sqlite3 file")
        if path.exists() and not path.is_file():
            raise ReplayTargetError(f"the replay target {path} is not a file")
        return path


def _sqlite_holding(path: Path) -> Holding:
    if not path.exists() or path.stat().st_size == 0:
        return _EMPTY
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return _holding(conn)
    except SQLAlchemyError:
        raise ReplayTargetError(f"the replay target {path} is not a SQLite database "
                                "altlas can read") from None
    finally:
        engine.dispose()


def _sqlite_path(url: str) -> Path:
    """The file SQLAlchemy opens for ``url`` (it decodes %-escapes), resolved."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        parsed = None
    raw = parsed.database if parsed is not None else None
    if (parsed is None or parsed.drivername != "sqlite" or parsed.query or not raw
            or raw == ":memory:" or raw.startswith("file:") or "#" in raw):
        raise ReplayTargetError("a SQLite replay target is sqlite:///PATH (a file, no "
                                "parameters)")
    return Path(os.path.abspath(raw)).resolve()


def _place(url: str) -> Place:
    """Where ``url`` lands, as a replay would open it."""
    if urlsplit(url).scheme.lower() == "sqlite":
        return _file_place(_sqlite_path(url))
    return _postgres(url, holding=False)[0]


def _file_place(path: Path) -> Place:
    if path.exists():
        st = path.stat()
        return Place(("sqlite", st.st_dev, st.st_ino), str(path))
    return Place(("sqlite", str(path)), str(path))


def _postgres(url: str, *, holding: bool = True) -> tuple[Place, Holding]:
    try:
        engine = open_engine(url, create_schema=False, pooled=False)
    except ViewStoreError as e:
        raise ReplayTargetError(str(e)) from None
    except (ValueError, ArgumentError) as e:  # a port that is not a number, say
        raise ReplayTargetError("the replay target is not a PostgreSQL URL altlas can read: "
                                f"{redact(str(e))}; use postgresql://USER:PASSWORD@HOST:PORT/"
                                "DBNAME[?schema=NAME]") from None
    try:
        with engine.connect() as conn:
            database, current = conn.execute(text(
                "SELECT current_database(), current_schema()")).one()
            schema = current or _wanted_schema(url)  # none yet: the replay creates it
            label = f"database {database}, schema {schema}"
            found = _holding(conn) if holding and current else _EMPTY
            return Place((*_server(conn), database, schema), label), found
    except SQLAlchemyError as e:
        reason = redact(" ".join(str(e.__cause__ or e).split())[:200])
        raise ReplayTargetError(f"cannot connect to the replay target: {reason}") from None
    finally:
        engine.dispose()


def _wanted_schema(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("schema", ["public"])[0]


def _server(conn: Connection) -> tuple[object, ...]:
    """The server's identity: the cluster's system identifier (the same however it is
    reached), else its address as the server sees it."""
    try:
        with conn.begin_nested():
            return ("postgresql", conn.execute(text(
                "SELECT system_identifier FROM pg_control_system()")).scalar())
    except SQLAlchemyError:
        row = conn.execute(text("SELECT inet_server_addr()::text, inet_server_port()")).one()
        return ("postgresql", *row)


def _holding(conn: Connection) -> Holding:
    inspector = inspect(conn)
    tables = frozenset(inspector.get_table_names())
    store = {t for t in tables if t in _STORE_TABLES or _STORE_COLUMNS & {
        c["name"] for c in inspector.get_columns(t)}}
    sources: frozenset[str] = frozenset()
    if store_checkpoints.name in tables:
        sources = frozenset(str(s) for s in conn.execute(
            select(store_checkpoints.c.source).distinct()).scalars())
    return Holding(tables, frozenset(store), sources)


class ReplayTargetError(InvalidInputError):
    pass


def peek(url: str) -> Engine | None:
    """An engine on ``url`` that creates nothing (None for a SQLite file that does not
    exist): to read a views database without migrating it."""
    if urlsplit(url).scheme.lower() == "sqlite":
        path = make_url(url).database
        if not path or path == ":memory:" or not Path(path).is_file():
            return None
        return create_engine(url, poolclass=NullPool)
    return open_engine(url, create_schema=False, pooled=False)
