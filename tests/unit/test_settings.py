from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from altlas.bootstrap import StartupError, language_model
from altlas.settings import Settings, SettingsError, load_settings


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/db", "ALTLAS_DATABASE_URL: must start with postgresql://"),
        ("postgresql://u@h", "ALTLAS_DATABASE_URL: names no database"),
        ("postgresql://u@h:99999/db", "ALTLAS_DATABASE_URL: has a port that is not a number"),
        ("postgresql://h/db", "ALTLAS_DATABASE_URL: names no user"),
        ("postgresql://u@h/db?sslmode=x", "ALTLAS_DATABASE_URL: has unknown parameter(s) sslmode"),
    ],
)
def test_bad_database_url_gets_a_precise_message(
    monkeypatch: pytest.MonkeyPatch, url: str, message: str
) -> None:
    monkeypatch.setenv("ALTLAS_DATABASE_URL", url)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)


def test_each_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTLAS_HTTP_PORT", "0")
    monkeypatch.setenv("ALTLAS_LOG_LEVEL", "chatty")
    monkeypatch.setenv("ALTLAS_SEGMENTER_READINGS", "3")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "ALTLAS_HTTP_PORT:" in str(caught.value) and "ALTLAS_LOG_LEVEL:" in str(caught.value)
    assert "ALTLAS_SEGMENTER_READINGS:" in str(caught.value)


def test_database_url_selects_postgres_and_keeps_db_functions_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALTLAS_DATABASE_URL", "postgresql://al:s%40cret@db:6543/ops?schema=x")
    env = load_settings().persistence_env()
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_PASSWORD"]) == (
        "db", "6543", "s@cret")
    assert env["POSTGRES_SCHEMA"] == "x"
    assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "n"


def test_embedded_default_is_sqlite_in_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALTLAS_DATABASE_URL", raising=False)
    monkeypatch.setenv("ALTLAS_DATA_DIR", "/srv/altlas")
    env = load_settings().persistence_env()
    assert env == {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                   "SQLITE_DBNAME": "/srv/altlas/events.sqlite3", "SQLITE_LOCK_TIMEOUT": "30",
                   # a cached aggregate is not brought forward on each command: a stale one
                   # makes the save conflict and the command is decided again
                   "AGGREGATE_CACHE_MAXSIZE": "10000", "AGGREGATE_CACHE_FASTFORWARD": "n",
                   "DEEPCOPY_FROM_AGGREGATE_CACHE": "n"}
    monkeypatch.setenv("ALTLAS_AGGREGATE_CACHE", "0")
    assert "AGGREGATE_CACHE_MAXSIZE" not in load_settings().persistence_env()


def test_a_litellm_model_without_its_package_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "litellm" else real(name, *a))
    for segmenter in ("litellm", "auto", "rules"):
        settings = Settings(data_dir=tmp_path, segmenter=segmenter,
                            litellm_model="openai/gpt-4o-mini")
        with pytest.raises(StartupError, match=r"needs the litellm package: pip install "
                                               r"'altlas\[litellm\]'"):
            language_model(settings)


def test_llm_steps_use_the_named_litellm_model_even_when_the_rules_plan(tmp_path: Path) -> None:
    model = language_model(Settings(data_dir=tmp_path, segmenter="rules",
                                    litellm_model="openai/gpt-4o-mini"))
    assert model is not None and model.name == "litellm:openai/gpt-4o-mini"
    assert language_model(Settings(data_dir=tmp_path, segmenter="rules")) is None


def test_the_settings_a_training_worker_gets_make_the_same_settings_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The training worker's process is started with settings_env: every field, the JSON
    ones (the rate limits) too, reads back as it was."""
    from altlas.settings import settings_env

    mine = Settings(data_dir=tmp_path / "data", rate_limits={"replay": 3}, http_port=8181)
    for name in list(os.environ):
        if name.startswith("ALTLAS_"):
            monkeypatch.delenv(name)
    for name, value in settings_env(mine).items():
        monkeypatch.setenv(name, value)
    theirs = load_settings()
    assert {n: getattr(theirs, n) for n in Settings.model_fields} == {
        n: getattr(mine, n) for n in Settings.model_fields}
    assert theirs.rate_limits["replay"] == 3


@pytest.mark.parametrize(("name", "value"), [
    ("ALTLAS_SPEECH_ENGINE", "sphinx"),
    ("ALTLAS_SPEECH_LANGUAGES", "en, tr"),
    ("ALTLAS_SPEECH_MAX_SECONDS", "0"),
    ("ALTLAS_SPEECH_GGML_TYPE", "q4_0"),
])
def test_a_bad_speech_setting_is_refused_at_start_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(name)


def test_a_dashboard_signing_key_too_short_to_sign_sessions_is_refused_saying_how_to_make_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTLAS_UI_SIGNING_KEY", "too-short")
    with pytest.raises(SettingsError, match=r"^ALTLAS_UI_SIGNING_KEY: is shorter than 32 .*token"):
        load_settings()


@pytest.mark.parametrize("value", ["-1", "61", "soon"])
def test_a_chat_first_wait_out_of_range_is_refused_at_start_naming_it(
        monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ALTLAS_UI_CHAT_FIRST_SECONDS", value)
    with pytest.raises(SettingsError, match=r"^ALTLAS_UI_CHAT_FIRST_SECONDS"):
        load_settings()
