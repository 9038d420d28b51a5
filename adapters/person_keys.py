"""Each person's pseudonym and key, in a table beside the events in the store's database
(application.ports.PersonKeys); never in an event, never on the topic.

Forgetting deletes the person's row and makes the database let go of its bytes: SQLite
overwrites the deleted content (secure_delete) and empties its write-ahead log; PostgreSQL
rewrites the table (VACUUM FULL), though its WAL archives and backups keep the bytes until
they rotate. A table someone dropped reads as no keys at all (everyone shows as erased)
and is made again on the next new person.

Under encryption at rest (a ``KeyTableSeal``, adapters/person_key_seal.py) the ``name`` column
holds a keyed HMAC of the name and ``key`` the row sealed with the installation key (name and
key together); rows an earlier release wrote in clear are sealed in place at start-up
(``seal_rows``), and a row in clear found later is not trusted: it reads as no one.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.person_key_seal import (
    CLEAR_KEY_BYTES,
    KeyTableSeal,
    UnsealableRowError,
    is_sealed,
)
from application.ports import PersonKey

log = logging.getLogger("altlas.privacy")

metadata = MetaData()
person_keys = Table(
    "altlas_person_keys", metadata,
    Column("pseudonym", String(20), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("key", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
_CHUNK = 500  # pseudonyms per query


def _missing_table(error: DBAPIError) -> bool:
    """SQLite's "no such table", PostgreSQL's undefined_table."""
    return "no such table" in str(error.orig) or getattr(error.orig, "sqlstate", "") == "42P01"


class SqlPersonKeys:
    """Its table (``metadata``) is created by the composition root before first use; with
    ``seal``, every row is sealed with the installation key."""

    def __init__(self, engine: Engine, seal: KeyTableSeal | None = None) -> None:
        self.engine = engine
        self.seal = seal

    def enrol(self, candidate: PersonKey) -> PersonKey:
        row = {"pseudonym": candidate.pseudonym, **self._stored(candidate),
               "created_at": datetime.now(UTC)}
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    conn.execute(person_keys.insert().values(**row))
                return candidate
            except IntegrityError:  # another process enrolled them first
                found = self.named(candidate.name)
                if found is not None:
                    return found
            except DBAPIError as e:
                if attempt == 2 or not _missing_table(e):
                    raise
                log.warning("the table of person keys is gone: making it again; the people "
                            "it held read as erased")
                metadata.create_all(self.engine)
        raise RuntimeError(f"could not enrol {candidate.pseudonym}")

    def named(self, name: str) -> PersonKey | None:
        found = self.seal.lookup(name) if self.seal else name
        rows = self._select(select(person_keys).where(person_keys.c.name == found))
        return next((p for p in rows if p.name == name), None)

    def known(self, pseudonyms: Collection[str]) -> dict[str, PersonKey]:
        wanted = sorted(pseudonyms)
        out: dict[str, PersonKey] = {}
        for i in range(0, len(wanted), _CHUNK):
            query = select(person_keys).where(person_keys.c.pseudonym.in_(wanted[i:i + _CHUNK]))
            out.update((p.pseudonym, p) for p in self._select(query))
        return out

    def forget(self, pseudonym: str) -> bool:
        try:
            with self.engine.begin() as conn:
                self._secure(conn)
                gone = conn.execute(delete(person_keys).where(
                    person_keys.c.pseudonym == pseudonym)).rowcount
        except DBAPIError as e:
            if not _missing_table(e):
                raise
            return False
        self._let_go()
        return bool(gone)

    def _select(self, query: object) -> list[PersonKey]:
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()  # type: ignore[call-overload]
        except DBAPIError as e:
            if not _missing_table(e):
                raise
            log.warning("the table of person keys is gone: everyone reads as erased")
            return []
        return [p for p in (self._read(r.pseudonym, r.name, bytes(r.key)) for r in rows)
                if p is not None]

    def seal_rows(self) -> int:
        """Seal the rows written in clear (by a release before sealing, or before
        encryption was asked for), in place, and let their clear bytes go; how many."""
        assert self.seal is not None
        with self.engine.begin() as conn:
            self._secure(conn)
            rows = conn.execute(select(person_keys).where(  # a sealed row is longer
                func.length(person_keys.c.key) == CLEAR_KEY_BYTES)).all()
            for r in rows:
                conn.execute(person_keys.update().where(
                    person_keys.c.pseudonym == r.pseudonym).values(
                    **self._stored(PersonKey(r.pseudonym, r.name, bytes(r.key)))))
        if rows:
            self._let_go()
            log.warning("sealed %d person key(s) that were stored in clear", len(rows))
        return len(rows)

    def _stored(self, person: PersonKey) -> dict[str, object]:
        """The ``name`` and ``key`` columns of a person's row."""
        if self.seal is None:
            return {"name": person.name, "key": person.key}
        return {"name": self.seal.lookup(person.name), "key": self.seal.seal(person)}

    def _read(self, pseudonym: str, name: str, key: bytes) -> PersonKey | None:
        if self.seal is None:
            if is_sealed(key):
                raise UnsealableRowError("the person keys are sealed: set ALTLAS_CIPHER_KEY "
                                         "to the installation key that sealed them")
            return PersonKey(pseudonym, name, key)
        try:
            return self.seal.open(pseudonym, key)
        except UnsealableRowError as e:
            log.warning("%s: it reads as no one", e)
            return None

    def _secure(self, conn: Connection) -> None:
        if conn.dialect.name == "sqlite":
            conn.execute(text("PRAGMA secure_delete=ON"))

    def _let_go(self) -> None:
        """The deleted row's bytes, gone from the files too."""
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            if conn.dialect.name == "sqlite":
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            else:
                conn.execute(text(f"VACUUM FULL {person_keys.name}"))
