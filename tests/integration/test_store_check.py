"""The check that the event store is what the views saw (`/healthz`, every command's start)
runs while others record: an event recorded and applied between its two reads is not taken
for one lost from the store's end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import altlas.bootstrap
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from testkit.helpers import token_policy


def _recorded_meanwhile(system: System, read: Callable[..., Any]) -> Callable[..., Any]:
    """``read``, after which — the first of the check's two reads only — a request is
    recorded and the views apply it, as a busy `serve` does between them."""
    def then_record(*args: Any) -> Any:
        found = read(*args)
        if not system.__dict__.get("_recorded"):
            system.__dict__["_recorded"] = True
            system.app.request_task("check disk on web-1", "erin")
            system.store_feed().catch_up()  # the views apply it
        return found
    return then_record


def test_an_event_recorded_between_the_checks_reads_is_not_a_loss(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "policy.yaml").write_text(token_policy())
    system = bootstrap(Settings(data_dir=tmp_path / "data", segmenter="rules",
                                policy_file=tmp_path / "policy.yaml"))
    try:
        system.app.request_task("check uptime on web-1", "erin")
        system.store_feed().catch_up()
        assert system.store_problem() is None
        monkeypatch.setattr(system, "_store_end", _recorded_meanwhile(system, system._store_end))
        monkeypatch.setattr(altlas.bootstrap, "read_marks",
                            _recorded_meanwhile(system, altlas.bootstrap.read_marks))
        assert system.store_problem() is None
        assert system.__dict__["_recorded"]  # the event did come between the two reads
    finally:
        system.close()
