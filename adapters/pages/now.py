"""What the *Now* page shows a person: the open approvals (what each step will run, its risk,
why it needs one, who voted, how long is left, and whether this person may vote), the runs in
progress, the open incidents and the patterns that fail too often. Read through the same use
cases as the API's /approvals, /runs?status=running, incidents and .atlas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.use_cases import Filters, UseCases

RUNS_SHOWN = 20
INCIDENTS_SHOWN = 20


@dataclass(frozen=True)
class Now:
    approvals: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    failing: list[dict[str, Any]]


def now(uc: UseCases, who: str) -> Now:
    """Everything the page shows, for ``who``; the approvals ``who`` may still vote on first."""
    mine = {a["approval_id"] for a in uc.waiting_for(who)}
    approvals = [_approval(uc, a, a["approval_id"] in mine) for a in uc.open_approvals(who)]
    approvals.sort(key=lambda a: not a["mine"])
    learning = uc.access.policy.learning
    failing = [p for p in uc.atlas_patterns(who)
               if p["runs"] >= learning.min_runs and p["success_rate"] < learning.low_success]
    return Now(approvals,
               uc.runs(who, Filters(status="running", limit=RUNS_SHOWN)).items,
               uc.incidents(who, status="open", limit=INCIDENTS_SHOWN),
               failing)


def _approval(uc: UseCases, row: dict[str, Any], mine: bool) -> dict[str, Any]:
    """A queued approval, with the step it gates as the plan says it (what will run)."""
    card = uc.card(UUID(row["approval_id"]))
    step = card.step
    return {**row, "mine": mine, "kind": step.get("kind"), "action": step.get("action"),
            "target": step.get("target") or step.get("host"), "oncall": list(card.oncall)}
