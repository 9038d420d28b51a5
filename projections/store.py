"""The read-model database: opened from a URL, migrated by alembic to the current schema."""

from __future__ import annotations

import fcntl
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
DDL_LOCK_KEY = 0x616C746C6173_01  # fixed; taken only by altlas processes
# The newest revision in migrations/versions (a unit test holds it to alembic's own head):
# views already there are used without importing alembic, a fifth of a second per command.
HEAD_REVISION = "0016"


class ViewStoreError(Exception):
    """The view database cannot be opened; the message says what to fix."""


def alembic_config() -> Config:
    from alembic.config import Config  # alembic loads only when a database is opened

    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    return config


def open_engine(url: str, *, create_schema: bool = True, pooled: bool = True,
                connect_timeout: int | None = None) -> Engine:
    """An engine for ``sqlite:///PATH`` or ``postgresql://…[?schema=NAME]``.

    A PostgreSQL schema is created if absent (unless ``create_schema`` is false: to look at
    a database without changing it) and set as the search path, so the views, their
    positions and alembic's version table all live in it. Unpooled, each connection is
    closed when returned (for a look that should leave nothing open). ``connect_timeout``:
    seconds a PostgreSQL server has to answer (default: libpq's, no limit).
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")
            dbapi_conn.execute("PRAGMA busy_timeout=30000")

        return engine
    if parts.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        query = parse_qs(parts.query)
        schema = query.pop("schema", [None])[0]
        if schema is not None and not _SCHEMA.match(schema):
            raise ViewStoreError(f"schema {schema!r} must be lowercase letters, digits and _")
        bare = urlunsplit(("postgresql+psycopg", parts.netloc, parts.path, "", ""))
        connect_args: dict[str, Any] = {"options": f"-csearch_path={schema}"} if schema else {}
        if connect_timeout is not None:
            connect_args["connect_timeout"] = connect_timeout
        pool: dict[str, Any] = {"pool_pre_ping": True} if pooled else {"poolclass": NullPool}
        engine = create_engine(bare, connect_args=connect_args, **pool)
        if schema and create_schema:
            with engine.begin() as conn:
                _serialise_ddl(conn)
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        return engine
    raise ViewStoreError("views database URL must be sqlite:///PATH or postgresql://…, not "
                         f"{parts.scheme or 'a bare'}: (a URL of another kind)")


_MIGRATING = threading.Lock()  # alembic's context is global to the process


def migrate(engine: Engine) -> None:
    """Bring the view tables to the newest schema (idempotent), one migrator at a time:
    threads of this process take turns, and processes starting together on the same
    database wait for each other (a file lock beside a SQLite file, an advisory lock in
    PostgreSQL), so the tables are never created twice."""
    if at_head(engine):
        return
    from alembic import command

    config = alembic_config()
    with _MIGRATING, _file_lock(engine), engine.begin() as conn:
        _serialise_ddl(conn)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def at_head(engine: Engine) -> bool:
    """Whether the views are at HEAD_REVISION already (a views database is only ever
    migrated forward, so nothing is left to do then)."""
    try:
        with engine.connect() as conn:
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return list(found) == [HEAD_REVISION]
    except SQLAlchemyError:  # no version table yet: a new database
        return False


def create_tables(engine: Engine, metadata: MetaData) -> None:
    """Tables kept beside the events (relay state, worker leases), created once however
    many processes start together, as migrate() does for the views."""
    with _MIGRATING, _file_lock(engine), engine.begin() as conn:
        _serialise_ddl(conn)
        metadata.create_all(conn)


@contextmanager
def _file_lock(engine: Engine) -> Iterator[None]:
    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _serialise_ddl(conn: Connection) -> None:
    """PostgreSQL's CREATE ... IF NOT EXISTS races with itself ("tuple concurrently
    updated"), so processes starting together take turns until the transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": DDL_LOCK_KEY})
