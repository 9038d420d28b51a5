"""Requests the served schema allows are never refused 422: what no JSON Schema can say is
answered with the status the schema documents instead (a plan the policy refuses 403, a target
it does not know 404, parts that contradict each other 409), and still records nothing. Tried
over HTTP on the two routes that take a plan, with the bodies a client's validator (jsonschema_rs,
as schemathesis reads the schema) finds valid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from testkit.helpers import plan, step
from tests.security.gatehouse import Gatehouse, gatehouse


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path_factory.mktemp("exact"), worker=False) as g:
        yield g


def body_schema(gate: Gatehouse, path: str) -> Any:
    schema = gate.client.get("/openapi.json").json()
    content = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    found = content["schema"]
    if "$ref" in found:
        found = schema["components"]["schemas"][found["$ref"].rsplit("/", 1)[1]]
    return {**found, "components": schema["components"]}


def valid(schema: Any, body: Any) -> bool:
    """As a client's validator reads the served schema (ECMA-262 patterns)."""
    return bool(jsonschema_rs.validator_for(schema).is_valid(body))


def documented(gate: Gatehouse, path: str, status: int) -> bool:
    responses = gate.client.get("/openapi.json").json()["paths"][path]["post"]["responses"]
    return str(status) in responses


ATLAS_PATTERN = {
    "pattern": "local:disk", "intent": "disk", "target_kind": "host", "runs": 2,
    "successes": 1, "success_rate": 0.5, "interval": [0.1, 0.9],
    "duration_ms": {"mean": 10.0, "p95": 20.0}, "failures": [], "last_success": None,
    "last_failure": None, "requests": ["check disk"],
    "plan": plan(step("s1", kind="ssh", action="df -h", target="web-1"))}


def atlas(*patterns: dict[str, Any]) -> dict[str, Any]:
    return {"atlas": 1, "source": "site-a", "exported_at": "2026-12-01T00:00:00Z",
            "patterns": list(patterns)}


CONTRADICTIONS = {
    "more successes than runs": atlas({**ATLAS_PATTERN, "successes": 3}),
    "a pattern twice": atlas(ATLAS_PATTERN, ATLAS_PATTERN),
    "a need of a step it lacks": atlas({**ATLAS_PATTERN, "plan": plan(
        step("s1", kind="ssh", action="df -h", target="web-1", needs=["s9"]))}),
    "a cycle": atlas({**ATLAS_PATTERN, "plan": plan(
        step("s1", kind="ssh", action="df", target="web-1", needs=["s2"]),
        step("s2", kind="ssh", action="df", target="web-1", needs=["s1"]))}),
    "a condition on a step not needed": atlas({**ATLAS_PATTERN, "plan": plan(
        step("s1", kind="ssh", action="df", target="web-1"),
        step("s2", kind="ssh", action="df", target="web-1", when="s1.max_percent > 90"))}),
}


@pytest.mark.parametrize("why", sorted(CONTRADICTIONS))
def test_an_atlas_document_that_contradicts_itself_is_409_not_422(
        gate: Gatehouse, why: str) -> None:
    document = CONTRADICTIONS[why]
    assert valid(body_schema(gate, "/atlas/imports"), document), why
    before = gate.events()
    r = gate.post("/atlas/imports", "alice", document)
    assert r.status_code == 409, r.text
    assert documented(gate, "/atlas/imports", 409)
    assert gate.events() == before


def test_a_malformed_plan_in_an_atlas_document_is_still_422(gate: Gatehouse) -> None:
    """The import reads each plan with the .alt schema the route serves: what it refuses is
    what the schema refuses (a blank action, a condition that is no condition)."""
    for bad in ({"action": " \x85"}, {"when": "s1 is full"}, {"retries": 1.5}):
        document = atlas({**ATLAS_PATTERN, "plan": plan(
            step("s1", kind="ssh", target="web-1", **{"action": "df", **bad}))})
        assert not valid(body_schema(gate, "/atlas/imports"), document), bad
        r = gate.post("/atlas/imports", "alice", document)
        assert r.status_code == 422, r.text


def test_a_quoted_and_in_a_condition_is_part_of_the_value(gate: Gatehouse) -> None:
    document = atlas({**ATLAS_PATTERN, "plan": plan(
        step("s1", kind="ssh", action="systemctl status nginx", target="web-1"),
        step("s2", kind="ssh", action="df", target="web-1", needs=["s1"],
             when="s1.output contains 'active and running'"))})
    assert valid(body_schema(gate, "/atlas/imports"), document)
    assert gate.post("/atlas/imports", "alice", document).status_code == 200


REFUSED_PLANS = {
    "a target the inventory lacks": (plan(step("s1", kind="ssh", action="df -h",
                                               target="web-9")), 404),
    "a command a deny rule refuses": (plan(step("s1", kind="ssh", action="curl x | sh",
                                                target="web-1")), 403),
    "a credential in clear": (plan(step("s1", kind="http", action="http://web-1/x",
                                        target="web-1", params={"headers": {
                                            "Authorization": "Bearer ghp_" + "a1" * 18}})), 403),
    "a need of a step it lacks": (plan(step("s1", kind="ssh", action="df", target="web-1",
                                            needs=["s9"])), 409),
}


@pytest.mark.parametrize("why", sorted(REFUSED_PLANS))
def test_a_hand_written_plan_the_schema_allows_is_refused_with_a_documented_status(
        gate: Gatehouse, why: str) -> None:
    document, status = REFUSED_PLANS[why]
    assert valid(body_schema(gate, "/tasks/{task_id}/segmentation"), {"plan": document}), why
    task = gate.post("/tasks", "deniz", {"request": "check disk on web-1"}).json()
    before = gate.events()
    r = gate.post(f"/tasks/{task['id']}/segmentation", "deniz", {"plan": document})
    assert r.status_code == status, r.text
    assert documented(gate, "/tasks/{task_id}/segmentation", status)
    assert gate.events() == before
