"""One rule for ids on every front: a whole id, or a unique beginning of 6 characters or
more, on the command line, the HTTP routes and chat alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.helpers import plan, step
from tests.security.gatehouse import Gatehouse, gatehouse

FLAG = "touch /srv/altlas/maintenance.flag"


@pytest.fixture
def house(tmp_path: Path) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path, worker=True) as house:
        yield house


def _waiting(house: Gatehouse) -> dict[str, Any]:
    """A run whose second step waits for an approval: its task, run and approval ids."""
    task = house.system.use_cases().submit_plan(
        "deniz", plan(step("s1", action="df -h"), step("s2", action=FLAG, needs=["s1"])),
        request="set the flag", environment="prod")
    run: dict[str, Any] = house.until(lambda: next(
        (r for r in house.get("/runs")["items"] if r["task_id"] == task.id), None))
    shown = house.until(lambda: (r := house.get(f"/runs/{run['run_id']}"))["steps"][1][
        "approval_id"] and r)
    return {"tasks": task.id, "runs": run["run_id"],
            "approvals": shown["steps"][1]["approval_id"]}


def test_every_route_takes_the_first_six_characters_of_an_id(house: Gatehouse) -> None:
    for route, whole in _waiting(house).items():
        assert house.get(f"/{route}/{whole[:6]}")["id"] == whole
        assert house.get(f"/{route}/{whole[:8].upper()}")["id"] == whole


def test_the_timeline_of_one_aggregate_takes_a_prefix_too(house: Gatehouse) -> None:
    run_id = _waiting(house)["runs"]
    events = house.get("/timeline", aggregate_id=run_id[:6])["items"]
    assert events and {e["aggregate_id"] for e in events} == {run_id}


def test_five_characters_are_refused_with_what_to_give(house: Gatehouse) -> None:
    run_id = _waiting(house)["runs"]
    r = house.client.get(f"/runs/{run_id[:5]}", headers={"Authorization": "Bearer tok-erin"})
    assert r.status_code == 404 and "its first 6 characters or more" in r.json()["message"]


def test_chat_and_the_command_line_take_the_same_prefix(house: Gatehouse) -> None:
    ids = _waiting(house)
    said = house.post("/commands", "erin", {"text": f"status {ids['runs'][:6]}"}).json()
    assert "s2" in said["text"] and "waits" in said["text"]
    shown = house.cli("approval", "show", ids["approvals"][:6])
    assert shown.returncode == 0 and ids["approvals"] in shown.stdout
    timeline = house.cli("timeline", "--aggregate", ids["tasks"][:6])
    assert timeline.returncode == 0, timeline.stderr
    assert timeline.stdout.strip() and ids["tasks"][:8] in timeline.stdout
