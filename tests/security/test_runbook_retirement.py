"""Getting around a retired runbook or a paused or removed trigger: running it over HTTP, in
chat and on the command line, delivering to its webhook (with a new delivery id, or one that
ran before), retiring or pausing without the role, and a name spelled otherwise. Each is
refused with a line that says why, and nothing is recorded."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from bots.chat import ChatFront
from tests.security.gatehouse import Gatehouse, gate_policy, gatehouse

TOKEN = "tok-retire-hook"
UPTIME = {"runbook": 1, "name": "uptime", "parameters": {"host": {"kind": "host"}},
          "plan": {"alt": 1, "steps": [{"id": "up", "kind": "ssh", "action": "uptime",
                                        "target": "{param:host}"}]}}
HOOK = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gatehouse]:
    policy = gate_policy()
    policy["triggers"] = {"webhooks": {
        "hook": {"bearer_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}}}
    with gatehouse(tmp_path_factory.mktemp("retire"), worker=False, policy=policy) as found:
        uc = found.system.use_cases()
        uc.publish_runbook("alice", UPTIME)
        uc.publish_runbook("alice", {**UPTIME, "name": "kept"})
        uc.create_webhook_trigger("alice", "hook", "kept", {"type": "object"},
                                  {"host": "host"})
        yield found


def deliver(house: Gatehouse, delivery: str) -> object:
    return house.client.post("/triggers/hook", json={"host": "web-1"},
                             headers={**HOOK, "X-Delivery-Id": delivery})


def test_a_retired_runbook_is_refused_on_every_front(house: Gatehouse) -> None:
    done = house.cli("runbook", "retire", "uptime", "--as", "erin")
    assert done.returncode == 2 and "operator" in done.stderr
    assert house.post("/runbooks/uptime/retirement", "erin").status_code == 403
    assert house.get("/runbooks/uptime")["retired"] is False
    retired = house.post("/runbooks/uptime/retirement", "alice")
    assert retired.status_code == 200 and retired.json()["retired"] is True, retired.text
    before = house.events()
    answer = house.post("/runbooks/uptime/runs", "bob", {"parameters": {"host": "web-1"}})
    assert answer.status_code == 409 and "is retired" in answer.text
    chat = ChatFront(house.system.use_cases())
    reply = chat.run(chat.caller("slack:U0BOB0001", "slack"), "run uptime host=web-1")
    assert reply.task_id is None and "retired" in reply.text
    upper = house.post("/runbooks/UPTIME/runs", "bob", {"parameters": {"host": "web-1"}})
    assert upper.status_code == 422
    done = house.cli("runbook", "run", "uptime", "--param", "host=web-1", "--as", "bob")
    assert done.returncode == 2 and "is retired" in done.stderr
    assert house.events() == before


def test_a_paused_or_removed_trigger_takes_no_delivery(house: Gatehouse) -> None:
    first = deliver(house, "d-1")
    assert first.status_code == 201, first.text  # type: ignore[attr-defined]
    done = house.cli("trigger", "pause", "hook", "--as", "erin")
    assert done.returncode == 2 and "operator" in done.stderr
    assert house.post("/triggers/hook/pause", "erin").status_code == 403
    paused = house.post("/triggers/hook/pause", "alice")
    assert paused.status_code == 200 and paused.json()["status"] == "paused", paused.text
    before = house.events()
    paused = deliver(house, "d-2")
    assert paused.status_code == 409 and "paused" in paused.text  # type: ignore[attr-defined]
    again = deliver(house, "d-1")  # the delivery that ran before: still that one run
    assert again.status_code == 200  # type: ignore[attr-defined]
    assert again.json()["task_id"] == first.json()["task_id"]  # type: ignore[attr-defined]
    assert house.events() == before
    assert house.post("/triggers/hook/removal", "alice").json()["status"] == "removed"
    removed = deliver(house, "d-3")
    assert removed.status_code == 409 and "removed" in removed.text  # type: ignore[attr-defined]
    done = house.cli("trigger", "resume", "hook", "--as", "alice")
    assert done.returncode == 2 and "was removed" in done.stderr
    resumed = house.post("/triggers/hook/resumption", "alice")
    assert resumed.status_code == 409 and "was removed" in resumed.text
    assert house.get("/triggers/hook")["status"] == "removed"
