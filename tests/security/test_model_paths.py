"""A path to a model file that no file system takes is refused with its reason (4xx), over
HTTP as on the command line, and nothing is registered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.gatehouse import Gatehouse, gatehouse


@pytest.fixture
def house(tmp_path: Path) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path, worker=False) as house:
        yield house


@pytest.mark.parametrize(("path", "reason"), [
    ("~nosuchuser/x.gguf", "there is no user 'nosuchuser' on this machine"),
    ("models/x\u0000.gguf", "path: String should match pattern"),  # the schema's own words
    ("models/x\u001b[2J.gguf", "path: String should match pattern"),
    ("/" + "a" * 4096, "at most 4096"),
])
def test_a_path_no_file_system_takes_is_refused_with_its_reason(
    house: Gatehouse, path: str, reason: str
) -> None:
    before = house.events()
    r = house.post("/models", "alice", {"path": path})  # alice operates
    assert r.status_code == 422, r.text
    assert reason in r.json()["message"]
    assert house.events() == before
