"""Getting around a runbook's parameters: a value that tries to become another command,
through HTTP, chat and the command line, and templates whose placeholders a value could
escape from. A value is refused naming its parameter, or it runs as one argument of the
program its author wrote: never as a program of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bots.chat import ChatFront
from domain.commands import analyse, mode_of
from domain.runbooks import RunbookError
from tests.security.gatehouse import Gatehouse, gatehouse

GREP = {"runbook": 1, "name": "grep-log", "parameters": {
    "host": {"kind": "host"},
    "pattern": {"kind": "text", "pattern": "^.{1,100}$"},  # an author's lax pattern
    "lines": {"kind": "number", "minimum": 1, "maximum": 1000}},
    "plan": {"alt": 1, "steps": [
        {"id": "find", "kind": "ssh", "action": "grep -m {param:lines} {param:pattern} "
         "/var/log/syslog", "target": "{param:host}"},
        {"id": "rate", "kind": "promql",
         "action": "rate(log_lines_total{host=\"{param:host}\"}[5m]) > {param:lines}"}]}}
ESCAPES = ["x; reboot", "$(reboot)", "`reboot`", "x && rm -rf /", "x | sh", "' ; reboot ; '",
           '" ; reboot ; "', "x\\; reboot", "-e reboot", "x > /etc/passwd", "*", "~root",
           "x\u202e; reboot", "ｘ；reboot"]


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path_factory.mktemp("runbooks"), worker=False) as found:
        found.system.use_cases().publish_runbook("alice", GREP)
        yield found


def programs(house: Gatehouse, task_id: str) -> list[tuple[str, ...]]:
    """What the recorded task's ssh step will run, as the policy reads it."""
    step = house.system.use_cases().task(None, task_id).plan["steps"][0]  # type: ignore[index]
    action = step["action"]
    return [p.argv for p in analyse(action, mode_of("ssh", action)).programs]


def assert_one_argument(house: Gatehouse, answer: Any, value: str) -> None:
    if answer.status_code == 422:  # refused as a whole: fine, if it names the parameter
        assert "parameter pattern" in answer.json()["message"]
        return
    if answer.status_code == 403:  # the filled plan breaks a rule of the policy: refused
        assert answer.json()["error"] == "step_refused"
        return
    assert answer.status_code == 201, answer.text
    assert programs(house, answer.json()["id"]) == [
        ("grep", "-m", "5", value, "/var/log/syslog")]


@pytest.mark.parametrize("value", ESCAPES)
def test_a_value_over_http_stays_one_argument_of_the_authors_program(
        house: Gatehouse, value: str) -> None:
    answer = house.post("/runbooks/grep-log/runs", "bob", {"parameters": {
        "host": "web-1", "pattern": value, "lines": 5}})
    assert_one_argument(house, answer, value)


@pytest.mark.parametrize("value", ["x; reboot", "$(reboot)", "' ; reboot ; '"])
def test_a_value_in_chat_stays_one_argument_too(house: Gatehouse, value: str) -> None:
    chat = ChatFront(house.system.use_cases())
    quoted = json.dumps(f"pattern={value}")  # as a person quotes a value with spaces
    reply = chat.run(chat.caller("slack:U0BOB0001", "slack"),
                     f"run grep-log host=web-1 lines=5 {quoted}")
    assert reply.task_id is not None, reply.text
    assert programs(house, reply.task_id) == [("grep", "-m", "5", value, "/var/log/syslog")]


def test_a_value_on_the_command_line_stays_one_argument_too(house: Gatehouse) -> None:
    done = house.cli("runbook", "run", "grep-log", "--param", "host=web-1", "--param",
                     "lines=5", "--param", "pattern=$(reboot); reboot", "--as", "bob", "--json")
    assert done.returncode == 0, done.stderr
    assert programs(house, json.loads(done.stdout)["id"]) == [
        ("grep", "-m", "5", "$(reboot); reboot", "/var/log/syslog")]


@pytest.mark.parametrize(("values", "named"), [
    ({"host": "web-1; reboot", "pattern": "x", "lines": 5}, "host"),
    ({"host": "web-1", "pattern": "x", "lines": "5; reboot"}, "lines"),
    ({"host": "web-1", "pattern": "x", "lines": 5000}, "lines"),
    ({"host": "web-1", "pattern": "{secret:STATUS_TOKEN}", "lines": 5}, "pattern"),
    ({"host": "web-1", "pattern": "x\nreboot", "lines": 5}, "pattern"),
    ({"host": "web-1", "pattern": "x", "lines": 5, "pattern}": "x"}, "pattern}"),
])
def test_a_value_its_schema_or_place_refuses_is_422_naming_it_and_records_nothing(
        house: Gatehouse, values: dict[str, Any], named: str) -> None:
    before = house.events()
    answer = house.post("/runbooks/grep-log/runs", "bob", {"parameters": values})
    assert answer.status_code == 422, answer.text
    assert f"parameter {named}" in answer.json()["message"]
    assert house.events() == before


def test_a_host_value_stands_in_a_promql_query_only_as_a_plain_name(house: Gatehouse) -> None:
    answer = house.post("/runbooks/grep-log/runs", "bob", {"parameters": {
        "host": "web-1", "pattern": "x", "lines": 5}})
    rate = answer.json()["plan"]["steps"][1]["action"]
    assert rate == 'rate(log_lines_total{host="web-1"}[5m]) > 5'


@pytest.mark.parametrize("action", [
    "grep '{param:pattern}' /var/log/syslog",      # inside single quotes
    'grep "{param:pattern}" /var/log/syslog',      # inside double quotes
    "{param:pattern} /var/log/syslog",             # as the program
    "sudo {param:pattern}",                         # as the program, behind a wrapper
    "sh -c {param:pattern}",                        # as code for an interpreter
    "grep x $({param:pattern})",                    # in a command substitution
    "grep x `{param:pattern}`",
    "grep x | {param:pattern}",                     # as the next program of a pipe
    "X={param:pattern} grep x /var/log/syslog",     # as an environment assignment
])
def test_a_template_a_value_could_escape_from_is_never_published(
        house: Gatehouse, action: str) -> None:
    document = {**GREP, "name": "escape", "parameters": {
        "host": {"kind": "host"}, "pattern": {"kind": "text", "pattern": "^.{1,100}$"}},
        "plan": {"alt": 1, "steps": [{"id": "find", "kind": "ssh", "action": action,
                                      "target": "{param:host}"}]}}
    with pytest.raises(RunbookError):
        house.system.use_cases().publish_runbook("alice", document)
    assert "escape" not in {r["name"] for r in house.system.use_cases().runbooks(None)}


def test_a_runbook_file_with_an_escaping_template_is_refused_on_one_line(
        house: Gatehouse, tmp_path: Path) -> None:
    document = {**GREP, "name": "escape-cli", "plan": {"alt": 1, "steps": [
        {"id": "find", "kind": "ssh", "action": "grep -m {param:lines} '{param:pattern}' x",
         "target": "{param:host}"},
        GREP["plan"]["steps"][1]]}}
    done = house.cli("runbook", "publish", str(house.write("escape.json", document)),
                     "--as", "alice")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "altlas: step find: a value of {param:pattern} could change what runs; put each "
        "placeholder outside quotes, where an argument goes"]
