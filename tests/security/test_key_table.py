"""The people's keys under encryption at rest, tried as someone holding a copy of the store's
database would: without the installation key a copy names no one and opens nothing; once a
person is forgotten, even the installation key opens nothing of theirs in the live store; and
rows moved, written in clear, or left in clear by an earlier release never stand for a person."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any, ClassVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.cryptography import AESCipher
from pydantic import SecretStr

from adapters.person_key_seal import KeyTableSeal, UnsealableRowError
from adapters.person_keys import SqlPersonKeys
from altlas.bootstrap import System, bootstrap
from application.ports import PersonKey
from application.use_cases import Filters
from projections.store import open_engine
from testkit.backends import Backend, OnPostgres, OnSQLite, SQLiteBackend
from tests.integration.conftest import (  # noqa: F401  (fixtures)
    pg_schema,
    postgres_url,
)
from tests.security.test_privacy import (
    ERASED,
    SECRET,
    PrivacySystem,
    alice_history,
    as_text,
    forget,
    keys_table,
    leaks,
)

KEY = AESCipher.create_key(32)
NAMES = (b"alice", b"bob", b"deniz", b"erin")


def rows(backend: Backend) -> list[tuple[Any, ...]]:
    """The key table as stored, read straight from the database."""
    return [(p, n, bytes(k)) for p, n, k in backend.execute(  # type: ignore[arg-type]
        f"SELECT pseudonym, name, key FROM {keys_table(backend)}")]


def opens(sealed_text: str, table: list[tuple[Any, ...]], seal: KeyTableSeal) -> bool:
    """Whether any key of ``table`` (opened with ``seal``) opens ``sealed_text``."""
    _, _, writer, data = sealed_text.split(":", 3)
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    for pseudonym, _, stored in table:
        try:
            key = seal.open(pseudonym, stored).key
            AESGCM(key).decrypt(raw[:12], raw[12:], writer.encode("ascii"))
            return True
        except (UnsealableRowError, InvalidTag):
            continue
    return False


def key_of(system: System, name: str) -> PersonKey:
    found = system.app.privacy.keys.named(name)
    assert found is not None, name
    return found


def in_clear(system: System) -> SqlPersonKeys:
    """The key table as a release before sealing wrote it."""
    return SqlPersonKeys(open_engine(system.settings.events_sql_url()))


def requested(system: System) -> str:
    """alice's request as the history records it (sealed with her key)."""
    return next(r.data["request"] for r in system.history.read()
                if r.type_name == "TaskRequested" and r.data["request"].startswith("enc:"))


class KeyTableContract(PrivacySystem):
    extra: ClassVar[dict[str, Any]] = {"cipher_key": SecretStr(KEY)}

    def test_the_key_table_names_no_one_and_holds_no_key_in_clear(
        self, system: System, backend: Backend, tmp_path: Path
    ) -> None:
        alice_history(system, tmp_path)
        alice = key_of(system, "alice")
        table = rows(backend)
        assert len(table) >= 4
        stored = repr(table).encode()
        assert not [n for n in NAMES if n in stored]
        assert all(alice.key not in k and alice.key.hex() not in str(k) for _, _, k in table)
        # and people are still found by name, after a restart too
        system.close()
        again = bootstrap(system.settings)
        try:
            assert again.app.privacy.find("alice") == alice.pseudonym
            assert SECRET in as_text(again.use_cases().tasks(None, Filters(limit=9)).items)
        finally:
            again.close()

    def test_a_copy_from_before_forgetting_opens_nothing_without_the_key_and_nothing_after(
        self, system: System, backend: Backend, tmp_path: Path
    ) -> None:
        alice_history(system, tmp_path)
        sealed = requested(system)
        alice = system.app.privacy.find("alice")
        copy = rows(backend)
        events = b"".join(bytes(s) for (s,) in backend.execute(  # type: ignore[misc]
            f"SELECT state FROM {backend.events_table}"))
        forget(system)
        # the copy, without the installation key: no name, no words, no key that opens them
        assert leaks(as_text([repr(copy), repr(events)])) == []
        assert not opens(sealed, copy, KeyTableSeal.of(AESCipher.create_key(32)))
        # the live store, with the installation key: nothing of alice's opens any more
        live = rows(backend)
        assert alice in {p for p, _, _ in copy} - {p for p, _, _ in live}
        assert not opens(sealed, live, KeyTableSeal.of(KEY))
        assert system.app.privacy.reveal(sealed) == "[erased]"
        # (the copy with the installation key still opens it: the trust model, README)
        assert opens(sealed, copy, KeyTableSeal.of(KEY))

    def test_keys_left_in_clear_by_an_earlier_release_are_sealed_at_start_up(
        self, system: System, backend: Backend, settings_of: Any, tmp_path: Path
    ) -> None:
        alice_history(system, tmp_path)
        people = system.app.privacy.keys.known([p for p, _, _ in rows(backend)])
        system.close()
        backend.execute(f"DELETE FROM {keys_table(backend)}")
        clear = in_clear(system)
        for person in people.values():
            clear.enrol(person)
        assert b"alice" in repr(rows(backend)).encode()
        again = bootstrap(settings_of())
        try:
            assert not [n for n in NAMES if n in repr(rows(backend)).encode()]
            if isinstance(backend, SQLiteBackend):  # nor in the file, its WAL included
                files = b"".join(f.read_bytes() for f in tmp_path.glob("events.sqlite3*"))
                assert b"alice" not in files
            assert again.app.privacy.find("alice") in people
            assert SECRET in as_text(again.use_cases().tasks(None, Filters(limit=9)).items)
            forget(again)
            assert leaks(as_text(again.use_cases().tasks(None, Filters(limit=9)).items)) == []
        finally:
            again.close()

    def test_a_row_moved_to_another_pseudonym_or_written_in_clear_stands_for_no_one(
        self, system: System, backend: Backend, tmp_path: Path
    ) -> None:
        """Someone with write access to the table swaps alice's sealed row onto deniz's
        pseudonym, and adds a row in clear naming mallory: neither is believed."""
        alice_history(system, tmp_path)
        keys = system.app.privacy.keys
        alice, deniz = key_of(system, "alice"), key_of(system, "deniz")
        table = keys_table(backend)
        [(stolen,)] = backend.execute(f"SELECT key FROM {table} WHERE pseudonym = ?",
                                      alice.pseudonym)
        backend.execute(f"UPDATE {table} SET key = ? WHERE pseudonym = ?", stolen,
                        deniz.pseudonym)
        in_clear(system).enrol(PersonKey("p-00000000beef", "mallory",
                                                          AESGCM.generate_key(256)))
        assert keys.known([deniz.pseudonym, "p-00000000beef"]) == {}
        assert keys.named("mallory") is None and keys.named("deniz") is None
        assert keys.named("alice") == alice


    def test_a_row_put_back_from_a_copy_after_forgetting_stays_forgotten(
        self, system: System, backend: Backend, tmp_path: Path
    ) -> None:
        """Someone with write access and a copy from before restores alice's row: altlas
        believes the history over the table, and destroys the row again."""
        theirs, _ = alice_history(system, tmp_path)
        alice = key_of(system, "alice")
        table = keys_table(backend)
        [row] = backend.execute(f"SELECT pseudonym, name, key, created_at FROM {table} "
                                "WHERE pseudonym = ?", alice.pseudonym)
        forget(system)
        backend.execute(f"INSERT INTO {table} (pseudonym, name, key, created_at) "
                        "VALUES (?, ?, ?, ?)", *row)
        again = bootstrap(system.settings)  # a process with no key of hers cached
        try:
            shown = as_text(again.use_cases().tasks(None, Filters(limit=9)).items)
            assert leaks(shown) == [] and ERASED.search(shown)
            assert again.app.get_task(theirs).request == "[erased]"
            assert backend.execute(f"SELECT pseudonym FROM {table} WHERE pseudonym = ?",
                                   alice.pseudonym) == []
            assert again.use_cases().request_work("alice", "check disk on web-1"
                                                  ).requester == "alice"
            assert again.app.privacy.find("alice") != alice.pseudonym
        finally:
            again.close()


class TestKeyTableOnSQLite(OnSQLite, KeyTableContract):
    def test_a_copy_of_the_store_file_reveals_nothing_without_the_key(
        self, system: System, backend: Backend, tmp_path: Path
    ) -> None:
        alice_history(system, tmp_path)
        alice = key_of(system, "alice")
        copied = tmp_path / "copy"
        copied.mkdir()
        for f in tmp_path.glob("events.sqlite3*"):
            shutil.copy(f, copied / f.name)
        forget(system)
        for files in (copied.iterdir(), tmp_path.glob("events.sqlite3*")):
            found = b"".join(f.read_bytes() for f in files if f.is_file())
            assert found and leaks(found.decode("latin-1")) == []
            assert alice.key not in found


class TestKeyTableOnPostgres(OnPostgres, KeyTableContract):
    pass
