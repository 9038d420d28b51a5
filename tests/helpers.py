"""Small builders shared by the unit, integration and end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from altlas.adapters.policy_file import load_policy
from altlas.domain.base import EventMeta
from altlas.domain.policy import Policy

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def meta(actor: str = "deniz") -> EventMeta:
    return EventMeta.for_command(actor)


def default_policy() -> Policy:
    return load_policy(None)


def step(step_id: str, kind: str = "local", action: str = "df -h", **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "kind": kind, "action": action, **extra}


def plan(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"alt": 1, "steps": list(steps)}


def gated_plan(flag: str = "/tmp/altlas-test/maintenance.flag") -> dict[str, Any]:
    """Two read-only steps and a HIGH_RISK change in prod that needs two approvals."""
    return plan(
        step("s1", action="df -h"),
        step("s2", action="uptime"),
        step("s3", action=f"touch {flag}", needs=["s1", "s2"]),
    )
