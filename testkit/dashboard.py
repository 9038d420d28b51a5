"""altlas serving its dashboard as `altlas serve` does on the embedded default (the views'
feed, a worker, uvicorn), and a browser-like client that signs in with a token: what the
dashboard's tests, its browser journey and its benchmark open."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI

from altlas.bootstrap import System, bootstrap
from altlas.serving import start_inside
from altlas.settings import Settings
from testkit.fakes.asgi import UvicornThread
from testkit.helpers import TOKENS, token_policy
from testkit.slack_desk import wait as until

SECRET = "dashboard-test-secret-0123456789abcdef"  # ALTLAS_UI_SIGNING_KEY: tests forge with it
GATED_WORDS = "check disk and load on the altlas host, then set its maintenance flag"


@dataclass
class Dashboard:
    system: System
    url: str
    policy_file: Path
    api: FastAPI  # what `serve` serves: its routes

    @contextmanager
    def browser(self, person: str | None = None) -> Iterator[httpx.Client]:
        """A client that keeps cookies as a browser does, signed in as ``person``."""
        with httpx.Client(base_url=self.url, timeout=20, follow_redirects=False) as client:
            if person is not None:
                signed = sign_in(client, TOKENS[person])
                assert signed.status_code == 303, signed.text
            yield client

    def request(self, person: str, words: str = GATED_WORDS, env: str = "prod") -> str:
        """Work asked for over the API, as a requester does from any front: the task's id."""
        r = httpx.post(f"{self.url}/tasks", json={"request": words, "environment": env},
                       headers={"Authorization": f"Bearer {TOKENS[person]}"}, timeout=20)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def approval_of(self, task_id: str) -> dict[str, Any]:
        """The open approval the task's run waits for, once the worker asked for it."""
        def found() -> dict[str, Any] | None:
            r = httpx.get(f"{self.url}/approvals", timeout=20,
                          headers={"Authorization": f"Bearer {TOKENS['erin']}"})
            return next((a for a in r.json()["items"] if a["task_id"] == task_id), None)
        return until(found)

    def edit_policy(self, change: Callable[[dict[str, Any]], None]) -> None:
        data = yaml.safe_load(self.policy_file.read_text())
        change(data)
        self.policy_file.write_text(yaml.safe_dump(data, sort_keys=False))


class KeptKeys:
    """The view database's requests seen, in memory: what a test's own ``Sessions`` (to
    forge cookies with the server's secret, or to read them) records and looks up."""

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], float] = {}  # when each was recorded

    def first(self, front: str, key: str) -> bool:
        new = (front, key) not in self.keys
        self.keys.setdefault((front, key), time.time())
        return new

    def seen_or_since(self, front: str, key: str, prefix: str, since: float) -> bool:
        return (front, key) in self.keys or any(
            f == front and k.startswith(prefix) and at >= since
            for (f, k), at in self.keys.items())

    def recorded_since(self, front: str, since: float) -> dict[str, float]:
        return {k: at for (f, k), at in self.keys.items() if f == front and at >= since}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html[:2000]
    return found.group(1)


def sign_in(client: httpx.Client, token: str, next_page: str = "/ui/") -> httpx.Response:
    form = client.get("/ui/signin")
    return client.post("/ui/signin", data={"csrf": csrf_of(form.text), "token": token,
                                           "next": next_page})


def dashboard_system(tmp: Path, policy: str | None = None, **settings: Any
                     ) -> tuple[System, Path]:
    """The embedded system the dashboard is served from, in ``tmp``, and its policy file."""
    policy_file = tmp / "policy.yaml"
    policy_file.write_text(policy or token_policy())
    return bootstrap(Settings(data_dir=tmp / "data", database_url=None,
                              views_database_url=None, segmenter="rules",
                              policy_file=policy_file, poll_interval_ms=50,
                              ui_signing_key=SECRET, **settings)), policy_file


@contextmanager
def serve_dashboard(tmp: Path, policy: str | None = None, **settings: Any
                    ) -> Iterator[Dashboard]:
    system, policy_file = dashboard_system(tmp, policy, **settings)
    stop = threading.Event()
    threads = start_inside(system, stop, worker=True)
    try:
        api = system.api(catch_up=False)
        with UvicornThread(api) as server:
            yield Dashboard(system, server.url, policy_file, api)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        system.close()
