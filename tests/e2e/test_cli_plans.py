"""An operator's journeys with plans: ask in words, check and submit .alt files, export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testkit.helpers import peer_policy
from tests.conftest import SSHPeer
from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas


@pytest.fixture
def ops(env: dict[str, str], tmp_path: Path, ssh_peer: SSHPeer,
        prometheus_url: str) -> dict[str, str]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(peer_policy(ssh_peer.port, ssh_peer.user))
    return {**env, "ALTLAS_POLICY_FILE": str(policy), "ALTLAS_SEGMENTER": "rules",
            "ALTLAS_SSH_KNOWN_HOSTS": str(ssh_peer.known_hosts),
            "ALTLAS_SSH_KEY": str(ssh_peer.client_key), "ALTLAS_PROMETHEUS_URL": prometheus_url}


def test_do_plans_gates_and_runs_over_ssh(ops: dict[str, str]) -> None:
    result = altlas(ops, "do", "check disk on web-1 and restart nginx if it is above 1%",
                    "--as", "deniz", "--json")
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)
    task, run = done["task"], done["run"]
    assert task["segmenter"] == "rules"
    assert [(s["kind"], s["action"]) for s in task["plan"]["steps"]] == [
        ("ssh", "df -h /"), ("ssh", "systemctl restart nginx")]
    first, second = run["steps"]
    assert first["status"] == "succeeded" and "Filesystem" in first["output"]
    # the condition holds, and the restart is HIGH_RISK in prod: it waits for two approvals
    assert second["status"] == "pending" and second["approval_id"]
    queue = json.loads(altlas(ops, "approvals", "--json").stdout)
    assert [a["approval_id"] for a in queue] == [second["approval_id"]]


def test_a_step_whose_condition_fails_is_skipped_and_nobody_is_asked(
    ops: dict[str, str]
) -> None:
    result = altlas(ops, "do", "check disk on web-1 and restart nginx if it is above 99%",
                    "--as", "deniz", "--json")
    run = json.loads(result.stdout)["run"]
    assert run["outcome"] == "succeeded"
    assert run["steps"][1]["status"] == "skipped"
    assert run["steps"][1]["error"].startswith("condition not met: s1.max_percent > 99 is false")
    assert altlas(ops, "approvals").stdout.strip() == "no approvals are waiting"


def test_do_in_words_the_rules_do_not_know_is_rejected(ops: dict[str, str]) -> None:
    result = altlas(ops, "do", "make everything faster", "--as", "erin")
    assert result.returncode == 1
    assert ("I could not plan “make everything faster”: the rules did not recognise an "
            "action") in result.stdout


def test_the_command_line_speaks_the_persons_language(ops: dict[str, str]) -> None:
    result = altlas(ops, "do", "make everything faster", "--as", "deniz")  # deniz: tr
    assert result.returncode == 1
    assert "“make everything faster” için plan yapamadım" in result.stdout


def test_do_promql_question(ops: dict[str, str]) -> None:
    result = altlas(ops, "do", "how many targets are down in prod?", "--as", "deniz", "--json")
    run = json.loads(result.stdout)["run"]
    assert run["outcome"] == "succeeded" and run["steps"][0]["facts"]["value"] == 0


def test_alt_validate_lists_every_problem_with_its_path(ops: dict[str, str],
                                                        tmp_path: Path) -> None:
    bad = tmp_path / "bad.alt.json"
    bad.write_text(json.dumps({"alt": 1, "steps": [
        {"id": "s1", "kind": "ssh", "action": "df -h", "target": "web-1", "colour": "red"},
        {"id": "s2", "kind": "ssh", "action": "uptime", "retries": -1}]}))
    result = altlas(ops, "alt", "validate", str(bad))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}: $.steps[0]: Additional properties are not allowed ('colour' was unexpected)",
        f"{bad}: $.steps[1].retries: -1 is less than the minimum of 0"]


def test_alt_validate_then_submit_then_export(ops: dict[str, str], tmp_path: Path) -> None:
    good = tmp_path / "plan.alt.json"
    good.write_text(json.dumps({"alt": 1, "request": "disk then load on db-1", "steps": [
        {"id": "disk", "kind": "ssh", "action": "df -h", "target": "db-1"},
        {"id": "load", "kind": "ssh", "action": "uptime", "target": "db-1",
         "needs": ["disk"], "when": "disk.max_percent < 100"}]}))
    checked = altlas(ops, "alt", "validate", str(good))
    assert checked.returncode == 0 and "valid .alt plan with 2 step(s)" in checked.stdout
    submitted = json.loads(altlas(ops, "alt", "submit", str(good), "--as", "erin", "--run",
                                  "--json").stdout)
    assert submitted["run"]["outcome"] == "succeeded"
    alt = json.loads(altlas(ops, "task", "export", submitted["task"]["id"]).stdout)
    assert alt["alt"] == 1 and alt["segmenter"] == "hand-written"
    assert alt["steps"][1]["when"] == "disk.max_percent < 100"
    last = json.loads(altlas(ops, "run", "export", submitted["run"]["id"]).stdout)
    assert last["last"] == 1 and last["outcome"] == "succeeded"
    assert [s["status"] for s in last["steps"]] == ["succeeded", "succeeded"]


def test_submitting_a_plan_for_an_unknown_host_records_nothing(ops: dict[str, str],
                                                               tmp_path: Path) -> None:
    plan = tmp_path / "plan.alt.json"
    plan.write_text(json.dumps({"alt": 1, "steps": [
        {"id": "s1", "kind": "ssh", "action": "uptime", "target": "web-9"}]}))
    line = one_line_error(altlas(ops, "alt", "submit", str(plan), "--as", "erin"))
    assert "unknown host 'web-9'" in line
    assert json.loads(altlas(ops, "events", "--json").stdout) == []
