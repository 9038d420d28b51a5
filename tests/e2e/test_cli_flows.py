"""Work the command line hands on is never stranded, and what it prints can be acted on."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

from adapters.policy_file import default_policy_text
from testkit.helpers import write_gguf
from tests.e2e.conftest import one_line_error
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


def _policy(env: dict[str, str], tmp_path: Path, **roles: list[str]) -> dict[str, str]:
    data = yaml.safe_load(default_policy_text())
    for person, given in roles.items():
        data["people"][person]["roles"] = given
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return {**env, "ALTLAS_POLICY_FILE": str(path)}


def _hint(text: str, start: str) -> list[str]:
    """The command a printed hint gives, as a person would paste it."""
    line = next(x for x in text.splitlines() if start in x)
    return shlex.split(line.split(start, 1)[1].split("`")[0].split(" (")[0])


def test_the_arena_vote_hint_runs_as_printed(env: dict[str, str], tmp_path: Path) -> None:
    env = {**_policy(env, tmp_path, carol=["operator"]), "ALTLAS_MODELS_DIR": str(tmp_path)}
    assert altlas(env, "models", "add", str(write_gguf(tmp_path / "tiny.gguf")), "--as",
                  "carol").returncode == 0
    asked = altlas(env, "arena", "ask", "check disk on the altlas host", "--as", "erin")
    assert asked.returncode == 0, asked.stderr
    command = _hint(asked.stderr, "to judge it: ")
    assert command[:3] == ["altlas", "arena", "vote"] and len(command[3]) == 8
    voted = altlas(env, *[("alice" if w == "PERSON" else w) for w in command[1:]])
    assert voted.returncode == 0, voted.stderr
    assert command[4] in ("a", "b", "both_bad")
    assert f"alice chose {command[4].upper()}" in voted.stdout or command[4] == "both_bad"
    history = altlas(env, "timeline", "--aggregate", command[3][:6])
    assert history.returncode == 0 and "ArenaVoted" in history.stdout


def test_the_incidents_hint_runs_as_printed(env: dict[str, str]) -> None:
    none = altlas(env, "incidents")
    assert none.returncode == 0, none.stderr
    command = _hint(none.stdout, "No incident is open. `")
    assert command == ["altlas", "incidents", "--status", "all"]
    every = altlas(env, *command[1:])
    assert every.returncode == 0 and "No incident is on record" in every.stdout


def test_a_missing_role_is_said_in_words_with_the_role_it_needs(env: dict[str, str]) -> None:
    assert one_line_error(altlas(env, "privacy", "forget", "erin", "--as", "deniz")) == (
        "altlas: deniz may not ask to forget a person: that needs the admin role, which an "
        "admin gives in the policy (people → roles).")


def test_an_erasure_approval_says_whom_it_forgets_by_pseudonym(
    env: dict[str, str], tmp_path: Path
) -> None:
    env = _policy(env, tmp_path, carol=["admin"])
    assert altlas(env, "do", "check disk on the altlas host", "--as", "erin").returncode == 0
    asked = altlas(env, "privacy", "forget", "erin", "--as", "carol", "--reason", "left")
    assert asked.returncode == 0, asked.stderr
    approval = _hint(asked.stdout, "they run `")[2]
    shown = altlas(env, "approval", "show", approval).stdout
    assert "of run -" not in shown
    forgets = next(x for x in shown.splitlines() if x.strip().startswith("forgets"))
    assert re.search(r"the person #[0-9a-f]{12}: their key is destroyed", forgets)
    assert "erin" not in forgets
    queued = altlas(env, "approvals").stdout
    assert "forgetting a person" in queued and "step forget" not in queued


def test_rollback_with_nothing_to_roll_back_says_so(env: dict[str, str], tmp_path: Path
                                                     ) -> None:
    env = _policy(env, tmp_path, carol=["operator"])
    assert one_line_error(altlas(env, "models", "rollback", "--as", "carol")) == (
        "altlas: nothing to roll back: no model was activated or adapter promoted yet; "
        "`altlas models list` shows what plans")


NO_USER = "~nosuchuser/x.gguf"


def test_a_path_under_an_unknown_users_home_is_one_line_on_every_command(
    env: dict[str, str], tmp_path: Path
) -> None:
    env = _policy(env, tmp_path, carol=["operator", "auditor"])
    for command in (["models", "add", NO_USER, "--as", "carol"],
                    ["alt", "validate", NO_USER],
                    ["atlas", "import", NO_USER, "--as", "carol"],
                    ["audit", "export", "--output", NO_USER],
                    ["policy", "check", NO_USER]):
        line = one_line_error(altlas(env, *command))
        assert "there is no user 'nosuchuser' on this machine" in line, (command, line)


def test_a_path_with_a_control_character_is_refused_before_anything_is_read(
    env: dict[str, str], tmp_path: Path
) -> None:
    env = _policy(env, tmp_path, carol=["operator"])
    line = one_line_error(altlas(env, "models", "add", "x\x1b[2J.gguf", "--as", "carol"))
    assert "holds a control character" in line
    listed = json.loads(altlas(env, "models", "list", "--json").stdout)["models"]
    assert not [m for m in listed if "\x1b" in m["path"]]


def test_a_plan_submitted_without_a_worker_says_nothing_runs_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.alt.json"
    plan_file.write_text(json.dumps({"alt": 1, "steps": [
        {"id": "s1", "kind": "local", "action": "df -h", "target": "localhost", "needs": []}]}))
    submitted = altlas(env, "alt", "submit", str(plan_file), "--as", "erin")
    assert submitted.returncode == 0, submitted.stderr
    assert "so nothing runs it yet: start one with `altlas worker`" in submitted.stderr
    assert altlas(env, "worker", "--until-quiet").returncode == 0
    runs = json.loads(altlas(env, "run", "list", "--json").stdout)["items"]
    assert [r["outcome"] for r in runs] == ["succeeded"]
