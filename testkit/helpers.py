"""Small builders shared by the unit, integration and end-to-end tests."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import gguf
import numpy as np
import yaml

from adapters.policy_file import default_policy_text, load_policy
from application.core import run_id_of
from domain.base import EventMeta
from domain.policy import Policy

if TYPE_CHECKING:
    from altlas.bootstrap import System
    from application.snapshots import RunView

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def meta(actor: str = "deniz") -> EventMeta:
    return EventMeta.for_command(actor)


def default_policy() -> Policy:
    return load_policy(None)


def step(step_id: str, kind: str = "local", action: str = "df -h", **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "kind": kind, "action": action, **extra}


def plan(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"alt": 1, "steps": list(steps)}


def gated_plan(flag: str = "/tmp/altlas-test/maintenance.flag") -> dict[str, Any]:
    """Two read-only steps and a HIGH_RISK change in prod that needs two approvals."""
    return plan(
        step("s1", action="df -h"),
        step("s2", action="uptime"),
        step("s3", action=f"touch {flag}", needs=["s1", "s2"]),
    )


def peer_policy(ssh_port: int, ssh_user: str = "altlas-test", **extra_rules: Any) -> str:
    """The default policy, its hosts reachable at the test sshd on loopback, plus a host
    nobody answers for (``ghost``) and commands the runner tests use."""
    import yaml

    from adapters.policy_file import default_policy_text

    data = yaml.safe_load(default_policy_text())
    for name, host in data["hosts"].items():
        if name != "localhost":
            host.update(address="127.0.0.1", port=ssh_port, user=ssh_user)
    data["hosts"]["ghost"] = {"env": "prod", "address": "127.0.0.1", "port": 1,
                              "user": ssh_user}
    data["commands"]["rules"][:0] = [
        {"match": r"^(sleep|head -c|echo|true|test|printf)\b", "effect": "read"}]
    data["commands"]["local_allow"] += [r"^sleep \d+(\.\d+)?$", r"^ls /tmp/altlas-\S+$",
                                        r"^head -c \d+ /dev/zero$", r"^echo "]
    for key, value in extra_rules.items():
        data[key] = value
    return str(yaml.safe_dump(data, sort_keys=False))


TOKENS = {"erin": "tok-erin", "alice": "tok-alice", "bob": "tok-bob", "carol": "tok-carol",
          "deniz": "tok-deniz", "ivy": "tok-ivy"}


ALERTMANAGER_TOKEN = "tok-alertmanager-7f3a"
ALERTMANAGER_PASSWORD = "am-password-91c2"


def token_policy() -> str:
    """The default policy with an API token for each test person: alice also audits and
    operates; ivy only audits."""
    import hashlib

    import yaml

    from adapters.policy_file import default_policy_text

    data = yaml.safe_load(default_policy_text())
    data["people"]["alice"]["roles"] = ["requester", "auditor", "operator"]
    data["people"]["ivy"] = {"roles": ["auditor"]}
    data["api_tokens"] = {hashlib.sha256(t.encode()).hexdigest(): who
                          for who, t in TOKENS.items()}
    data["alertmanager"] = {  # both ways Alertmanager's http_config can prove itself
        "bearer_sha256": hashlib.sha256(ALERTMANAGER_TOKEN.encode()).hexdigest(),
        "basic_auth": {"username": "alertmanager", "password_sha256": hashlib.sha256(
            ALERTMANAGER_PASSWORD.encode()).hexdigest()}}
    return str(yaml.safe_dump(data, sort_keys=False))


def auth(person: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[person]}"}


def crowd_policy(tmp: Path, people: int, quorum: int) -> Path:
    """The default policy with ``people`` on-call approvers, each with a Slack identity."""
    data = yaml.safe_load(default_policy_text())
    names = [f"sre{i:03d}" for i in range(people)]
    for i, name in enumerate(names):
        data["people"][name] = {"identities": [f"slack:U1{i:08d}"]}
    data["groups"]["sre-oncall"] = names
    data["environments"]["prod"]["approvals"]["HIGH_RISK"] = quorum
    path = tmp / "crowd.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_to_rest(system: System, document: dict[str, Any], *, requester: str = "deniz",
                environment: str | None = None, approve: bool = False) -> RunView:
    """Submit a hand-written plan and let the worker take its run as far as it goes; with
    ``approve``, the first eligible people grant every approval it opens."""
    task = system.app.submit_plan("test plan", document, requester, environment=environment)
    system.worker().until_quiet()
    run_id = run_id_of(UUID(task.id))
    if approve:
        for s in system.app.get_run(run_id).steps:
            if s.approval_id:
                approval = system.app.get_approval(UUID(s.approval_id))
                for voter in [p for p in approval.eligible if p != requester][
                        :approval.required]:
                    system.app.cast_vote(UUID(s.approval_id), voter)
        system.worker().until_quiet()
    return system.app.get_run(run_id)


APPEND = '''#!/usr/bin/env python3
"""append-line FILE LINE [PAUSE]: a step with a side effect a test can count."""
import sys, time
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
time.sleep(pause)
with open(sys.argv[1], "a") as f:
    f.write(sys.argv[2] + "\\n")
time.sleep(pause)
'''


def side_effects_policy(tmp: Path) -> tuple[Path, Path]:
    """A policy where the altlas host is a dev machine and an allow-listed script appends a
    line to a file: a change that runs at once (LOW_RISK), whose runs can be counted.
    Returns the policy file and the script."""
    script = tmp / "append-line"
    script.write_text(APPEND.replace("#!/usr/bin/env python3", f"#!{sys.executable}"))
    script.chmod(0o755)
    data = yaml.safe_load(default_policy_text())
    data["hosts"]["localhost"]["env"] = "dev"
    data["commands"]["rules"][:0] = [{"match": r"^\S*/append-line\s", "effect": "reversible"},
                                     {"match": r"^sleep\b", "effect": "read"}]
    data["commands"]["local_allow"] += [rf"^{script} \S+ \S+( [0-9.]+)?$",
                                        r"^sleep [0-9.]+$"]
    policy = tmp / "policy.yaml"
    policy.write_text(yaml.safe_dump(data, sort_keys=False))
    return policy, script


def verified_over_http(client: Any, headers: dict[str, str], timeout: float = 30,
                       **params: Any) -> dict[str, Any]:
    """GET /audit/verify starts a job: its end, asked about until it is done."""
    started = client.get("/audit/verify", headers=headers, params=params)
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + timeout
    while (job := client.get(started.headers["Location"], headers=headers).json())[
            "status"] == "running":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    result: dict[str, Any] = job["result"] or {}
    return result


def write_gguf(path: Path, *, context: int | None = 512, file_type: int | None = 7,
               architecture: str | None = "llama") -> Path:
    """A small GGUF file, written by the gguf package as llama.cpp's converters write one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), architecture or "llama")
    if architecture is None:  # the writer always names one: leave the file without it
        writer.kv_data[0].pop("general.architecture")
    if context is not None:
        writer.add_context_length(context)
    if file_type is not None:
        writer.add_file_type(file_type)
    writer.add_name("Tiny Test Model")
    writer.add_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}")
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(["<s>", "a", "b", "c"])
    writer.add_tensor("token_embd.weight", np.ones((4, 8), dtype=np.float32))
    writer.add_tensor("output.weight", np.ones((8, 8), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def operator_policy(folder: Path) -> Path:
    """The default policy in ``folder``, carol also an operator (she registers models)."""
    data = yaml.safe_load(default_policy_text())
    data["people"]["carol"]["roles"] = ["operator"]
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
