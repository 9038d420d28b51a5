"""When a read may answer from the views alone: only where the environment names nothing
but the stores, and every projection the feed runs is looked at."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.policy_file import PolicyFileError, default_policy_text, load_policy
from adapters.policy_record import known_valid
from altlas.environment import Locations
from altlas.settings import Settings
from projections.reader import PROJECTION_NAMES
from projections.views import PROJECTIONS


def test_the_views_a_read_checks_are_every_projection_the_feed_runs() -> None:
    assert tuple(PROJECTIONS) == PROJECTION_NAMES


def test_the_stores_are_where_the_settings_put_them(tmp_path: Path) -> None:
    url = "postgresql://altlas:pw@db:5432/ops?schema=one"
    for environ in ({"ALTLAS_DATA_DIR": str(tmp_path)},
                    {"ALTLAS_DATA_DIR": str(tmp_path), "ALTLAS_DATABASE_URL": url},
                    {"ALTLAS_DATABASE_URL": url, "ALTLAS_VIEWS_DATABASE_URL":
                     f"sqlite:///{tmp_path}/v.sqlite3", "ALTLAS_LOG_LEVEL": "debug"}):
        where = Locations.of(environ)
        assert where is not None
        settings = Settings(_env_file=None, **{k.removeprefix("ALTLAS_").lower(): v
                                                for k, v in environ.items()})
        assert where.views_sql_url() == settings.views_sql_url()
        assert where.events_sql_url() == settings.events_sql_url()
        assert where.level_for(False) == settings.level_for(False)


@pytest.mark.parametrize("environ", [
    {"ALTLAS_CIPHER_KEY": "x"},  # a setting a read would not look at
    {"altlas_cipher_key": "x"},  # the settings read names in any case
    {"ALTLAS_SECRET_TOKEN": "abcdef"},
    {"ALTLAS_DATABASE_URL": "mysql://root@db/ops"},  # refused by Settings, in its words
    {"ALTLAS_VIEWS_DATABASE_URL": "postgresql://db/ops"},
    {"ALTLAS_LOG_LEVEL": "loud"},
    {"ALTLAS_DATABASE_URL": ""},
], ids=lambda e: ",".join(e))
def test_a_read_leaves_any_other_setting_to_the_whole_system(
        environ: dict[str, str], tmp_path: Path) -> None:
    assert Locations.of({"ALTLAS_DATA_DIR": str(tmp_path), **environ}) is None


def test_the_policy_is_the_variable_s_else_the_installation_s(tmp_path: Path) -> None:
    assert Locations.of({"ALTLAS_DATA_DIR": str(tmp_path)}).policy_file is None  # type: ignore[union-attr]
    (tmp_path / "policy.yaml").write_text("version: 1\n")
    found = Locations.of({"ALTLAS_DATA_DIR": str(tmp_path)})
    assert found is not None and found.policy_file == tmp_path / "policy.yaml"
    named = Locations.of({"ALTLAS_DATA_DIR": str(tmp_path), "ALTLAS_POLICY_FILE": "/etc/p.yaml"})
    assert named is not None and named.policy_file == Path("/etc/p.yaml")


def test_only_a_policy_text_loaded_whole_counts_as_valid(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(default_policy_text())
    assert not known_valid(policy, tmp_path)  # never loaded
    load_policy(policy, record_in=tmp_path)
    assert known_valid(policy, tmp_path)
    policy.write_text(default_policy_text() + "\n# edited\n")
    assert not known_valid(policy, tmp_path)  # valid or not, it is loaded first
    policy.write_text("version: 1\nenvironments:\n  prod: {tier: production}\n")
    with pytest.raises(PolicyFileError):
        load_policy(policy, record_in=tmp_path)
    assert not known_valid(policy, tmp_path)
    policy.write_text(default_policy_text())  # put back as it was loaded
    assert known_valid(policy, tmp_path)


def test_forgetting_is_looked_for_by_the_topic_the_library_records() -> None:
    from eventsourcing.utils import get_topic

    from altlas.quick_reads import FORGOTTEN
    from domain.erasure import Erasure

    assert get_topic(Erasure.Forgotten).endswith(FORGOTTEN)


def test_every_stored_event_is_named_as_its_class_names_it_without_importing_it() -> None:
    from eventsourcing.utils import get_topic

    from domain.catalog import EVENTS
    from domain.event_names import type_name_of

    assert {type_name_of(get_topic(cls)): name for name, (_, cls) in EVENTS.items()} == {
        name: name for name in EVENTS}
    assert type_name_of("altlas.domain.task:Task.Requested") == "TaskRequested"  # before 0.2
    assert type_name_of("domain.arena:Match.Played") == "MatchPlayed"  # before 0.9
    assert type_name_of("elsewhere.task:Task.Requested") == "elsewhere.task:Task.Requested"


def test_the_store_a_read_opens_is_the_one_the_application_records_in() -> None:
    from application.app import AltlasApplication
    from application.stored import RecordedStore

    assert RecordedStore.name == AltlasApplication.name
