"""Work the command line hands on is never stranded, and what it prints can be acted on."""

from __future__ import annotations

import json

from tests.e2e.conftest import run_altlas as altlas


def test_no_wait_without_a_worker_says_nothing_plans_it_and_how_to_start_one(
    env: dict[str, str]
) -> None:
    asked = altlas(env, "do", "check disk on the altlas host", "--as", "erin", "--no-wait")
    assert asked.returncode == 0, asked.stderr
    assert "no worker is running, so nothing plans it yet" in asked.stdout
    assert "planning it" not in asked.stdout
    task_id = json.loads(altlas(env, "task", "list", "--json").stdout)["items"][0]["task_id"]
    unplanned = altlas(env, "task", "show", task_id[:8])
    assert "by None" not in unplanned.stdout
    assert "No plan yet for “check disk on the altlas host”" in unplanned.stdout
    # what the message says to do plans it
    assert altlas(env, "worker", "--until-quiet").returncode == 0
    planned = altlas(env, "task", "show", task_id[:8])
    assert "step(s), by rules" in planned.stdout, planned.stdout


def test_no_wait_in_json_says_whether_a_worker_runs(env: dict[str, str]) -> None:
    asked = altlas(env, "do", "check disk on the altlas host", "--as", "erin", "--no-wait",
                   "--json")
    assert asked.returncode == 0, asked.stderr
    out = json.loads(asked.stdout)
    assert out["worker_running"] is False and out["task"]["status"] == "requested"


def test_task_request_without_a_worker_prints_the_id_and_warns_on_stderr(
    env: dict[str, str]
) -> None:
    asked = altlas(env, "task", "request", "check disk on the altlas host", "--as", "erin")
    assert asked.returncode == 0, asked.stderr
    assert len(asked.stdout.strip()) == 36  # the id alone, for scripts
    assert "start one with `altlas worker`" in asked.stderr
