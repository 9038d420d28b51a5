"""What `altlas init` writes: a policy that lets the person setting altlas up do everything,
with credentials that work, and never over an existing policy."""

from __future__ import annotations

from base64 import b64encode
from pathlib import Path

import pytest

from adapters.policy_file import parse_policy
from altlas.installation import InstallationError, new_installation, write_new
from altlas.settings import Settings


def test_the_person_setting_up_is_admin_operator_and_auditor() -> None:
    made = new_installation("rosa")
    policy = parse_policy(made.policy_text, "policy.yaml")
    assert {"admin", "operator", "auditor", "requester"} <= policy.roles_of("rosa")


def test_the_token_shown_belongs_to_the_person_and_the_file_keeps_only_its_hash() -> None:
    made = new_installation("rosa")
    policy = parse_policy(made.policy_text, "policy.yaml")
    assert policy.person_for_token(made.api_token) == "rosa"
    assert made.api_token not in made.policy_text
    assert made.alertmanager_token not in made.policy_text


def test_alertmanager_is_let_in_with_the_credential_shown_and_nothing_else() -> None:
    made = new_installation("rosa")
    policy = parse_policy(made.policy_text, "policy.yaml")
    assert policy.alert_sender_ok(f"Bearer {made.alertmanager_token}")
    assert not policy.alert_sender_ok(f"Bearer {made.api_token}")
    basic = b64encode(b"alertmanager:" + made.alertmanager_token.encode()).decode()
    assert not policy.alert_sender_ok(f"Basic {basic}")


def test_the_default_policy_hosts_people_and_approvers_stay() -> None:
    policy = parse_policy(new_installation("rosa").policy_text, "policy.yaml")
    assert {"web-1", "db-1", "localhost"} <= set(policy.hosts)
    assert policy.approvers("prod") == {"alice", "bob", "carol"}


def test_a_person_the_default_names_keeps_their_identities_and_gains_the_roles() -> None:
    policy = parse_policy(new_installation("alice").policy_text, "policy.yaml")
    assert "admin" in policy.roles_of("alice") and "approver" in policy.roles_of("alice")
    assert policy.person_for_identity("slack:U0ALICE01") == "alice"


def test_each_installation_gets_its_own_credentials() -> None:
    first, second = new_installation("rosa"), new_installation("rosa")
    assert first.api_token != second.api_token
    assert first.alertmanager_token != second.alertmanager_token


def test_a_name_the_policy_cannot_hold_is_refused_with_what_to_use() -> None:
    with pytest.raises(InstallationError, match=r"--name NAME"):
        new_installation("rosa maria")


def test_an_existing_policy_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("mine")
    with pytest.raises(InstallationError, match="exists already"):
        write_new(path, new_installation("rosa").policy_text)
    assert path.read_text() == "mine"


def test_the_written_policy_is_the_settings_policy_without_a_variable(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).policy_file is None
    write_new(tmp_path / "policy.yaml", new_installation("rosa").policy_text)
    assert Settings(data_dir=tmp_path).policy_file == tmp_path / "policy.yaml"
    elsewhere = tmp_path / "other.yaml"
    assert Settings(data_dir=tmp_path, policy_file=elsewhere).policy_file == elsewhere
