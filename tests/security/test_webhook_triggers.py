"""Getting around a webhook trigger: without its credential, with a person's token or another
webhook's, with a body its schema refuses, replaying a delivery, or smuggling a command in a
body field. Each is refused with nothing recorded, or runs exactly once as its runbook says."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from domain.commands import analyse, mode_of
from tests.security.gatehouse import Gatehouse, auth, gate_policy, gatehouse

TOKEN, OTHER = "tok-deploy-hook", "tok-other-hook"
GREP = {"runbook": 1, "name": "smoke", "parameters": {
    "host": {"kind": "host"}, "version": {"kind": "text", "pattern": "^.{1,60}$"}},
    "plan": {"alt": 1, "steps": [{"id": "check", "kind": "ssh",
                                  "action": "grep -c {param:version} /srv/app/VERSION",
                                  "target": "{param:host}"}]}}
BODY_SCHEMA = {"type": "object", "required": ["host", "version"],
               "properties": {"host": {"type": "string"}, "version": {"type": "string"}}}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gatehouse]:
    policy = gate_policy()
    policy["triggers"] = {"webhooks": {
        "deployed": {"bearer_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()},
        "other": {"bearer_sha256": hashlib.sha256(OTHER.encode()).hexdigest()}}}
    with gatehouse(tmp_path_factory.mktemp("webhooks"), worker=False, policy=policy) as found:
        uc = found.system.use_cases()
        uc.publish_runbook("alice", GREP)
        uc.create_webhook_trigger("alice", "deployed", "smoke", BODY_SCHEMA,
                                  {"host": "host", "version": "version"})
        yield found


def deliver(house: Gatehouse, delivery: str, body: Any, headers: dict[str, str]) -> Any:
    return house.client.post("/triggers/deployed", json=body,
                             headers={**headers, "X-Delivery-Id": delivery})


def test_a_delivery_runs_once_and_its_replay_runs_nothing(house: Gatehouse) -> None:
    body = {"host": "web-1", "version": "1.4.2"}
    first = deliver(house, "d-1", body, bearer(TOKEN))
    assert first.status_code == 201, first.text
    task = house.system.use_cases().task(None, first.json()["task_id"])
    assert task.requester == "altlas:trigger:deployed" and task.source == "runbook:smoke"
    before = house.events()
    again = deliver(house, "d-1", {"host": "web-2", "version": "other"}, bearer(TOKEN))
    assert again.status_code == 200 and again.json() == {
        "task_id": first.json()["task_id"], "delivery_id": "d-1", "replayed": True}
    assert house.events() == before


@pytest.mark.parametrize("headers", [
    {}, bearer("tok-wrong"), bearer(OTHER), auth("alice"),
    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"bearer  {TOKEN} x"}],
    ids=["none", "wrong", "another webhook's", "a person's token", "as basic", "mangled"])
def test_anything_but_its_own_credential_is_401_and_records_nothing(
        house: Gatehouse, headers: dict[str, str]) -> None:
    before = house.events()
    answer = deliver(house, "d-auth", {"host": "web-1", "version": "1"}, headers)
    assert answer.status_code == 401, answer.text
    assert house.events() == before


@pytest.mark.parametrize(("body", "why"), [
    ({"host": "web-1"}, "version"), ({"host": 7, "version": "1"}, "is not of type"),
    ({"host": "web-9", "version": "1"}, "parameter host"),
    ({"host": "web-1", "version": "{secret:STATUS_TOKEN}"}, "parameter version")])
def test_a_body_its_schema_or_the_runbook_refuses_is_422_and_records_nothing(
        house: Gatehouse, body: dict[str, Any], why: str) -> None:
    before = house.events()
    answer = deliver(house, "d-bad", body, bearer(TOKEN))
    assert answer.status_code == 422, answer.text
    assert why in answer.json()["message"]
    assert house.events() == before


def test_a_body_field_that_tries_to_be_a_command_stays_one_argument(house: Gatehouse) -> None:
    answer = deliver(house, "d-cmd", {"host": "web-1", "version": "1; reboot"}, bearer(TOKEN))
    assert answer.status_code == 201, answer.text
    action = house.system.use_cases().task(None, answer.json()["task_id"]).plan[  # type: ignore[index]
        "steps"][0]["action"]
    assert [p.argv for p in analyse(action, mode_of("ssh", action)).programs] == [
        ("grep", "-c", "1; reboot", "/srv/app/VERSION")]


def test_a_scheduled_trigger_takes_no_delivery(house: Gatehouse) -> None:
    house.system.use_cases().create_trigger("alice", "other", "smoke",
                                            {"host": "web-1", "version": "1"},
                                            every_seconds=3600)
    answer = house.client.post("/triggers/other", json={"host": "web-1", "version": "1"},
                               headers={**bearer(OTHER), "X-Delivery-Id": "d-x"})
    assert answer.status_code == 422 and "not on a webhook" in answer.json()["message"]
