"""altlas behind its HTTP API, for tests that try to get around its gates: the real
application on a SQLite store, the policy in a file, tokens for every test person (adam is
an admin), optionally a worker as in `altlas serve`, and the CLI on the same store."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.ports import StepExecutor
from testkit.helpers import TOKENS, token_policy

ADMIN_TOKEN = "tok-adam"


def gate_policy() -> dict[str, Any]:
    """The test token policy, plus adam, who administers altlas and nothing else, and one
    port http steps may reach on the altlas host."""
    data: dict[str, Any] = yaml.safe_load(token_policy())
    data["people"]["adam"] = {"roles": ["admin"]}
    data["hosts"]["localhost"]["http"] = [9]  # the discard port: nothing answers there
    data["api_tokens"][hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()] = "adam"
    return data


def auth(person: str) -> dict[str, str]:
    token = ADMIN_TOKEN if person == "adam" else TOKENS[person]
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Gatehouse:
    client: TestClient
    system: System
    data_dir: Path
    policy_file: Path

    def post(self, path: str, person: str, body: Any = None) -> Any:
        return self.client.post(path, json=body, headers=auth(person))

    def get(self, path: str, person: str = "erin", **params: Any) -> Any:
        r = self.client.get(path, params=params, headers=auth(person))
        assert r.status_code == 200, r.text
        return r.json()

    def events(self) -> int:
        return int(self.client.get("/healthz").json()["last_position"])

    def until(self, found: Callable[[], Any], timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := found()):
            assert time.monotonic() < deadline, "altlas did not get there in time"
            time.sleep(0.05)
        return value

    def cli(self, *args: str, stdin: str | None = None,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """``env``: ALTLAS_ variables besides the gatehouse's."""
        own = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
        own.update(ALTLAS_DATA_DIR=str(self.data_dir), ALTLAS_POLICY_FILE=str(self.policy_file),
                   ALTLAS_SEGMENTER="rules", **(env or {}))
        return subprocess.run([sys.executable, "-m", "altlas", *args], env=own, input=stdin,
                              capture_output=True, text=True, timeout=120)

    def write(self, name: str, document: Any) -> Path:
        path = self.data_dir / name
        path.write_text(json.dumps(document))
        return path


@contextmanager
def gatehouse(tmp_path: Path, *, worker: bool,
              executors: Mapping[str, StepExecutor] | None = None,
              policy: Mapping[str, Any] | None = None,
              **settings: Any) -> Iterator[Gatehouse]:
    """``executors`` replace the real ones (all of them) where a test needs its own;
    ``policy`` replaces gate_policy(); ``settings``, the Settings a test changes."""
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(dict(policy or gate_policy()), sort_keys=False))
    data_dir = tmp_path / "data"
    system = bootstrap(Settings(data_dir=data_dir, segmenter="rules", policy_file=policy_file,
                                poll_interval_ms=50, **settings), executors=executors)
    stop = threading.Event()
    thread = None
    if worker:
        thread = threading.Thread(target=system.worker().run, args=(stop,), daemon=True)
        thread.start()
    try:
        with TestClient(system.api()) as client:
            yield Gatehouse(client, system, data_dir, policy_file)
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=30)
        system.close()
