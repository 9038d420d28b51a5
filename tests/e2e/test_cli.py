"""A user's journeys through the `altlas` command line, as separate processes."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pty
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from adapters.policy_file import default_policy_text
from testkit.helpers import auth, gated_plan, token_policy
from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas


def test_demo_runs_the_whole_journey_on_the_embedded_default(env: dict[str, str]) -> None:
    result = altlas(env, "demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "HIGH_RISK   approval (2 of alice, bob, carol)" in out
    assert "deniz  clicks Approve → refused: deniz asked for this change" in out
    assert "bob    clicks Approve → granted" in out
    assert "succeeded; maintenance flag set" in out
    # the refused clicks are on the record too
    assert "hash chains verified: 16 events in 3 aggregates" in out
    listed = json.loads(altlas(env, "events", "--json").stdout)
    assert [e["type"] for e in listed][-1] == "RunCompleted" and len(listed) == 16
    assert [e["type"] for e in listed].count("ApprovalAttemptRefused") == 2


def test_journey_through_separate_commands(env: dict[str, str], tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.alt.json"
    plan_file.write_text(json.dumps({**gated_plan(f"{tmp_path}/maintenance.flag"),
                                     "request": "set the flag", "environment": "prod"}))
    submitted = altlas(env, "alt", "submit", str(plan_file), "--as", "erin", "--run")
    assert submitted.returncode == 0, submitted.stderr
    assert "HIGH_RISK" in submitted.stdout and "s1   succeeded" in submitted.stdout
    waiting = submitted.stdout.strip().splitlines()[-1]
    assert waiting.startswith("s3 waits for 2 more approval(s): altlas approve ")
    prefix = waiting.split("altlas approve ")[1].split()[0]  # the 8 characters shown
    assert "1 more needed" in altlas(env, "approve", prefix, "--as", "alice").stdout
    second = altlas(env, "approve", prefix, "--as", "alice")
    assert one_line_error(second) == (
        "altlas: alice already approved this request; one vote per person")
    granted = altlas(env, "approve", prefix, "--as", "bob")
    assert "granted" in granted.stdout
    # nothing else is called: the vote moved the run on, and the command showed it
    assert "s3   succeeded" in granted.stdout and "succeeded." in granted.stdout
    assert (tmp_path / "maintenance.flag").exists()
    runs = json.loads(altlas(env, "run", "list", "--json").stdout)
    assert [r["outcome"] for r in runs["items"]] == ["succeeded"]
    tasks = altlas(env, "task", "list", "--requester", "erin")
    assert "set the flag" in tasks.stdout and "succeeded" in tasks.stdout


def test_unknown_id_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    missing = "7d2f58a4-6a7c-4ad4-9d51-5d0c5b0e0d11"
    assert one_line_error(altlas(env, "approval", "show", missing)) == (
        f"altlas: no approval with id {missing}")


def test_malformed_id_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    line = one_line_error(altlas(env, "approve", "abc", "--as", "alice"))
    assert "'abc' is not an id" in line


def test_as_must_name_a_person_of_the_policy(env: dict[str, str]) -> None:
    line = one_line_error(altlas(env, "do", "check disk on the altlas host", "--as", "mallory"))
    assert line.startswith("altlas: 'mallory' is not a person in the policy")
    assert json.loads(altlas(env, "events", "--json").stdout) == []


def test_bad_database_url_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    env["ALTLAS_DATABASE_URL"] = "mysql://root@localhost/ops"
    assert one_line_error(altlas(env, "events")).startswith(
        "altlas: ALTLAS_DATABASE_URL: must start with postgresql://")


def test_unreachable_database_is_one_line_and_exit_2(env: dict[str, str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env["ALTLAS_DATABASE_URL"] = f"postgresql://altlas:secret@127.0.0.1:{port}/ops"
    line = one_line_error(altlas(env, "events"))
    assert line.startswith(f"altlas: cannot connect to postgresql://altlas@127.0.0.1:{port}/ops")
    assert "secret" not in line


def test_malformed_policy_file_names_its_line(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nenvironments:\n  prod: {tier: production}\n")
    assert one_line_error(altlas(env, "policy", "check", str(bad))) == (
        f"altlas: {bad}:3: environments.prod.tier: must be one of dev, staging, prod")
    env["ALTLAS_POLICY_FILE"] = str(bad)
    assert ":3: environments.prod.tier" in one_line_error(altlas(env, "demo"))


def test_policy_check_lists_every_problem_and_a_command_names_the_first(
        env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: 1\nenvironments:\n  prod: {tier: production}\n"
                   "hosts:\n  web-1: {env: prod, port: 0}\nsurprise: 1\n")
    checked = altlas(env, "policy", "check", str(bad))
    assert checked.returncode == 2 and checked.stdout == ""
    assert checked.stderr.splitlines() == [
        f"altlas: {bad}:3: environments.prod.tier: must be one of dev, staging, prod",
        f"altlas: {bad}:5: hosts.web-1.port: must be a port number from 1 to 65535",
        f"altlas: {bad}:6: surprise: unknown key; expected one of alertmanager, api_tokens, "
        "approvals, atlas, commands, environments, groups, hosts, incidents, local_host, "
        "people, secrets, services, triggers, version"]
    env["ALTLAS_POLICY_FILE"] = str(bad)
    assert one_line_error(altlas(env, "events")) == (
        f"altlas: {bad}:3: environments.prod.tier: must be one of dev, staging, prod (and 2 "
        "more problem(s): `altlas policy check` lists them)")


def test_default_policy_checks_clean(env: dict[str, str]) -> None:
    result = altlas(env, "policy", "check")
    assert result.returncode == 0 and "built-in policy: ok" in result.stdout
    assert "2 services" in result.stdout  # the topology alerts are correlated by


def test_init_makes_the_person_an_admin_every_later_command_knows(env: dict[str, str]
                                                                   ) -> None:
    made = altlas(env, "init", "--name", "rosa", "--json")
    assert made.returncode == 0, made.stderr
    written = json.loads(made.stdout)
    assert written["policy_file"] == f"{env['ALTLAS_DATA_DIR']}/policy.yaml"
    assert written["api_token"] and written["alertmanager_token"]
    checked = altlas(env, "policy", "check")
    assert checked.returncode == 0 and checked.stdout.startswith(written["policy_file"])
    assert altlas(env, "task", "request", "check disk", "--as", "erin").returncode == 0
    asked = altlas(env, "privacy", "forget", "erin", "--as", "rosa", "--reason", "left")
    assert asked.returncode == 0, asked.stderr
    again = altlas(env, "init", "--name", "rosa")
    assert one_line_error(again) == (
        f"altlas: {written['policy_file']} exists already; edit it, or point "
        "ALTLAS_POLICY_FILE at another file to start anew")


def test_serve_answers_health_and_commands(env: dict[str, str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(token_policy())
    env["ALTLAS_POLICY_FILE"] = str(policy)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "altlas", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert json.load(r)["status"] == "ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, "altlas serve did not answer in 30 s"
                time.sleep(0.2)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/tasks", method="POST",
            data=json.dumps({"request": "check disk"}).encode(),
            headers={"Content-Type": "application/json", **auth("deniz")})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 201 and len(json.load(r)["id"]) == 36
        anonymous = urllib.request.Request(req.full_url, method="POST", data=req.data,
                                           headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(anonymous, timeout=5)
            raise AssertionError("an unauthenticated request was accepted")
        except urllib.error.HTTPError as e:
            assert e.code == 401 and json.load(e)["error"] == "unauthenticated"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_readme_first_journey_works_as_written(env: dict[str, str]) -> None:
    """README's quick journey, on the embedded default, word for word."""
    checked = altlas(env, "do", "check disk and load on the altlas host", "--as", "erin")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "s1   succeeded" in checked.stdout and "s2   succeeded" in checked.stdout
    flagged = altlas(env, "do", "set the maintenance flag on the altlas host", "--as", "erin")
    assert flagged.returncode == 0
    waiting = flagged.stdout.strip().splitlines()[-1]
    assert waiting.startswith("s1 waits for 2 more approval(s): altlas approve ")
    approval = waiting.split("altlas approve ")[1].split()[0]
    assert altlas(env, "approve", approval, "--as", "alice").returncode == 0
    done = altlas(env, "approve", approval, "--as", "bob")
    assert done.returncode == 0 and "s1   succeeded" in done.stdout
    assert (Path(env["ALTLAS_DATA_DIR"]) / "maintenance.flag").exists()


def test_a_run_that_fails_exits_non_zero(env: dict[str, str], tmp_path: Path) -> None:
    policy = yaml.safe_load(default_policy_text())
    policy["commands"]["local_allow"].append("^ls /nonexistent$")
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy))
    env["ALTLAS_POLICY_FILE"] = str(tmp_path / "policy.yaml")
    plan_file = tmp_path / "plan.alt.json"
    plan_file.write_text(json.dumps({"alt": 1, "request": "list what is not there", "steps": [
        {"id": "s1", "kind": "local", "action": "ls /nonexistent"}]}))
    result = altlas(env, "alt", "submit", str(plan_file), "--as", "erin", "--run")
    assert result.returncode == 1, result.stdout
    assert "exited with code 2" in result.stdout and "failed." in result.stdout


def test_dream_mode_shows_the_plan_in_text_and_json_and_runs_nothing(
    env: dict[str, str]
) -> None:
    text = altlas(env, "do", "check disk and load on the altlas host", "--as", "erin",
                  "--mode", "dream")
    assert text.returncode == 0 and "Dream mode: this plan is shown, never run." in text.stdout
    as_json = json.loads(altlas(env, "do", "check disk and load on the altlas host", "--as",
                                "erin", "--mode", "dream", "--json").stdout)
    assert as_json["task"]["mode"] == "dream" and as_json["task"]["status"] == "segmented"
    assert "run" not in as_json
    types = [e["type"] for e in json.loads(altlas(env, "events", "--json").stdout)]
    assert "RunStarted" not in types


def test_listings_as_of_a_time_show_what_was_true_then(env: dict[str, str]) -> None:
    assert altlas(env, "demo").returncode == 0
    votes = json.loads(altlas(env, "timeline", "--type", "ApprovalVoteCast", "--json").stdout)
    then = json.loads(altlas(env, "run", "list", "--as-of", votes[0]["time"], "--json").stdout)
    assert [r["status"] for r in then["items"]] == ["running"]
    queue = json.loads(altlas(env, "approvals", "--as-of", votes[0]["time"], "--json").stdout)
    assert [a["votes"] for a in queue] == [["alice"]]
    now = json.loads(altlas(env, "run", "list", "--json").stdout)
    assert [r["outcome"] for r in now["items"]] == ["succeeded"]


def test_a_command_prints_its_result_and_no_log_lines_by_default(env: dict[str, str]) -> None:
    done = altlas(env, "do", "check disk on the altlas host",
                  "--as", "erin")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "check disk" in done.stdout


def test_altlas_alone_prints_the_help_and_version_names_the_release(env: dict[str, str]
                                                                     ) -> None:
    bare = altlas(env)
    assert bare.returncode == 0 and bare.stdout.startswith("usage: altlas")
    assert "COMMAND" in bare.stdout and "task" in bare.stdout
    assert altlas(env, "--version").stdout == "altlas 0.1.0\n"


def test_commands_that_set_up_record_or_run_answer_in_json(env: dict[str, str]) -> None:
    checked = json.loads(altlas(env, "policy", "check", "--json").stdout)
    assert checked["ok"] and checked["people"] == 5
    key = json.loads(altlas(env, "key", "new", "--json").stdout)["ALTLAS_CIPHER_KEY"]
    assert len(base64.b64decode(key)) == 32
    task = json.loads(altlas(env, "task", "request", "check disk on web-1", "--as", "erin",
                             "--json").stdout)
    assert task["requester"] == "erin" and task["request"] == "check disk on web-1"
    demo = altlas(env, "demo", "--json")
    assert demo.returncode == 0 and "altlas demo" in demo.stderr
    assert json.loads(demo.stdout) | {"task": "", "run": ""} == {
        "task": "", "run": "", "outcome": "succeeded", "events": 16, "verified": True}


def test_the_shell_completes_commands_and_their_choices(env: dict[str, str],
                                                          tmp_path: Path) -> None:
    script = altlas(env, "completion", "bash")
    assert script.returncode == 0 and "complete " in script.stdout
    answers = tmp_path / "completions"
    line = "altlas incidents --status "
    asked = subprocess.run([sys.executable, "-m", "altlas"], capture_output=True, timeout=60,
                           env={**env, "_ARGCOMPLETE": "1", "COMP_LINE": line,
                                "COMP_POINT": str(len(line)),
                                "_ARGCOMPLETE_STDOUT_FILENAME": str(answers)})
    assert asked.returncode == 0
    assert answers.read_text().split("\v") == ["open", "resolved", "merged", "all"]


def test_a_step_longer_than_two_seconds_shows_what_it_waits_for_on_a_terminal_only(
        env: dict[str, str], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(default_policy_text().replace(
        "    - '^uptime$'", "    - '^uptime$'\n    - '^sleep [0-9]+$'"))
    plan = tmp_path / "slow.alt"
    plan.write_text(json.dumps({"alt": 1, "request": "wait a bit", "steps": [
        {"id": "s1", "kind": "local", "action": "sleep 4", "target": "localhost", "needs": [],
         "timeout_s": 30, "retries": 0, "risk": "READ_ONLY", "description": "wait",
         "params": {}}]}))
    env = {**env, "ALTLAS_POLICY_FILE": str(policy)}
    argv = [sys.executable, "-m", "altlas", "alt", "submit", str(plan), "--as", "erin", "--run"]
    screen, terminal = pty.openpty()
    with subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=terminal,
                          text=True) as process:
        os.close(terminal)
        shown = b""
        with contextlib.suppress(OSError):  # the terminal closes with the process
            while chunk := os.read(screen, 1024):
                shown += chunk
        out = process.stdout.read() if process.stdout else ""
    os.close(screen)
    assert process.returncode == 0 and "s1   succeeded" in out
    assert re.search(rb"\r\x1b\[K[2-4]s  running s1 \(sleep 4 on localhost\)", shown)
    assert shown.endswith(b"\r\x1b[K")  # gone before the result
    piped = altlas(env, "alt", "submit", str(plan), "--as", "erin", "--run")
    assert piped.returncode == 0 and piped.stderr == ""


def test_the_log_level_setting_is_honoured(env: dict[str, str]) -> None:
    quiet = altlas({**env, "ALTLAS_LOG_LEVEL": "WARNING"}, "do", "check disk on the altlas host",
                   "--as", "erin")
    assert quiet.returncode == 0 and " INFO " not in quiet.stderr and "DEBUG" not in quiet.stderr
    loud = altlas({**env, "ALTLAS_LOG_LEVEL": "DEBUG"}, "do", "check disk on the altlas host",
                  "--as", "erin")
    assert loud.returncode == 0 and " DEBUG " in loud.stderr


def test_processes_starting_together_on_a_fresh_data_dir_all_start_cleanly(
    env: dict[str, str], tmp_path: Path
) -> None:
    for round_ in range(2):
        fresh = {**env, "ALTLAS_DATA_DIR": str(tmp_path / f"fresh{round_}")}
        commands = [("worker", "--until-quiet"), ("worker", "--until-quiet"), ("task", "list"),
                    ("approvals",), ("run", "list")]
        procs = [subprocess.Popen([sys.executable, "-m", "altlas", *c], env=fresh,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for c in commands]
        outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
        assert [code for code, _ in outcomes] == [0] * len(commands), outcomes
        again = altlas(fresh, "do", "check disk on the altlas host", "--as", "erin")
        assert again.returncode == 0, again.stderr


def test_a_request_naming_no_host_is_asked_back_and_answered_from_the_cli(
    env: dict[str, str]
) -> None:
    env = {**env, "ALTLAS_SEGMENTER": "rules"}
    asked = altlas(env, "do", "check disk on the web server", "--as", "erin")
    assert asked.returncode == 0, asked.stderr
    lines = asked.stdout.splitlines()
    assert "Which host should “check disk on the web server” run on?" in lines
    assert "Choose one: 1. web-1, 2. web-2" in lines
    how = next(line for line in lines if line.startswith("Answer with: altlas task answer "))
    task = how.split()[5]
    assert how.endswith("CHOICE --as erin")

    assert one_line_error(altlas(env, "task", "answer", task, "3", "--as", "erin")) == (
        "altlas: '3' is not one of the choices: 1. web-1, 2. web-2")
    assert one_line_error(altlas(env, "task", "answer", task, "1", "--as", "alice")) == (
        "altlas: only erin, who asked for it, may answer what altlas asked about this task")
    answered = altlas(env, "task", "answer", task, "2", "--as", "erin")
    # planned on web-2 and run at once (read-only); no SSH is set up here, so it fails
    assert "df -h" in answered.stdout and "@web-2" in answered.stdout
    assert answered.returncode == 1 and "ALTLAS_SSH_KNOWN_HOSTS is not set" in answered.stdout
    again = altlas(env, "task", "answer", task, "1", "--as", "erin")
    assert "is not waiting for an answer (it is segmented)" in one_line_error(again)
    shown = json.loads(altlas(env, "task", "show", task, "--json").stdout)
    assert shown["answers"] == [{"about": "host", "part": None, "answer": "2", "host": "web-2",
                                 "by": "erin"}]


def test_a_turkish_request_is_asked_back_in_turkish(env: dict[str, str]) -> None:
    env = {**env, "ALTLAS_SEGMENTER": "rules"}
    asked = altlas(env, "do", "nginx'i yeniden başlat", "--as", "deniz")
    assert "“nginx'i yeniden başlat” hangi sunucuda çalışsın?" in asked.stdout
    assert "Yanıtlamak için: altlas task answer" in asked.stdout
