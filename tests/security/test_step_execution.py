"""Nothing malformed reaches an executor, and whatever an executor does, its step's outcome is
recorded: a plan whose params break their kind's schema is refused when it is recorded, and an
exception anywhere in a step's execution becomes StepFailed with the reason, so no run waits
for ever."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.core import run_id_of
from application.ports import StepContext, StepOutcome
from domain.base import EventMeta
from domain.plan import PlanStep
from domain.task import Task
from testkit.helpers import plan, step
from tests.security.gatehouse import Gatehouse, gatehouse

MALFORMED: list[tuple[str, dict[str, Any], str]] = [
    ("exit codes as a number", step("s1", action="df -h", params={"ok_exit_codes": 5}),
     "ok_exit_codes"),
    ("exit codes as text", step("s1", action="df -h", params={"ok_exit_codes": "0,3"}),
     "ok_exit_codes"),
    ("an exit code that is no exit code", step("s1", action="df -h",
                                               params={"ok_exit_codes": [0, 256]}),
     "ok_exit_codes"),
    ("a boolean exit code", step("s1", action="df -h", params={"ok_exit_codes": [True]}),
     "ok_exit_codes"),
    ("an unknown command param", step("s1", action="df -h", params={"shell": True}),
     "shell"),
    ("headers as text", step("s1", kind="http", action="https://web-1/health", target="web-1",
                             params={"headers": "abc"}), "headers"),
    ("a header that splits the request", step(
        "s1", kind="http", action="https://web-1/health", target="web-1",
        params={"headers": {"X-A": "b\r\nX-Admin: yes"}}), "headers"),
    ("a header name with a space", step(
        "s1", kind="http", action="https://web-1/health", target="web-1",
        params={"headers": {"X A": "b"}}), "headers"),
    ("a number as a header value", step(
        "s1", kind="http", action="https://web-1/health", target="web-1",
        params={"headers": {"X-A": 1}}), "headers"),
    ("a URL with a newline", step("s1", kind="http", action="https://web-1/a\nGET /admin",
                                  target="web-1"), "action"),
    ("a URL with a space", step("s1", kind="http", action="https://web-1/a b", target="web-1"),
     "action"),
    ("a URL with a NUL", step("s1", kind="http", action="https://web-1/a\x00", target="web-1"),
     "action"),
    ("not a URL", step("s1", kind="http", action="file:///etc/passwd", target="web-1"),
     "action"),
    ("an unknown method", step("s1", kind="http", action="https://web-1/health",
                               target="web-1", params={"method": "TRACE"}), "method"),
    ("extract as a list", step("s1", kind="http", action="https://web-1/health",
                               target="web-1", params={"extract": ["$.a"]}), "extract"),
    ("a body that is not text", step("s1", kind="http", action="https://web-1/health",
                                     target="web-1", params={"body": {"a": 1}}), "body"),
    ("a range in text", step("s1", kind="promql", action="up",
                             params={"range": {"minutes": "ten"}}), "range"),
    ("a range step that is no duration", step("s1", kind="promql", action="up",
                                              params={"range": {"step": "fast"}}), "range"),
    ("params for a model", step("s1", kind="llm", action="summarise",
                                params={"model": "gpt-9"}), "params"),
]


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path, worker=False) as house:
        yield house


class TestMalformedParamsAreRefusedWhenRecorded:
    @pytest.mark.parametrize(("why", "bad", "named"), MALFORMED, ids=[m[0] for m in MALFORMED])
    def test_over_http(self, quiet: Gatehouse, why: str, bad: dict[str, Any],
                       named: str) -> None:
        r = quiet.post("/tasks", "deniz", {"request": why, "environment": "prod"})
        task_id = r.json()["id"]
        before = quiet.events()
        r = quiet.post(f"/tasks/{task_id}/segmentation", "deniz", {"plan": plan(bad)})
        assert r.status_code == 422, r.text
        assert named in r.json()["message"] and "$.steps[0]" in r.json()["message"]
        assert quiet.events() == before

    @pytest.mark.parametrize("index", [0, 6, 9])
    def test_from_the_command_line(self, quiet: Gatehouse, index: int) -> None:
        why, bad, named = MALFORMED[index]
        path = quiet.write("bad.alt.json", {**plan(bad), "request": why})
        before = quiet.events()
        done = quiet.cli("alt", "submit", str(path), "--as", "deniz")
        assert done.returncode in (1, 2), done.stdout + done.stderr
        assert named in done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert quiet.events() == before

    def test_well_formed_params_of_every_kind_are_accepted(self, quiet: Gatehouse) -> None:
        good = plan(
            step("s1", action="df -h", params={"ok_exit_codes": [0, 3]}),
            step("s2", kind="http", action="https://web-1/health?x=1", target="web-1",
                 params={"method": "GET", "headers": {"Accept": "application/json"},
                         "extract": {"healthy": "$.status"}}),
            step("s3", kind="promql", action="up", params={"range": {"minutes": 5,
                                                                     "step": "15s"}}),
            step("s4", kind="llm", action="summarise", needs=["s1"]))
        task = quiet.system.use_cases().submit_plan("deniz", good, request="all kinds",
                                                    environment="prod")
        assert task.status == "segmented"


class Exploding:
    """An executor that does its work, then raises before it can report it."""

    def __init__(self, log: Path) -> None:
        self.log = log

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        with self.log.open("a") as out:
            out.write(f"{step.id}\n")
        raise ValueError("the result could not be parsed")


class TestAnExceptionIsAFailureOnRecord:
    def test_an_executor_that_raises_after_its_work_records_the_failure_once(
        self, tmp_path: Path
    ) -> None:
        log = tmp_path / "ran.log"
        with gatehouse(tmp_path, worker=True, executors={"local": Exploding(log)}) as house:
            task = house.system.use_cases().submit_plan(
                "deniz", plan(step("s1", action="df -h", retries=3),
                              step("s2", action="uptime", needs=["s1"])),
                request="check", environment="prod")
            run = _settled(house, task.id)
        assert run["outcome"] == "failed"
        first, second = run["steps"]
        assert first["status"] == "failed" and first["attempts"] == 1
        assert "the local executor failed: ValueError: the result could not be parsed" in \
            first["error"]
        assert second["status"] == "skipped"
        assert log.read_text() == "s1\n"  # not retried: what it did is not known

    @pytest.mark.parametrize(("kind", "action", "target", "params", "error"), [
        ("local", "df -h", None, {"ok_exit_codes": 5}, "TypeError"),
        ("http", "http://localhost:9/x", "localhost", {"headers": "abc"}, "ValueError"),
    ])
    def test_a_plan_recorded_before_params_were_checked_fails_on_record(
        self, tmp_path: Path, kind: str, action: str, target: str | None,
        params: dict[str, Any], error: str
    ) -> None:
        """Plans in the history from before this release are not checked again: the real
        executor trips over the params after the command ran, and the step still fails."""
        with gatehouse(tmp_path, worker=True) as house:
            clean = plan(step("s1", kind=kind, action=action,
                              **({"target": target} if target else {})))
            document, gates = house.system.app.classify(clean, "normal", "deniz")
            document["steps"][0]["params"] = params
            task = Task.request_work("old plan", "deniz", EventMeta.for_command("deniz"),
                                     environment="prod")
            task.record_segmentation(document, gates, "hand-written",
                                     EventMeta.for_command("deniz"))
            house.system.app.save(task)
            run = _settled(house, str(task.id))
        assert run["outcome"] == "failed"
        assert f"executor failed: {error}" in run["steps"][0]["error"]


def _settled(house: Gatehouse, task_id: str) -> dict[str, Any]:
    run_id = str(run_id_of(UUID(task_id)))

    def done() -> dict[str, Any] | None:
        r = house.client.get(f"/runs/{run_id}", headers={"Authorization": "Bearer tok-erin"})
        return r.json() if r.status_code == 200 and r.json()["outcome"] else None

    return dict(house.until(done))
