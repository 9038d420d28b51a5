"""altlas serving Slack on the embedded default, and the fake Slack it talks to: what the
Slack journeys and the benchmarks that go through Slack open."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from altlas.bootstrap import System, bootstrap
from altlas.serving import start_fronts, start_inside
from altlas.settings import Settings
from testkit.fakes import slack_payloads as p
from testkit.fakes.asgi import UvicornThread
from testkit.fakes.slack import BOT_TOKEN, Call, FakeSlack
from testkit.helpers import FakeClock


@dataclass
class Desk:
    """altlas serving Slack, and the fake Slack it talks to."""

    system: System
    slack: FakeSlack
    url: str
    clock: FakeClock

    def send(self, body: str, ctype: str, **sign: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/slack/events", content=body,
                          headers=p.headers(body, ctype, **sign), timeout=10)

    def command(self, user: str, text: str) -> httpx.Response:
        return self.send(p.slash_command(user, text, self.slack.response_url(f"cmd/{user}")),
                         p.FORM)

    def click(self, user: str, action: str, card: Call) -> httpx.Response:
        message = {"ts": card_ts(card), "text": card.body.get("text", ""),
                   "blocks": blocks(card)}
        return self.send(p.block_actions(user, action, approval_of(card), message,
                                         self.slack.response_url(f"act/{user}")), p.FORM)


def dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def blocks(call: Call) -> list[dict[str, Any]]:
    raw = call.body.get("blocks") or []
    return raw if isinstance(raw, list) else json.loads(raw)


def is_card(call: Call) -> bool:
    return any(b.get("type") == "actions" for b in blocks(call))


def approval_of(card: Call) -> str:
    actions = next(b for b in blocks(card) if b["type"] == "actions")
    return str(actions["elements"][0]["value"])


def card_ts(card: Call) -> str:
    return str(card.body["__ts"])


@contextmanager
def open_desk(data_dir: Path, policy_file: Path | None = None, port: int = 0,
              **more: Any) -> Iterator[Desk]:
    """``port``: where the API listens (0: any free one); ``more``: further settings."""
    slack = FakeSlack().start()
    original = slack._respond

    def remember_ts(call: Call) -> Any:  # keep the ts Slack gave each posted message
        status, headers, payload = original(call)
        if call.method == "chat.postMessage" and payload.get("ok"):
            call.body["__ts"] = payload["ts"]
        return status, headers, payload

    slack._respond = remember_ts  # type: ignore[method-assign]
    clock = FakeClock(start=datetime.now(UTC))
    settings = Settings(data_dir=data_dir, database_url=None, views_database_url=None,
                        segmenter="rules", slack_bot_token=BOT_TOKEN,
                        slack_signing_secret=p.SIGNING_SECRET, slack_api_url=slack.base_url,
                        policy_file=policy_file, poll_interval_ms=50, **more)
    system = bootstrap(settings, clock=clock)
    stop = threading.Event()
    # as `altlas serve` does on the embedded default: the views' feed, a worker, the Slack
    # app, and the follower that tells people what happened
    threads = start_inside(system, stop, worker=True)
    fronts = start_fronts(system, stop)
    with UvicornThread(system.api(chat=fronts.chat, slack=fronts.slack,
                                  catch_up=False), port) as server:
        yield Desk(system, slack, server.url, clock)
    stop.set()
    for thread in threads + fronts.threads:
        thread.join(timeout=30)
    system.close()
    slack.stop()


def wait(predicate: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def posted(desk: Desk, where: Any = lambda c: True) -> list[Call]:
    return [c for c in desk.slack.find("chat.postMessage") if where(c)]


def ephemeral(desk: Desk, user: str) -> list[str]:
    return [c.body.get("text", "") for c in desk.slack.find("response_url")
            if c.path.endswith(f"/{user}") and c.body.get("response_type") == "ephemeral"]
