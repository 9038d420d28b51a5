"""The command line's reads over the views alone, when they can answer exactly as the whole
system would: no application built, no policy loaded, and the event store opened only by the
reads of what it holds (`events`, `run show`), through the library's own application.

That is when the environment names only where the stores are and the policy (`Locations.of`),
the policy file holds a text found valid before (adapters/policy_record.py), the store
keeps its events in clear (the start-up check would otherwise decide about the cipher key),
and the views have applied every event the store holds (`current_views`: the catch-up a
read does first would change nothing, and the store lost nothing they saw). Otherwise the
command goes through `bootstrap`, which checks, catches up and reports as it always did."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from adapters.event_table import postgres_ends, recorded, sqlite_ends
from adapters.person_keys import SqlPersonKeys, person_keys
from adapters.policy_record import known_valid
from altlas.environment import Locations
from application.privacy import Privacy
from application.reads import ViewReads
from domain.people import erasure_id
from projections.queries import SqlReadModels
from projections.reader import current_views
from projections.store import ViewStoreError, open_engine

if TYPE_CHECKING:
    from application.history import EventHistory
    from application.stored import RecordedStore, StoredViews

CONNECT_TIMEOUT = 5  # seconds, as bootstrap gives PostgreSQL
# The topic's end of domain/erasure.py's Erasure.Forgotten, whichever module name begins it
FORGOTTEN = ":Erasure.Forgotten"


class QuickReads(ViewReads):
    """The reads of the command line, which reads with its own access to the store."""

    def __init__(self, views: Engine, events: Engine, store_env: Mapping[str, str]) -> None:
        self._engines = (views, events)
        self._store_env = store_env
        self._store: RecordedStore | None = None  # opened by the reads of the store alone
        # as the application's: a key put back after its person was forgotten is not believed
        self._privacy = Privacy(SqlPersonKeys(events), forgotten=lambda pseudonym: recorded(
            events, erasure_id(pseudonym), FORGOTTEN))
        self._reads = SqlReadModels(lambda: views)

    def _people(self) -> Privacy:
        return self._privacy

    def now(self) -> datetime:
        return datetime.now(UTC)

    def _may(self, who: str | None, action: str) -> None:
        if who is not None:
            raise ValueError(f"{who} may not {action} here: a quick read is the command "
                             "line's own")

    def _views(self, who: str | None, as_of: datetime | None) -> SqlReadModels:
        if as_of is not None:
            raise ValueError("the views as of a time are replayed through the whole system")
        return self._reads

    def _kind_of(self, ident: UUID) -> str | None:
        """From the timeline, which holds every event the store does (`current_views`)."""
        whole = str(ident)
        return next((kind for kind, found in self._reads.resolve(whole) if found == whole),
                    None)

    def _history(self) -> EventHistory:
        from application.history import EventHistory

        return EventHistory(self._recorded_store())

    def _aggregates(self) -> StoredViews:
        from application.stored import StoredViews

        return StoredViews(self._recorded_store().repository, self._privacy)

    def _recorded_store(self) -> RecordedStore:
        if self._store is None:
            from application.stored import RecordedStore

            self._store = RecordedStore(self._store_env)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        for engine in self._engines:
            engine.dispose()


def open_quick(environ: Mapping[str, str]) -> QuickReads | None:
    """The views of the installation ``environ`` names, if a read of them alone shows what
    the whole system would; else None."""
    where = Locations.of(environ)
    if where is None or (where.policy_file is not None
                         and not known_valid(where.policy_file, where.data_dir)):
        return None  # a policy file not found valid before is loaded, and checked
    opened: list[Engine] = []
    try:
        if where.database_url is None:
            path = where.data_dir / "events.sqlite3"
            if not path.is_file():
                return None  # a new installation: bootstrap creates the store
            end, clear = sqlite_ends(path)
            events = open_engine(where.events_sql_url())
            opened.append(events)
        else:
            events = open_engine(where.events_sql_url(), create_schema=False, pooled=False,
                                 connect_timeout=CONNECT_TIMEOUT)
            opened.append(events)
            end, clear = postgres_ends(events)
        views = open_engine(where.views_sql_url(), create_schema=False, pooled=False,
                            connect_timeout=CONNECT_TIMEOUT)
        opened.append(views)
        if clear and current_views(views, end) and _has_keys(events):
            return QuickReads(views, events, where.store_env())
    except (SQLAlchemyError, sqlite3.Error, OSError, ViewStoreError):
        pass  # bootstrap says what is wrong, in its words
    for engine in opened:
        engine.dispose()
    return None


def _has_keys(events: Engine) -> bool:
    """The people's keys' table, which bootstrap creates beside the events."""
    try:
        with events.connect() as conn:
            conn.execute(text(f"SELECT 1 FROM {person_keys.name} LIMIT 1"))
    except SQLAlchemyError:
        return False
    return True
