"""Running altlas processes follow edits of the policy file without a restart: a valid edit
is used at once and recorded once, however many processes noticed it; an invalid one is
logged once by each and the policy they had kept."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.policy_file import default_policy_text
from tests.integration.test_workers import Workers

WEB_3 = "  dev-box: {env: dev}\n  web-3: {env: staging}\n"


def _altlas(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "altlas", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def _until(what: str, done: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.1)


class Installation:
    """Two `altlas worker` processes on the policy file ``live``; the command line reads
    ``before`` (the default policy), so what it asks for is planned by the workers' policy."""

    def __init__(self, tmp: Path) -> None:
        self.live, self.before = tmp / "policy.yaml", tmp / "before.yaml"
        self.live.write_text(default_policy_text())
        self.before.write_text(default_policy_text())
        clean = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
        self.env = {**clean, "ALTLAS_DATA_DIR": str(tmp / "data"),
                    "ALTLAS_POLICY_FILE": str(self.live), "ALTLAS_SEGMENTER": "rules",
                    "ALTLAS_POLL_INTERVAL_MS": "100", "ALTLAS_REGISTER_PACKAGED": "false"}
        self.cli = {**self.env, "ALTLAS_POLICY_FILE": str(self.before)}
        self.workers = Workers(self.env, tmp)
        self.logs = [tmp / "worker-0.log", tmp / "worker-1.log"]

    def every_log_says(self, text: str) -> bool:
        return all(log.read_text().count(text) >= 1 for log in self.logs)

    def planned_target(self, request: str) -> str | None:
        """Ask through the command line; the first step's target once a worker planned it
        (None when it asked back)."""
        asked = _altlas(self.cli, "task", "request", request, "--as", "erin")
        assert asked.returncode == 0, asked.stderr
        task_id = asked.stdout.strip()
        shown: dict[str, object] = {}

        def planned() -> bool:
            shown.update(json.loads(_altlas(self.cli, "task", "show", task_id,
                                            "--json").stdout))
            return shown["status"] != "requested"

        _until(f"a worker plans {request!r}", planned)
        plan = shown["plan"]
        return plan["steps"][0]["target"] if isinstance(plan, dict) else None

    def policy_changes(self) -> list[dict[str, object]]:
        listed = json.loads(_altlas(self.cli, "events", "--json").stdout)
        return [e for e in listed if e["type"] == "PolicyChanged"]


@pytest.fixture
def installation(tmp_path: Path) -> Iterator[Installation]:
    made = Installation(tmp_path)
    made.workers.start(ready=True)
    made.workers.start(ready=True)
    try:
        yield made
    finally:
        made.workers.stop_all()


def test_running_workers_plan_with_a_host_added_to_the_policy_file(
        installation: Installation) -> None:
    assert installation.planned_target("check disk on web-3") is None  # asked back: no web-3
    installation.live.write_text(default_policy_text().replace("  dev-box: {env: dev}\n",
                                                               WEB_3))
    _until("both workers adopt the edit", lambda: installation.every_log_says(
        "policy.yaml changed (sha256"))
    assert installation.planned_target("check disk on web-3") == "web-3"


def test_an_edit_is_recorded_once_with_its_hashes_and_diff_though_two_workers_saw_it(
        installation: Installation) -> None:
    edited = default_policy_text().replace("  dev-box: {env: dev}\n", WEB_3)
    installation.live.write_text(edited)
    _until("both workers adopt the edit", lambda: installation.every_log_says(
        "policy.yaml changed (sha256"))
    [changed] = installation.policy_changes()
    data = changed["data"]
    assert isinstance(data, dict)
    assert data["old_sha256"] == hashlib.sha256(default_policy_text().encode()).hexdigest()
    assert data["new_sha256"] == hashlib.sha256(edited.encode()).hexdigest()
    assert "+  web-3: {env: staging}" in str(data["diff"])
    assert changed["actor"] == "altlas:policy"


def test_an_invalid_edit_is_logged_once_and_the_policy_in_use_kept(
        installation: Installation) -> None:
    installation.live.write_text(default_policy_text().replace("  dev-box: {env: dev}\n",
                                                               WEB_3))
    _until("both workers adopt the edit", lambda: installation.every_log_says(
        "policy.yaml changed (sha256"))
    installation.live.write_text("version: [\n")
    kept = "is refused and this process keeps the policy it had until it is fixed"
    _until("both workers refuse the broken file", lambda: installation.every_log_says(kept))
    assert installation.planned_target("check disk on web-3") == "web-3"
    time.sleep(2.5)  # past the window in which the file is read again on every look
    assert [log.read_text().count(kept) for log in installation.logs] == [1, 1]
    assert len(installation.policy_changes()) == 1
