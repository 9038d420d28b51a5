"""An operator's runbook journey on the command line: publish, approved by someone else, run
with parameters, counted in the .atlas as a pattern of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from adapters.policy_file import default_policy_text
from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas

RUNBOOK = {"runbook": 1, "name": "disk-check", "parameters": {
    "path": {"kind": "text", "pattern": "^/[a-z/]{0,40}$"}},
    "plan": {"alt": 1, "steps": [
        {"id": "disk", "kind": "local", "action": "df -h {param:path}"},
        {"id": "flag", "kind": "local", "action": "touch /tmp/altlas-e2e/maintenance.flag",
         "needs": ["disk"], "when": "disk.max_percent > 100"}]}}


@pytest.fixture
def ops(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    policy = yaml.safe_load(default_policy_text())
    policy["people"]["alice"]["roles"] = ["requester", "operator"]
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    (tmp_path / "disk-check.json").write_text(json.dumps(RUNBOOK))
    return {**env, "ALTLAS_POLICY_FILE": str(tmp_path / "policy.yaml")}


def test_publish_approve_run_and_the_atlas_counts_the_runbook(ops: dict[str, str],
                                                              tmp_path: Path) -> None:
    published = altlas(ops, "runbook", "publish", str(tmp_path / "disk-check.json"),
                       "--as", "alice", "--json")
    assert published.returncode == 0, published.stderr
    approval = json.loads(published.stdout)["pending"]["approval_id"]
    assert "not published" in altlas(ops, "runbook", "list").stdout
    assert "cannot approve" in one_line_error(altlas(ops, "approve", approval, "--as", "alice"))
    assert altlas(ops, "approve", approval, "--as", "bob").returncode == 0
    assert "disk-check  v1 by alice" in altlas(ops, "runbook", "list").stdout

    refused = one_line_error(altlas(ops, "runbook", "run", "disk-check", "--param",
                                    "path=/; reboot", "--as", "carol"))
    assert refused.startswith("altlas: parameter path:")
    ran = altlas(ops, "runbook", "run", "disk-check", "--param", "path=/", "--as", "carol",
                 "--run", "--json")
    assert ran.returncode == 0, ran.stderr
    done = json.loads(ran.stdout)
    assert done["task"]["plan"]["steps"][0]["action"] == "df -h /"
    assert done["run"]["outcome"] == "succeeded"
    patterns = json.loads(altlas(ops, "atlas", "show", "--json").stdout)
    assert [(p["pattern"], p["runs"]) for p in patterns] == [("runbook:disk-check", 1)]
