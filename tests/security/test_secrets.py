"""Secrets never in the history: a plan names its secrets (``{secret:NAME}``) and altlas puts
their values in only when the step runs, where they are data; a plan that holds a credential
itself is refused, whichever way it arrives; what steps print, answer and fail with is redacted
before it is recorded, and counted; no log line, traceback or chat reply shows a secret.

Written as someone trying to get a credential into the record, or out of it: every test reads
back everything there is (the events, the exports, the views, the store's files, the logs) and
looks for the values themselves."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest
import yaml

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.core import run_id_of
from application.documents import DocumentError
from application.i18n import t
from application.ports import SegmentationRequest
from application.segmentation import SegmentationService
from application.snapshots import RunView
from testkit.fakes.local_http import QuietHandler, local_http
from testkit.helpers import auth, peer_policy, plan, step, token_policy
from testkit.views import dump
from tests.conftest import SSHPeer
from tests.security.gatehouse import Gatehouse, gatehouse

DB_PASSWORD = "db-Pa55word-7f3a9c"
API_TOKEN = "tok_9f8e7d6c5b4a3210"
FROM_ENV = "env-Secret-31415926"
RESPONSE_TOKEN = "resp-Token-27182818"
COOKIE = "cookie-Session-16180339"
LITERAL = "hunter2-Literal-Cred"
USE_A_REFERENCE = "a literal credential; use {secret:NAME}"
# What no log line of the whole test run may hold (tests/security/leak_check.py).
LEAK_MARKERS = {"DB_PASSWORD": DB_PASSWORD, "API_TOKEN": API_TOKEN, "FROM_ENV": FROM_ENV,
                "RESPONSE_TOKEN": RESPONSE_TOKEN, "COOKIE": COOKIE, "LITERAL": LITERAL}


def tricky(marker: Path) -> str:
    """A value any shell would act on: quotes, a command substitution, a separator."""
    return f"it's \"q\" $(touch {marker}) `touch {marker}` ;touch {marker} #"


class _Login(QuietHandler):
    """A service that wants a bearer token and hands out a session: its answer holds
    credentials in headers and body, and echoes the one it was sent."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        sent = self.headers.get("Authorization", "")
        _Login.seen.append({"path": self.path, "authorization": sent})
        self.reply_json(200, {"access_token": RESPONSE_TOKEN, "user": "bob", "echo": sent},
                        {"Set-Cookie": f"session={COOKIE}; HttpOnly",
                         "Authorization": f"Bearer {RESPONSE_TOKEN}"})


@pytest.fixture
def service() -> Iterator[int]:
    _Login.seen.clear()
    with local_http(_Login) as port:
        yield port


@dataclass
class Vault:
    """altlas with secrets from a file and the environment, its hosts at the test sshd, and
    web-1 answering http steps at the test service."""

    system: System
    data_dir: Path
    env: dict[str, str]  # for the CLI on the same store
    values: tuple[str, ...]  # every secret value a test must never find
    marker: Path
    closed: bool = False

    def close(self) -> None:
        """Close altlas here, for the command line to read the store's files."""
        if not self.closed:
            self.system.close()
            self.closed = True

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "altlas", *args], env=self.env,
                              capture_output=True, text=True, timeout=120)


def write_policy(tmp_path: Path, ssh_peer: SSHPeer, port: int) -> Path:
    data = yaml.safe_load(peer_policy(ssh_peer.port, ssh_peer.user))
    data["hosts"]["web-1"]["http"] = [port]
    tokens = yaml.safe_load(token_policy())
    data["api_tokens"], data["people"] = tokens["api_tokens"], tokens["people"]
    data["secrets"] = {  # where secret_steps send each
        "DB_PASSWORD": {"hosts": ["localhost", "web-1"], "kinds": ["local", "ssh"]},
        "FROM_ENV": {"hosts": ["web-1"], "kinds": ["ssh"]},
        "TRICKY": {"hosts": ["web-1"], "kinds": ["ssh"]},
        "API_TOKEN": {"hosts": ["web-1"], "kinds": ["http"],
                      "urls": [f"http://127.0.0.1:{port}/login"]},
        "NOT_DEFINED": {"hosts": ["localhost", "web-1"]},
    }
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def write_secrets(tmp_path: Path, marker: Path, mode: int = 0o600) -> Path:
    path = tmp_path / "secrets"
    path.write_text(f"# the test's secrets\nDB_PASSWORD={DB_PASSWORD}\n\n"
                    f"API_TOKEN={API_TOKEN}\nTRICKY={tricky(marker)}\n")
    path.chmod(mode)
    return path


def settings_env(data_dir: Path, policy: Path, secrets: Path, ssh_peer: SSHPeer
                 ) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    return {**clean, "ALTLAS_DATA_DIR": str(data_dir), "ALTLAS_POLICY_FILE": str(policy),
            "ALTLAS_SECRETS_FILE": str(secrets), "ALTLAS_SECRET_FROM_ENV": FROM_ENV,
            "ALTLAS_SEGMENTER": "rules", "ALTLAS_SSH_KNOWN_HOSTS": str(ssh_peer.known_hosts),
            "ALTLAS_SSH_KEY": str(ssh_peer.client_key), "ALTLAS_POLL_INTERVAL_MS": "50"}


@pytest.fixture
def vault(tmp_path: Path, ssh_peer: SSHPeer, service: int,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Vault]:
    marker = tmp_path / "pwned"
    policy = write_policy(tmp_path, ssh_peer, service)
    secrets = write_secrets(tmp_path, marker)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("ALTLAS_SECRET_FROM_ENV", FROM_ENV)
    system = bootstrap(Settings(data_dir=data_dir, policy_file=policy, secrets_file=secrets,
                                segmenter="rules", ssh_known_hosts=ssh_peer.known_hosts,
                                ssh_key=ssh_peer.client_key, poll_interval_ms=50))
    env = settings_env(data_dir, policy, secrets, ssh_peer)
    vault = Vault(system, data_dir, env, (DB_PASSWORD, API_TOKEN, FROM_ENV, RESPONSE_TOKEN,
                                          COOKIE, tricky(marker)), marker)
    try:
        yield vault
    finally:
        vault.close()


def run(system: System, *steps: dict[str, Any]) -> RunView:
    task = system.app.submit_plan("use the secrets", plan(*steps), "deniz")
    system.worker().until_quiet()
    return system.app.get_run(run_id_of(UUID(task.id)))


def leaks(text: str, values: tuple[str, ...]) -> list[str]:
    """The secret values found in ``text``: as they are, JSON-escaped, or quoted for a
    shell (as the ssh executor sends them, and its library logs them)."""
    return [v for v in values
            if any(form in text for form in (v, json.dumps(v)[1:-1], shlex.quote(v),
                                              v.replace("'", "'\"'\"'")))]


def store_files(data_dir: Path) -> bytes:
    """Every byte of the event store and the views, their journals included."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


# -- secrets reach their steps, never the record -----------------------------------------------

def secret_steps(service: int) -> list[dict[str, Any]]:
    return [
        step("s1", action="echo {secret:DB_PASSWORD}"),
        step("s2", kind="ssh", target="web-1",
             action="echo PASSWORD={secret:DB_PASSWORD} token={secret:FROM_ENV}"),
        step("s3", kind="ssh", target="web-1", action="echo {secret:TRICKY}"),
        step("s4", kind="http", target="web-1",
             action=f"http://127.0.0.1:{service}/login?key={{secret:API_TOKEN}}",
             params={"headers": {"Authorization": "Bearer {secret:API_TOKEN}"},
                     "extract": {"token": "$.access_token", "user": "$.user"}}),
        step("s5", kind="llm", action="summarise", needs=["s1", "s2", "s3", "s4"]),
    ]


def test_secrets_reach_the_steps_and_only_their_references_are_recorded(
    vault: Vault, service: int
) -> None:
    result = run(vault.system, *secret_steps(service))
    steps = {s.id: s for s in result.steps}
    assert result.outcome == "succeeded", [(s.id, s.error) for s in result.steps]
    # each step got the value, as one argument, exactly
    assert steps["s1"].output == "[redacted]\n" and steps["s1"].redacted == 1
    assert steps["s2"].output == "PASSWORD=[redacted] token=[redacted]\n"
    assert steps["s2"].redacted == 2
    assert steps["s3"].output == "[redacted]\n", "the value was split or interpreted"
    assert not vault.marker.exists(), "a secret's value ran as shell code"
    assert _Login.seen == [{"path": f"/login?key={API_TOKEN}",
                            "authorization": f"Bearer {API_TOKEN}"}]
    # the answer's credentials are gone, what else it said is kept
    assert steps["s4"].facts == {"status_code": 200, "token": "[redacted]", "user": "bob"}
    assert '"user": "bob"' in steps["s4"].output and steps["s4"].redacted >= 2
    assert steps["s5"].redacted == 0
    # the plan keeps the references
    task = vault.system.app.get_task(UUID(result.task_id))
    assert task.plan is not None
    assert task.plan["steps"][3]["params"]["headers"]["Authorization"] == \
        "Bearer {secret:API_TOKEN}"
    everything = json.dumps([r.to_dict() for r in vault.system.history.read()])
    assert "{secret:API_TOKEN}" in everything
    assert leaks(everything, vault.values) == []


def test_nothing_that_reads_the_history_shows_a_secret(vault: Vault, service: int) -> None:
    result = run(vault.system, *secret_steps(service))
    assert result.outcome == "succeeded"
    vault.system.store_feed().catch_up()
    rows = {r["step_id"]: r for r in dump(vault.system.views())["run_steps"]}
    assert rows["s1"]["redacted"] == 1 and rows["s2"]["redacted"] == 2
    front = vault.system.chat()
    caller = front.caller("cli:deniz", "cli", person="deniz")
    reply = front.run(caller, f"status {result.id}")
    for count in (1, 2):  # in the person's language
        assert t(reply.locale, "redacted", n=count) in reply.text, reply.text
    assert leaks(reply.text, vault.values) == []
    vault.close()
    outputs = [vault.cli("events", "--json"), vault.cli("audit", "export"),
               vault.cli("run", "show", result.id), vault.cli("run", "export", result.id),
               vault.cli("task", "export", result.task_id), vault.cli("audit", "verify")]
    for done in outputs:
        assert done.returncode == 0, done.stderr
        assert leaks(done.stdout + done.stderr, vault.values) == [], done.args
    assert "(2 value(s) redacted)" in outputs[2].stdout
    assert {s["id"]: s["redacted"] for s in json.loads(outputs[3].stdout)["steps"]}["s2"] == 2
    raw = store_files(vault.data_dir)
    assert raw and not [v for v in vault.values if v.encode() in raw]


def test_a_host_that_prints_credentials_is_recorded_redacted_and_counted(
    vault: Vault
) -> None:
    """The plan holds none (each is printed in three pieces); the host's output does."""
    result = run(vault.system, step(
        "s1", kind="ssh", target="web-1",
        action="printf '%s%s%s\\n' PASS WORD= hunter2x Authoriz 'ation: Bea' 'rer abc.def.123' "
               "AKIA IOSFODNN7 EXAMPLE '{\"api_' 'key\": \"k-12' '3\", \"n\": 1}'"))
    [s1] = result.steps
    assert s1.status == "succeeded", s1.error
    assert s1.output == ("PASSWORD=[redacted]\nAuthorization: [redacted]\n[redacted]\n"
                         '{"api_key": "[redacted]", "n": 1}\n')
    assert s1.redacted == 4
    assert not [r for r in vault.system.history.read()
                if r.type_name == "StepSucceeded" and "hunter2x" in json.dumps(r.to_dict())]


def test_an_unknown_secret_fails_the_step_without_running_it(vault: Vault,
                                                             service: int) -> None:
    result = run(vault.system,
                 step("s1", action="echo {secret:NOT_DEFINED}", retries=2),
                 step("s2", kind="http", target="web-1", action=f"http://127.0.0.1:{service}/x",
                      params={"headers": {"Authorization": "Bearer {secret:NOT_DEFINED}"}}))
    for s in result.steps:
        assert s.status == "failed" and s.attempts == 1, s
        assert s.error is not None and s.error.startswith("secret NOT_DEFINED is not defined")
        assert "ALTLAS_SECRET_NOT_DEFINED" in s.error
    assert _Login.seen == []
    assert leaks(json.dumps([r.to_dict() for r in vault.system.history.read()]),
                 vault.values) == []


def test_an_outcome_reported_by_a_person_is_redacted_too(vault: Vault) -> None:
    task = vault.system.app.submit_plan("by hand", plan(step("s1", action="df -h")), "deniz")
    run_id = run_id_of(UUID(task.id))
    vault.system.app.start_run(UUID(task.id), actor="deniz")
    vault.system.app.record_step_started(run_id, "s1", actor="deniz")
    vault.system.app.record_step_succeeded(
        run_id, "s1", exit_code=0, output=f"logged in with {API_TOKEN}", duration_ms=1,
        facts={"password": "x", "note": f"Bearer {DB_PASSWORD}"}, actor="deniz")
    s1 = vault.system.app.get_run(run_id).steps[0]
    assert s1.output == "logged in with [redacted]" and s1.redacted == 3
    assert s1.facts == {"password": "[redacted]", "note": "Bearer [redacted]"}


# -- a plan holding a credential is refused, however it arrives ----------------------------

LEAKY_PLAN = plan(
    step("s1", kind="http", action="https://web-1/api?token=" + LITERAL, target="web-1",
         params={"headers": {"authorization": f"Bearer {LITERAL}",
                             "X-Api-Key": LITERAL},
                 "body": json.dumps({"password": LITERAL})}),
    step("s2", kind="ssh", target="web-1", action=f"mysql --password={LITERAL} -e 'select 1'"),
)
LEAKY_PATHS = ["$.steps[0].action", "$.steps[0].params.headers.authorization",
               "$.steps[0].params.headers['X-Api-Key']", "$.steps[0].params.body",
               "$.steps[1].action"]


def test_the_application_refuses_every_literal_with_its_path(vault: Vault) -> None:
    before = vault.system.history.last_position()
    with pytest.raises(DocumentError) as refused:
        vault.system.app.submit_plan("leaky", LEAKY_PLAN, "deniz")
    assert refused.value.problems == [f"{p}: {USE_A_REFERENCE}" for p in LEAKY_PATHS]
    assert LITERAL not in str(refused.value)
    assert vault.system.history.last_position() == before


def test_the_command_line_refuses_it_and_records_nothing(vault: Vault, tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.alt"
    leaky.write_text(json.dumps(LEAKY_PLAN))
    vault.close()
    checked = vault.cli("alt", "validate", str(leaky))
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [f"{leaky}: {p}: {USE_A_REFERENCE}"
                                           for p in LEAKY_PATHS]
    submitted = vault.cli("alt", "submit", str(leaky), "--as", "deniz")
    assert submitted.returncode == 2 and submitted.stdout == ""
    assert submitted.stderr.count("\n") == 1 and "$.steps[0].params.body" in submitted.stderr
    requested = vault.cli("task", "request", "call the api", "--as", "deniz")
    assert requested.returncode == 0, requested.stderr
    planned = vault.cli("task", "plan", requested.stdout.strip(), str(leaky), "--as", "deniz")
    assert planned.returncode == 2 and "$.steps[1].action" in planned.stderr
    events = vault.cli("events", "--json")
    for done in (checked, submitted, planned, events):
        assert LITERAL not in done.stdout + done.stderr
    assert [e["type"] for e in json.loads(events.stdout)] == ["TaskRequested"]
    assert LITERAL.encode() not in store_files(vault.data_dir)


@pytest.fixture
def house(tmp_path: Path) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path, worker=False) as h:
        yield h


def test_the_http_api_refuses_it_with_403_and_the_paths(house: Gatehouse) -> None:
    """A well-formed plan the rules refuse: 403, as the schema cannot say it."""
    task = house.post("/tasks", "deniz", {"request": "call the api"}).json()
    r = house.post(f"/tasks/{task['id']}/segmentation", "deniz", {"plan": LEAKY_PLAN})
    assert r.status_code == 403, r.text
    for path in LEAKY_PATHS:
        assert f"{path}: {USE_A_REFERENCE}" in r.text
    assert LITERAL not in r.text
    assert LITERAL not in json.dumps(house.get("/events", "alice", limit=1000)["items"])


class _Leaky:
    """A segmenter that copies a credential from the request into the plan."""

    name = "leaky"
    deterministic = True

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        return plan(step("s1", kind="ssh", target="web-1",
                         action=f"curl -H 'Authorization: Bearer {LITERAL}' http://x"))


def test_a_segmenters_plan_holding_one_is_rejected_saying_where(tmp_path: Path) -> None:
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules"))
    try:
        system.segmentation = SegmentationService(system.app, _Leaky(), None)
        task_id = system.app.request_task("restart the api on web-1", "deniz")
        system.worker().until_quiet()
        task = system.app.get_task(task_id)
        assert task.status == "rejected"
        assert task.rejection == f"$.steps[0].action: {USE_A_REFERENCE}"
        assert LITERAL not in json.dumps([r.to_dict() for r in system.history.read()])
    finally:
        system.close()


# -- the secrets file ---------------------------------------------------------------------

def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_secrets_file_others_may_read_is_refused_at_start_up(
    tmp_path: Path, ssh_peer: SSHPeer, mode: int
) -> None:
    secrets = write_secrets(tmp_path, tmp_path / "m", mode)
    env = settings_env(tmp_path / "data", write_policy(tmp_path, ssh_peer, 9), secrets,
                       ssh_peer)
    for command in (("events",), ("serve", "--port", "1"), ("worker", "--until-quiet")):
        line = one_line(subprocess.run([sys.executable, "-m", "altlas", *command], env=env,
                                       capture_output=True, text=True, timeout=120))
        assert line == (f"altlas: ALTLAS_SECRETS_FILE: {secrets} is open to group or others "
                        f"(mode {mode:04o}); make it readable by its owner only: chmod 600 "
                        f"{secrets}")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(("content", "env", "said"), [
    ("DB_PASSWORD\n", {}, "line 1 is not NAME=value"),
    ("# ok\nlower=abcdef\n", {}, "line 2 is not NAME=value"),
    (f"PIN=123\nX={DB_PASSWORD}\n", {}, "secret PIN ("),
    ("", {"ALTLAS_SECRET_SHORT": "ab"}, "secret SHORT (ALTLAS_SECRET_SHORT) is shorter"),
    ("", {"ALTLAS_SECRET_bad-name": DB_PASSWORD}, "ALTLAS_SECRET_bad-name does not name a"),
])
def test_a_bad_secret_is_refused_at_start_up_without_its_value(
    tmp_path: Path, ssh_peer: SSHPeer, content: str, env: dict[str, str], said: str
) -> None:
    secrets = tmp_path / "secrets"
    secrets.write_text(content)
    secrets.chmod(0o600)
    full = {**settings_env(tmp_path / "data", write_policy(tmp_path, ssh_peer, 9), secrets,
                           ssh_peer), **env}
    result = subprocess.run([sys.executable, "-m", "altlas", "events"], env=full,
                            capture_output=True, text=True, timeout=120)
    line = one_line(result)
    assert said in line and DB_PASSWORD not in line and "=123" not in line


# -- logs and tracebacks ------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, person: str = "deniz") -> Any:
    request = urllib.request.Request(url, headers=auth(person))
    with urllib.request.urlopen(request, timeout=5) as r:
        return json.load(r)


def _settled(url: str, log: Path) -> Any:
    deadline = time.monotonic() + 90
    while True:
        try:
            found = _get(url)
            if found["outcome"] is not None:
                return found
        except urllib.error.HTTPError as e:  # not started yet
            assert e.code == 404, e
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)


def test_the_server_and_the_command_line_never_log_a_secret(
    tmp_path: Path, ssh_peer: SSHPeer, service: int
) -> None:
    """altlas serve at DEBUG runs steps that put secrets in URLs, headers and commands;
    its access log sees them in query strings; the command line submits the plan."""
    marker = tmp_path / "pwned"
    env = {**settings_env(tmp_path / "data", write_policy(tmp_path, ssh_peer, service),
                          write_secrets(tmp_path, marker), ssh_peer),
           "ALTLAS_LOG_LEVEL": "DEBUG", "ALTLAS_LITELLM_API_KEY": "sk-LiteLLM-Key-0123456789"}
    values = (DB_PASSWORD, API_TOKEN, FROM_ENV, RESPONSE_TOKEN, COOKIE, tricky(marker),
              "sk-LiteLLM-Key-0123456789")
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "altlas", "serve", "--port",
                                   str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(f"{base}/healthz?token={DB_PASSWORD}&k={API_TOKEN}")
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        document = tmp_path / "plan.alt"
        document.write_text(json.dumps(plan(*secret_steps(service))))
        submitted = subprocess.run(
            [sys.executable, "-m", "altlas", "alt", "submit", str(document), "--as", "deniz",
             "--json"], env=env, capture_output=True, text=True, timeout=120)
        assert submitted.returncode == 0, submitted.stderr
        run_id = run_id_of(UUID(json.loads(submitted.stdout)["id"]))
        assert _settled(f"{base}/runs/{run_id}", log)["outcome"] == "succeeded"
        try:  # a refused request whose body holds a credential
            urllib.request.urlopen(urllib.request.Request(
                f"{base}/tasks/{UUID(int=1)}/segmentation", method="POST",
                data=json.dumps({"plan": LEAKY_PLAN}).encode(),
                headers={"Content-Type": "application/json", **auth("deniz")}), timeout=5)
        except urllib.error.HTTPError as e:
            assert LITERAL not in e.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)
    logged = log.read_text() + submitted.stderr
    assert "HTTP Request: GET" in logged and "/healthz?token=" in logged  # they were logged
    assert leaks(logged, values) == [] and LITERAL not in logged
    assert not marker.exists()


@pytest.mark.parametrize("into", [
    "postgresql://altlas:Into-Pa55word@127.0.0.1:notaport/db",
    "postgresql://altlas:Into-Pa55word@[::1/db",
    "postgresql://altlas:Into-Pa55word@127.0.0.1:1/db",
    "mysql://altlas:Into-Pa55word@127.0.0.1/db",
    "postgresql://altlas:Into-Pa55word@127.0.0.1:5432/db?schema=Bad-Name",
])
def test_a_bad_replay_target_is_one_line_without_its_password(tmp_path: Path,
                                                               into: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    env = {**clean, "ALTLAS_DATA_DIR": str(tmp_path / "data"), "ALTLAS_LOG_LEVEL": "DEBUG"}
    line = one_line(subprocess.run(
        [sys.executable, "-m", "altlas", "audit", "replay", "--until", "2030-01-01T00:00:00Z",
         "--into", into], env=env, capture_output=True, text=True, timeout=120))
    assert line.startswith("altlas: ") and "Into-Pa55word" not in line


def test_a_bad_replay_target_over_http_is_422_without_its_password(house: Gatehouse) -> None:
    for into in ("postgresql://altlas:Into-Pa55word@127.0.0.1:notaport/db",
                 "postgresql://altlas:Into-Pa55word@[::1/db"):
        r = house.post("/audit/replay", "adam", {"until": "2030-01-01T00:00:00Z",
                                                  "into": into})
        assert r.status_code == 422, r.text
        assert "replay target" in r.text and "Into-Pa55word" not in r.text

