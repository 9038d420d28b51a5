"""Secrets go only where their scope allows, and every path that records a plan checks it.

Written as a requester who wants a secret sent to a host of her choosing: in a query, a
header, a body, a JSON field, an ssh or local argument, under a URL that climbs out of the
scope's prefix; by the HTTP API and the command line; and as an .atlas import carrying a plan
that `alt submit` would refuse. Each refusal names the step and the field, records nothing,
and the host never hears the secret. A step that sends a secret where it may go is never
READ_ONLY, so it shows on the plan and obeys the environment's gates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest

from altlas.bootstrap import System
from application.core import run_id_of
from application.ports import SegmentationRequest
from application.segmentation import SegmentationService
from domain.base import EventMeta
from domain.policy import Policy
from domain.task import Task
from testkit.fakes.local_http import QuietHandler, local_http
from testkit.helpers import plan, step
from tests.security.gatehouse import Gatehouse, gate_policy, gatehouse

PROD_TOKEN = "prod-Token-5f1e2d3c4b5a"
STRAY = "stray-Secret-8a7b6c5d"


class _Collector(QuietHandler):
    """A host that keeps every request it is sent."""

    seen: ClassVar[list[str]] = []

    def _keep(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        _Collector.seen.append(f"{self.path} {dict(self.headers)} {body}")
        self.reply_json(200, {"ok": True})

    do_GET = do_POST = _keep


@dataclass
class Scoped:
    house: Gatehouse
    port: int

    @property
    def system(self) -> System:
        return self.house.system

    def url(self, rest: str) -> str:
        return f"http://127.0.0.1:{self.port}{rest}"

    def segment(self, person: str, document: dict[str, Any]) -> Any:
        task = self.house.post("/tasks", person, {"request": "call the service"}).json()
        return self.house.post(f"/tasks/{task['id']}/segmentation", person,
                               {"plan": document})

    def heard(self) -> str:
        return "\n".join(_Collector.seen)


def scoped_policy(port: int, low_risk_approvals: int = 0) -> dict[str, Any]:
    """lab-1 (dev) and api-1 (prod) both answer at the collector; PROD_TOKEN may go to api-1
    by http steps under /v1/ only."""
    data = gate_policy()
    data["hosts"]["lab-1"] = {"env": "dev", "address": "127.0.0.1", "http": [port]}
    data["hosts"]["api-1"] = {"env": "prod", "address": "127.0.0.1", "http": [port]}
    if low_risk_approvals:
        data["environments"]["prod"]["approvals"]["LOW_RISK"] = low_risk_approvals
    data["secrets"] = {"PROD_TOKEN": {"hosts": ["api-1"], "kinds": ["http"],
                                      "urls": [f"http://127.0.0.1:{port}/v1/"]}}
    return data


@pytest.fixture
def scoped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scoped]:
    monkeypatch.setenv("ALTLAS_SECRET_PROD_TOKEN", PROD_TOKEN)
    monkeypatch.setenv("ALTLAS_SECRET_STRAY", STRAY)
    _Collector.seen.clear()
    with local_http(_Collector) as port, gatehouse(tmp_path, worker=False,
                                                   policy=scoped_policy(port)) as house:
        yield Scoped(house, port)


def sent_elsewhere(url: str) -> list[tuple[str, dict[str, Any], str]]:
    """(why, step, the field its refusal names) for each way to send PROD_TOKEN to lab-1."""
    lab = {"kind": "http", "target": "lab-1"}
    return [
        ("query", step("s1", action=url("/c?t={secret:PROD_TOKEN}"), **lab), "action"),
        ("path", step("s1", action=url("/v1/{secret:PROD_TOKEN}"), **lab), "action"),
        ("header", step("s1", action=url("/v1/c"), **lab, params={
            "headers": {"Authorization": "Bearer {secret:PROD_TOKEN}"}}),
         "params.headers.Authorization"),
        ("other header", step("s1", action=url("/v1/c"), **lab, params={
            "headers": {"X-Trace": "{secret:PROD_TOKEN}"}}), "params.headers['X-Trace']"),
        ("body", step("s1", action=url("/v1/c"), **lab, params={
            "method": "POST", "body": "t={secret:PROD_TOKEN}"}), "params.body"),
        ("JSON field", step("s1", action=url("/v1/c"), **lab, params={
            "method": "POST", "body": json.dumps({"a": {"b": "{secret:PROD_TOKEN}"}})}),
         "params.body"),
    ]


@pytest.mark.parametrize("case", range(6), ids=[c[0] for c in sent_elsewhere(str)])
def test_a_secret_sent_to_a_host_outside_its_scope_is_refused_naming_the_field(
    scoped: Scoped, case: int
) -> None:
    _, bad, field = sent_elsewhere(scoped.url)[case]
    before = scoped.house.events()
    r = scoped.segment("deniz", plan(bad))
    assert r.status_code == 403, r.text
    message = r.json()["message"]
    assert message.startswith(f"$.steps[0].{field}: secret PROD_TOKEN may not be sent to "
                              "lab-1 (it may go to api-1)"), message
    assert "secrets.PROD_TOKEN" in message and PROD_TOKEN not in r.text
    assert scoped.house.events() == before + 1  # the request alone, no plan
    scoped.system.worker().until_quiet()
    assert scoped.heard() == ""


@pytest.mark.parametrize("rest", [
    "/v1/../admin?t={secret:PROD_TOKEN}", "/v1/%2e%2e/admin?t={secret:PROD_TOKEN}",
    "/v1%2F..%2Fadmin?t={secret:PROD_TOKEN}", "/v1/..;/admin?t={secret:PROD_TOKEN}",
    "/v1\\..\\admin?t={secret:PROD_TOKEN}", "/v1evil?t={secret:PROD_TOKEN}",
    "/v2/?t={secret:PROD_TOKEN}", "/?t={secret:PROD_TOKEN}",
])
def test_a_url_that_climbs_out_of_the_scopes_prefix_is_refused(scoped: Scoped,
                                                                rest: str) -> None:
    r = scoped.segment("deniz", plan(step("s1", kind="http", target="api-1",
                                          action=scoped.url(rest))))
    assert r.status_code == 403, r.text
    assert r.json()["message"].startswith(
        "$.steps[0].action: secret PROD_TOKEN may not be sent to this URL (it may go under "
        f"{scoped.url('/v1/')})"), r.text


@pytest.mark.parametrize(("bad", "why"), [
    (step("s1", kind="ssh", target="api-1", action="echo {secret:PROD_TOKEN}"),
     "$.steps[0].action: secret PROD_TOKEN may not be sent to ssh steps (it may go by http "
     "steps)"),
    (step("s1", action="echo {secret:PROD_TOKEN}"),
     "$.steps[0].action: secret PROD_TOKEN may not be sent to local steps"),
    (step("s1", kind="http", target="api-1", action="http://127.0.0.1:{port}/v1/c",
          params={"headers": {"Authorization": "Bearer {secret:STRAY}"}}),
     "$.steps[0].params.headers.Authorization: secret STRAY has no scope, so it may be sent "
     "nowhere; add secrets.STRAY to the policy"),
])
def test_other_kinds_of_step_and_undeclared_secrets_are_refused(
    scoped: Scoped, bad: dict[str, Any], why: str
) -> None:
    bad = {**bad, "action": bad["action"].replace("{port}", str(scoped.port))}
    r = scoped.segment("deniz", plan(bad))
    assert r.status_code == 403 and r.json()["message"].startswith(why), r.text


def test_the_command_line_refuses_it_in_one_line_and_records_nothing(scoped: Scoped) -> None:
    _, bad, _ = sent_elsewhere(scoped.url)[0]
    document = scoped.house.write("send.alt", plan(bad))
    before = scoped.house.events()
    checked = scoped.house.cli("alt", "validate", str(document))
    assert checked.returncode == 1
    assert "$.steps[0].action: secret PROD_TOKEN may not be sent to lab-1" in checked.stdout
    submitted = scoped.house.cli("alt", "submit", str(document), "--as", "deniz")
    assert submitted.returncode == 2 and submitted.stdout == "", submitted.stderr
    assert submitted.stderr.count("\n") == 1 and "Traceback" not in submitted.stderr
    assert "$.steps[0].action: secret PROD_TOKEN may not be sent to lab-1" in submitted.stderr
    assert scoped.house.events() == before


def test_a_step_that_sends_a_secret_is_at_least_low_risk_and_reported(scoped: Scoped) -> None:
    """A GET to api-1 in prod reads only, but the host receives the secret."""
    r = scoped.segment("deniz", plan(step(
        "s1", kind="http", target="api-1", action=scoped.url("/v1/c?t={secret:PROD_TOKEN}"),
        risk="READ_ONLY")))
    assert r.status_code == 200, r.text
    [gate] = r.json()["gates"]
    assert (gate["risk"], gate["gate"]) == ("LOW_RISK", "report"), gate
    assert "LOW_RISK at least: it sends secret PROD_TOKEN" in gate["reason"]
    assert r.json()["plan"]["steps"][0]["risk"] == "LOW_RISK"
    scoped.system.worker().until_quiet()
    run = scoped.system.app.get_run(run_id_of(UUID(r.json()["id"])))
    assert run.outcome == "succeeded", run.steps
    assert _Collector.seen and f"/v1/c?t={PROD_TOKEN}" in scoped.heard()


def test_where_low_risk_needs_an_approval_sending_a_secret_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALTLAS_SECRET_PROD_TOKEN", PROD_TOKEN)
    _Collector.seen.clear()
    with local_http(_Collector) as port, gatehouse(
            tmp_path, worker=False, policy=scoped_policy(port, low_risk_approvals=1)) as house:
        task = house.system.app.submit_plan("call api-1", plan(step(
            "s1", kind="http", target="api-1",
            action=f"http://127.0.0.1:{port}/v1/c?t={{secret:PROD_TOKEN}}")), "deniz")
        [gate] = task.gates
        assert (gate["risk"], gate["gate"], gate["required"]) == ("LOW_RISK", "approval", 1)
        house.system.worker().until_quiet()
        assert house.system.app.get_run(run_id_of(UUID(task.id))).steps[0].status != \
            "succeeded"
        assert _Collector.seen == []


def test_a_scope_narrowed_after_the_plan_was_recorded_stops_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALTLAS_SECRET_PROD_TOKEN", PROD_TOKEN)
    _Collector.seen.clear()
    with local_http(_Collector) as port, gatehouse(tmp_path, worker=False,
                                                   policy=scoped_policy(port)) as house:
        task = house.system.app.submit_plan("call api-1", plan(step(
            "s1", kind="http", target="api-1",
            action=f"http://127.0.0.1:{port}/v1/c?t={{secret:PROD_TOKEN}}")), "deniz")
        narrower = scoped_policy(port)
        narrower["secrets"]["PROD_TOKEN"]["urls"] = [f"http://127.0.0.1:{port}/v1/health/"]
        house.system.adopt(Policy.from_mapping(narrower))
        house.system.worker().until_quiet()
        [s1] = house.system.app.get_run(run_id_of(UUID(task.id))).steps
        assert s1.status == "failed" and s1.attempts == 1, s1
        assert s1.error is not None and "secret PROD_TOKEN may not be sent to this URL" in \
            s1.error
        assert _Collector.seen == []


class _Sender:
    """A segmenter (a model talked into it) that sends the secret to lab-1."""

    name = "sender"
    deterministic = True

    def __init__(self, port: int) -> None:
        self.port = port

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        return plan(step("s1", kind="http", target="lab-1",
                         action=f"http://127.0.0.1:{self.port}/c?t={{secret:PROD_TOKEN}}"))


def test_a_plan_a_segmenter_writes_for_a_chat_request_is_held_to_the_scope(
    scoped: Scoped
) -> None:
    """Chat fronts take requests, not plans: the plan comes from a segmenter, and is
    recorded only through the same checks."""
    system = scoped.system
    system.segmentation = SegmentationService(system.app, _Sender(scoped.port), None)
    front = system.chat()
    reply = front.run(front.caller("cli:deniz", "cli", person="deniz"),
                      "do check the status on lab-1")
    system.worker().until_quiet()
    [task_id] = {r.aggregate_id for r in system.history.read()
                 if r.type_name == "TaskRequested"}
    task = system.app.get_task(task_id)
    assert task.status == "rejected", (task.status, reply.text)
    assert task.rejection is not None and task.rejection.startswith(
        "$.steps[0].action: secret PROD_TOKEN may not be sent to lab-1")
    assert scoped.heard() == ""


def test_a_plan_in_the_history_from_before_scopes_sends_nothing_when_it_runs(
    scoped: Scoped
) -> None:
    """Recorded by an earlier release (no scope was checked then), READ_ONLY and started
    again now: the worker checks the scope before it puts the value in."""
    document, gates = scoped.system.app.classify(
        plan(step("s1", kind="http", target="lab-1", action=scoped.url("/c"))), "normal",
        "deniz")
    document["steps"][0]["action"] = scoped.url("/c?t={secret:PROD_TOKEN}")
    task = Task.request_work("old plan", "deniz", EventMeta.for_command("deniz"),
                             environment="dev")
    task.record_segmentation(document, gates, "hand-written", EventMeta.for_command("deniz"))
    scoped.system.app.save(task)
    scoped.system.worker().until_quiet()
    [s1] = scoped.system.app.get_run(run_id_of(task.id)).steps
    assert s1.status == "failed" and s1.error is not None, s1
    assert s1.error.startswith("step s1.action: secret PROD_TOKEN may not be sent to lab-1")
    assert scoped.heard() == ""
