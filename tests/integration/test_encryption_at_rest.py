"""Encryption at rest (ALTLAS_CIPHER_KEY): nothing a person wrote is readable in the stored
rows, everything that reads the history still works, and a wrong, missing or unwanted key
stops altlas at start-up in one line, before anything is recorded."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from pydantic import SecretStr

from altlas.bootstrap import System, bootstrap
from altlas.demo import REQUEST
from altlas.settings import Settings
from streams.audit import read_topic, verify_topic
from streams.feeds import StoreFeed
from testkit.backends import Backend, OnPostgres, OnSQLite, SQLiteBackend
from testkit.journeys import journey
from testkit.views import dump
from tests.e2e.conftest import one_line_error, run_altlas
from tests.integration.test_streams import drain, kafka_settings, publish_all

KEY = AESCipher.create_key(32)
SECRET_TEXT = "rotate the credentials of billing-db-7431 tonight"


def keyed(settings: Settings, key: str | None = KEY) -> Settings:
    return settings.model_copy(update={"cipher_key": SecretStr(key) if key else None})


def cli_env(backend: Backend, tmp_path: Path, key: str | None = KEY) -> dict[str, str]:
    """The environment a person would give `altlas` for this backend's store."""
    settings = backend.settings()
    env = {"ALTLAS_DATA_DIR": str(tmp_path / "data")}
    if isinstance(backend, SQLiteBackend):
        env["ALTLAS_DATA_DIR"] = str(settings.data_dir)
    for name in ("database_url", "views_database_url"):
        value = getattr(settings, name)
        if value is not None:
            env[f"ALTLAS_{name.upper()}"] = value.get_secret_value()
    if key is not None:
        env["ALTLAS_CIPHER_KEY"] = key
    return {**clean_env(), **env}


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}


def stored(backend: Backend) -> list[bytes]:
    """The events' state column, read straight from the database."""
    return [bytes(state) for (state,) in  # type: ignore[call-overload]
            backend.execute(f"SELECT state FROM {backend.events_table}")]


def altlas(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = run_altlas(env, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


class EncryptionAtRestContract:
    @pytest.mark.parametrize("key", [KEY, None], ids=["with a key", "without"])
    def test_stored_rows_are_unreadable_only_with_a_key(
        self, backend: Backend, key: str | None
    ) -> None:
        """What a person wrote is sealed under their own key either way; with a key for the
        store, nothing of the event is readable at all."""
        system = bootstrap(keyed(backend.settings(), key))
        task_id = system.app.request_task(SECRET_TEXT, "deniz", environment="prod")
        system.close()
        rows = stored(backend)
        assert len(rows) == 1
        assert SECRET_TEXT.encode() not in rows[0] and b"deniz" not in rows[0]
        assert (b"technical_expert" in rows[0]) is (key is None)
        if isinstance(backend, SQLiteBackend):  # the file itself, its WAL included
            on_disk = b"".join(p.read_bytes() for p in backend.data_dir.glob("events.sqlite3*"))
            assert SECRET_TEXT.encode() not in on_disk
            assert (b"technical_expert" in on_disk) is (key is None)
        system = bootstrap(keyed(backend.settings(), key))  # read back from the store
        try:
            assert system.app.get_task(task_id).request == SECRET_TEXT
        finally:
            system.close()

    def test_the_demo_verifies_exports_replays_and_rebuilds_with_a_key(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        env = cli_env(backend, tmp_path)
        altlas(env, "demo")
        assert not any(REQUEST.encode() in row for row in stored(backend))
        verified = altlas(env, "audit", "verify")
        assert "16 events in 3 aggregates" in verified.stdout
        assert "every hash chain and checkpoint verified" in verified.stdout
        lines = altlas(env, "audit", "export").stdout.splitlines()
        assert len(lines) == 16  # what people wrote stays sealed under their keys
        assert json.loads(lines[0])["data"]["request"].startswith("enc:v1:p-")
        rebuilt = altlas(env, "projections", "rebuild")
        assert "from 16 event(s)" in rebuilt.stdout
        now = datetime.now(UTC).isoformat()
        assert "replayed 16 event(s)" in altlas(env, "audit", "replay", "--until", now).stdout
        tasks = json.loads(altlas(env, "task", "list", "--json").stdout)["items"]
        assert [t["request"] for t in tasks] == [REQUEST]

    def test_a_wrong_missing_or_malformed_key_stops_altlas_in_one_line_recording_nothing(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        env = cli_env(backend, tmp_path)
        altlas(env, "demo")
        before = backend.execute(f"SELECT COUNT(*) FROM {backend.events_table}")
        where = "SQLite store in" if isinstance(backend, SQLiteBackend) else "postgresql://"
        refusals = {
            AESCipher.create_key(32): "ALTLAS_CIPHER_KEY does not decrypt the event at "
            "position 1: it is not the key this store was begun with",
            "": "its events are encrypted: set ALTLAS_CIPHER_KEY to the key this store was "
            "begun with",
            KEY[:-4]: "ALTLAS_CIPHER_KEY: is not a base64 AES key of 16, 24 or 32 bytes; make "
            "one with `altlas key new`",
        }
        for key, reason in refusals.items():
            other = {**env, "ALTLAS_CIPHER_KEY": key}
            line = one_line_error(run_altlas(other, "task", "request", "check disk on the "
                                             "altlas host", "--as", "deniz"))
            assert line.endswith(reason)
            assert line.startswith("altlas: ALTLAS_CIPHER_KEY:" if key == KEY[:-4] else
                                   f"altlas: cannot read the event store ({where}")
            assert not key or key[:8] not in line  # the key is never shown
        assert backend.execute(f"SELECT COUNT(*) FROM {backend.events_table}") == before

    def test_a_key_for_a_store_kept_in_clear_stops_altlas_in_one_line(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        altlas(cli_env(backend, tmp_path, key=None), "demo")
        line = one_line_error(run_altlas(cli_env(backend, tmp_path), "events"))
        assert line.endswith("its events are stored in clear, but ALTLAS_CIPHER_KEY is set: "
                             "unset it (a store is encrypted from its first event or not at all)")

    def test_a_changed_encrypted_event_is_named_by_the_audit_and_read_by_nothing(
        self, backend: Backend, tmp_path: Path
    ) -> None:
        env = cli_env(backend, tmp_path)
        altlas(env, "demo")
        (state,) = backend.execute(f"SELECT state FROM {backend.events_table} WHERE topic "
                                   "LIKE ? ORDER BY originator_version LIMIT 1", "%VoteCast")[0]
        changed = bytearray(bytes(state))  # type: ignore[call-overload]
        changed[-1] ^= 1
        backend.execute(f"UPDATE {backend.events_table} SET state = ? WHERE state = ?",
                        bytes(changed), state)
        verified = run_altlas(env, "audit", "verify")
        assert verified.returncode == 1, verified.stderr
        problems = [line for line in verified.stdout.splitlines() if line.startswith("  - ")]
        assert problems[0].endswith("version 2 (position 9): the stored event cannot be read "
                                    "(Invalid cipher tag): it was changed where it is stored, "
                                    "or recorded with another key")
        line = one_line_error(run_altlas(env, "events"))
        assert "(position 9): the stored event cannot be read" in line


class KafkaContract:
    """The topic carries the events in clear (CloudEvents JSON): encryption at rest covers
    the store; the topic is protected by the broker's own TLS and ACLs (README)."""

    @pytest.fixture
    def system(self, backend: Backend, kafka_bootstrap: str, topic_prefix: str
               ) -> Iterator[System]:
        system = bootstrap(keyed(kafka_settings(backend, kafka_bootstrap, topic_prefix,
                                                checkpoint_every=20)))
        yield system
        system.close()

    def test_relay_and_kafka_feeds_build_the_same_views_from_an_encrypted_store(
        self, system: System, backend: Backend, tmp_path: Path
    ) -> None:
        for grant in (True, False):
            journey(system, tmp_path, grant=grant)
        assert not any(b"alice" in row for row in stored(backend))
        relay = system.relay()
        assert publish_all(relay) == system.history.last_position()
        config = system.kafka()
        records, _, problems = read_topic(config)
        assert problems == [] and len(records) == system.history.last_position()
        assert system.app.privacy.find("alice") in {r.actor for r in records}
        assert verify_topic(config, system.history, relay.state.load().position).ok
        feeds = system.kafka_feeds()
        drain(feeds, config)
        for feed in feeds:
            feed.close()
        engine = system.views_at(f"sqlite:///{tmp_path / 'from-store.sqlite3'}")
        StoreFeed(system.history, system.runners(engine=engine)).catch_up()
        assert dump(system.views()) == dump(engine)


class TestEncryptionAtRestOnSQLite(OnSQLite, EncryptionAtRestContract):
    pass


class TestEncryptionAtRestOnPostgres(OnPostgres, EncryptionAtRestContract):
    pass


class TestKafkaOnSQLite(OnSQLite, KafkaContract):
    pass


class TestKafkaOnPostgres(OnPostgres, KafkaContract):
    pass


def test_key_new_prints_a_key_the_settings_take(tmp_path: Path) -> None:
    result = altlas({**clean_env(), "ALTLAS_DATA_DIR": str(tmp_path)}, "key", "new")
    (line,) = [line for line in result.stdout.splitlines() if "ALTLAS_CIPHER_KEY=" in line]
    key = line.strip().removeprefix("ALTLAS_CIPHER_KEY=")
    settings = Settings(cipher_key=SecretStr(key))
    assert settings.persistence_env()["CIPHER_TOPIC"] == "eventsourcing.cryptography:AESCipher"
    assert "keep a copy" in result.stdout and not (tmp_path / "events.sqlite3").exists()
