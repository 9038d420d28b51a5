"""The reads (`task list`, `run list`, `approvals`, `timeline`, `incidents`, `events`, `run
show`, `task show`, `approval show`) open only the views, and the store through the library
alone, when the views hold every recorded event, and show exactly what the whole system shows."""

from __future__ import annotations

import json
import re
from pathlib import Path

from testkit.helpers import gated_plan
from tests.e2e.conftest import imports
from tests.e2e.conftest import run_altlas as altlas

READS = [("task", "list"), ("task", "list", "--json"), ("task", "list", "--limit", "1"),
         ("task", "list", "--status", "segmented"), ("run", "list"), ("run", "list", "--json"),
         ("run", "list", "--requester", "erin"), ("approvals",), ("approvals", "--json"),
         ("timeline",), ("timeline", "--json", "--type", "ApprovalRequested"),
         ("timeline", "--actor", "erin"), ("task", "list", "--requester", "erin"),
         ("incidents",), ("incidents", "--status", "all", "--json"), ("events",),
         ("events", "--json", "--after", "2", "--limit", "5")]
WHOLE = {"ALTLAS_INSTANCE_NAME": "whole"}  # any other setting: the whole system answers


def _waiting_for_approval(env: dict[str, str], tmp_path: Path) -> None:
    """A run whose third step waits for two approvals, and a request not yet planned."""
    plan = tmp_path / "plan.alt.json"
    plan.write_text(json.dumps({**gated_plan(f"{tmp_path}/maintenance.flag"),
                                "request": "set the flag", "environment": "prod"}))
    assert altlas(env, "alt", "submit", str(plan), "--as", "erin", "--run").returncode == 0
    assert altlas(env, "task", "request", "check disk on web-1", "--as", "deniz").returncode == 0


def _same_minute(text: str) -> str:
    """An approval's time left, which moves between two commands, set aside."""
    return re.sub(r'"seconds_left": \d+|\d+ min', "<left>", text)


def _run_id(env: dict[str, str]) -> str:
    return str(json.loads(altlas(env, "run", "list", "--json").stdout)["items"][0]["run_id"])


def _task_and_approval(env: dict[str, str]) -> tuple[str, str]:
    task = json.loads(altlas(env, "task", "list", "--json").stdout)["items"][-1]["task_id"]
    return str(task), str(json.loads(altlas(env, "approvals", "--json").stdout)[0]["approval_id"])


def test_each_read_shows_what_the_whole_system_shows(env: dict[str, str],
                                                     tmp_path: Path) -> None:
    _waiting_for_approval(env, tmp_path)
    run = _run_id(env)
    task, approval = _task_and_approval(env)
    for args in [*READS, ("run", "show", run), ("run", "show", run[:8], "--json"),
                 ("task", "show", task[:8]), ("task", "show", task, "--json"),
                 ("approval", "show", approval[:8]), ("approval", "show", approval, "--json")]:
        quick, whole = altlas(env, *args), altlas({**env, **WHOLE}, *args)
        assert quick.returncode == whole.returncode == 0, quick.stderr + whole.stderr
        assert _same_minute(quick.stdout) == _same_minute(whole.stdout), args
        assert quick.stderr == whole.stderr == ""
    listed = altlas(env, "task", "list").stdout
    assert "set the flag" in listed and "check disk on web-1" in listed
    assert "step s3" in altlas(env, "approvals").stdout


def test_a_read_of_current_views_builds_no_application(env: dict[str, str],
                                                       tmp_path: Path) -> None:
    _waiting_for_approval(env, tmp_path)
    run = _run_id(env)  # and the views catch up with the store
    task, approval = _task_and_approval(env)
    whole = {"altlas.bootstrap", "application.app", "pydantic", "adapters.policy_file"}
    out, modules = imports(env, "task", "list")
    assert "check disk on web-1" in out
    assert not modules & {*whole, "eventsourcing.application"}
    for read, shows in ((("events",), "ApprovalRequested"), (("incidents",), "No incident is open"),
                        (("run", "show", run[:8]), "waits for 2 more approval"),
                        (("task", "show", task[:8]), "set the flag"),
                        (("approval", "show", approval[:8]), "s3")):
        out, modules = imports(env, *read)
        assert shows in out and not modules & whole, read


def test_a_read_after_new_events_shows_them_then_reads_the_views_alone(
        env: dict[str, str], tmp_path: Path) -> None:
    _waiting_for_approval(env, tmp_path)
    altlas(env, "approvals")
    assert altlas(env, "task", "request", "check memory on web-2", "--as", "erin"
                  ).returncode == 0
    out, modules = imports(env, "task", "list")  # behind the store: caught up first
    assert "check memory on web-2" in out.splitlines()[0] and "altlas.bootstrap" in modules
    out, modules = imports(env, "task", "list")
    assert "check memory on web-2" in out.splitlines()[0]
    assert "altlas.bootstrap" not in modules


def test_a_bad_filter_is_refused_in_one_line_by_either_path(env: dict[str, str],
                                                            tmp_path: Path) -> None:
    _waiting_for_approval(env, tmp_path)
    altlas(env, "task", "list")
    for extra in ({}, WHOLE):
        refused = altlas({**env, **extra}, "run", "list", "--status", "bogus")
        assert refused.returncode == 2 and refused.stdout == ""
        assert refused.stderr == ("altlas: status must be one of running, completed, "
                                  "succeeded, failed, cancelled, manual_outstanding\n")


def test_reads_beside_an_installation_policy_open_the_views_alone_once_it_was_loaded(
        env: dict[str, str], tmp_path: Path) -> None:
    assert altlas(env, "init", "--name", "olga").returncode == 0
    _waiting_for_approval(env, tmp_path)
    whole = altlas({**env, **WHOLE}, "task", "list")
    out, modules = imports(env, "task", "list")
    assert out == whole.stdout and "altlas.bootstrap" not in modules
    policy = Path(env["ALTLAS_DATA_DIR"]) / "policy.yaml"
    policy.write_text(policy.read_text() + "\n# reviewed\n")  # loaded again before a read
    out, modules = imports(env, "task", "list")
    assert out == whole.stdout and "altlas.bootstrap" in modules
    assert "altlas.bootstrap" not in imports(env, "task", "list")[1]
