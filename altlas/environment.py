"""Where the stores and the policy are, read from the environment with the standard library
alone.

`Settings` (altlas/settings.py) stays the one settings object and uses these functions for
the same variables. A read of the views (altlas/quick_reads.py) needs only these variables; it
reads them here, without pydantic's tenth of a second, when the environment sets no other
ALTLAS_ variable and these pass the checks `Settings` makes (`Locations.of`). Otherwise
the command reads `Settings`, which reports what is wrong in its own words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

INSTALLATION_POLICY = "policy.yaml"  # in the data dir: the one `altlas init` writes
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
PREFIX = "ALTLAS_"
_READ = {"ALTLAS_DATA_DIR", "ALTLAS_DATABASE_URL", "ALTLAS_VIEWS_DATABASE_URL",
         "ALTLAS_LOG_LEVEL", "ALTLAS_POLICY_FILE"}


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("altlas"))


class DatabaseURL:
    def __init__(self, host: str, port: int, user: str, password: str, dbname: str,
                 schema: str | None) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.dbname, self.schema = dbname, schema

    def redacted(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"


def parse_database_url(url: str) -> DatabaseURL:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ValueError(
            "must start with postgresql:// (unset it to use the embedded SQLite store)")
    try:
        port = parts.port or 5432
    except ValueError:
        raise ValueError("has a port that is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError("names no host; use postgresql://USER:PASSWORD@HOST:PORT/DBNAME")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or "/" in dbname:
        raise ValueError("names no database; use postgresql://USER:PASSWORD@HOST:PORT/DBNAME")
    if not parts.username:
        raise ValueError("names no user; use postgresql://USER:PASSWORD@HOST:PORT/DBNAME")
    query = parse_qs(parts.query)
    unknown = set(query) - {"schema"}
    if unknown:
        raise ValueError(
            f"has unknown parameter(s) {', '.join(sorted(unknown))}; only schema= is read")
    schema = query.get("schema", [None])[0]
    return DatabaseURL(parts.hostname, port, unquote(parts.username),
                       unquote(parts.password or ""), dbname, schema)


def checked_views_url(url: str) -> str:
    """ALTLAS_VIEWS_DATABASE_URL: a SQLite file, or PostgreSQL as the store's URL is."""
    if not url.startswith("sqlite:///"):
        parse_database_url(url)
    return url


def events_url(data_dir: Path, database_url: str | None) -> str:
    """The event store's database, for the tables kept beside the events (relay state)."""
    if database_url is None:
        return f"sqlite:///{data_dir / 'events.sqlite3'}"
    return database_url


def store_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    """The eventsourcing library's settings that say where the event store is."""
    if database_url is None:
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(data_dir / "events.sqlite3"), "SQLITE_LOCK_TIMEOUT": "30"}
    db = parse_database_url(database_url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": db.dbname,
        "POSTGRES_HOST": db.host,
        "POSTGRES_PORT": str(db.port),
        "POSTGRES_USER": db.user,
        "POSTGRES_PASSWORD": db.password,
        "POSTGRES_CONNECT_TIMEOUT": "5",
        # On in 9.5.6 it interleaves notification ids of concurrent transactions,
        # which would make a log-tailing relay skip events.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }
    if db.schema:
        env["POSTGRES_SCHEMA"] = db.schema
    return env


def views_url(data_dir: Path, database_url: str | None, views_database_url: str | None
              ) -> str:
    if views_database_url is not None:
        return views_database_url
    if database_url is None:
        return f"sqlite:///{data_dir / 'views.sqlite3'}"
    store = parse_database_url(database_url).schema
    # Two stores in one database keep two sets of views.
    schema = f"{store}_views" if store else "altlas_views"
    return database_url.split("?", 1)[0] + f"?schema={schema}"


@dataclass(frozen=True)
class Locations:
    """The stores of an installation whose environment sets nothing a read would ignore."""

    data_dir: Path
    database_url: str | None
    views_database_url: str | None
    log_level: str | None
    policy_file: Path | None  # ALTLAS_POLICY_FILE, else the installation's, if any

    @classmethod
    def of(cls, environ: Mapping[str, str]) -> Locations | None:
        """These settings, checked as `Settings` checks them; None when the environment
        sets another ALTLAS_ variable or a value fails a check (`Settings` says which)."""
        named = {k for k in environ if k.upper().startswith(PREFIX)}
        if not named <= _READ or any(not environ[k].strip() for k in named):
            return None
        database_url = environ.get("ALTLAS_DATABASE_URL")
        views = environ.get("ALTLAS_VIEWS_DATABASE_URL")
        level = environ.get("ALTLAS_LOG_LEVEL")
        try:
            if database_url is not None:
                parse_database_url(database_url)
            if views is not None:
                checked_views_url(views)
        except ValueError:
            return None
        if level is not None and level.upper() not in LOG_LEVELS:
            return None
        data_dir = Path(environ["ALTLAS_DATA_DIR"]) if "ALTLAS_DATA_DIR" in environ else (
            default_data_dir())
        policy = environ.get("ALTLAS_POLICY_FILE")
        installed = data_dir / INSTALLATION_POLICY
        policy_file = Path(policy) if policy else installed if installed.is_file() else None
        return cls(data_dir, database_url, views, level and level.upper(), policy_file)

    def events_sql_url(self) -> str:
        return events_url(self.data_dir, self.database_url)

    def views_sql_url(self) -> str:
        return views_url(self.data_dir, self.database_url, self.views_database_url)

    def store_env(self) -> dict[str, str]:
        return store_env(self.data_dir, self.database_url)

    def level_for(self, server: bool) -> str:
        return level_for(self.log_level, server)


def level_for(configured: str | None, server: bool) -> str:
    """The log level of a process: the configured one, else by what the process is."""
    return configured or ("INFO" if server else "WARNING")
