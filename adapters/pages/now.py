"""What the *Now* page shows a person: the open approvals (what each step will run, its risk,
why it needs one, who voted, how long is left, and whether this person may vote), the runs in
progress, the open incidents and the patterns that fail too often. Read through the same use
cases as the API's /approvals, /runs?status=running, incidents and .atlas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.use_cases import Filters, UseCases
from application.use_cases.approvals import may_still_vote

RUNS_SHOWN = 20
INCIDENTS_SHOWN = 20
# what the .atlas's watch said of each pattern that crossed the policy's threshold
WATCH_LIMIT = 10_000  # the API's own bound on a timeline page
WATCHED = ("PatternWatchOpened", "PatternSuccessLow", "PatternSuccessRecovered")


@dataclass(frozen=True)
class Now:
    approvals: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    failing: list[dict[str, Any]]


@dataclass(frozen=True)
class Board:
    """What *Now* shows anyone who may read, before it is told whose approvals are whose:
    read once for every open page."""

    approvals: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    failing: list[dict[str, Any]]

    def mine(self, who: str) -> frozenset[str]:
        """The approvals ``who`` may still vote on."""
        return frozenset(a["approval_id"] for a in self.approvals if may_still_vote(a, who))

    def voted(self, who: str) -> frozenset[str]:
        return frozenset(a["approval_id"] for a in self.approvals if who in a["votes"])

    def seen_by(self, who: str) -> Now:
        """The page as ``who`` sees it: the approvals they may still vote on first."""
        mine = self.mine(who)
        approvals = [{**a, "mine": a["approval_id"] in mine} for a in self.approvals]
        approvals.sort(key=lambda a: not a["mine"])
        return Now(approvals, self.runs, self.incidents, self.failing)


def now(uc: UseCases, who: str) -> Now:
    """Everything the page shows, for ``who``; the approvals ``who`` may still vote on first."""
    return board(uc, who).seen_by(who)


def board(uc: UseCases, who: str) -> Board:
    """What the page shows, read as ``who`` (who must be allowed to read)."""
    return Board([_approval(uc, a) for a in uc.open_approvals(who)],
                 uc.runs(who, Filters(status="running", limit=RUNS_SHOWN)).items,
                 uc.incidents(who, status="open", limit=INCIDENTS_SHOWN),
                 failing(uc, who))


def failing(uc: UseCases, who: str) -> list[dict[str, Any]]:
    """The patterns whose success rate the .atlas last said was too low (PatternSuccessLow,
    not followed by PatternSuccessRecovered), as chat was told: read from the timeline,
    a few rows, rather than folding every run into the .atlas at each look."""
    rows = sorted((r for kind in WATCHED
                   for r in uc.timeline(who, type_name=kind, limit=WATCH_LIMIT)),
                  key=lambda r: r["position"] or 0)
    patterns: dict[str, str] = {}
    said: dict[str, dict[str, Any]] = {}
    for row in rows:
        watch = row["aggregate_id"]
        if row["type"] == "PatternWatchOpened":
            patterns[watch] = row["data"].get("pattern", "?")
        elif row["type"] == "PatternSuccessLow":
            said[watch] = row["data"]
        else:
            said.pop(watch, None)
    return [{"pattern": patterns.get(watch, watch), "runs": data.get("runs", 0),
             "successes": data.get("successes", 0), "last_failure": data.get("last_failure"),
             "success_rate": data.get("successes", 0) / max(data.get("runs", 1), 1)}
            for watch, data in said.items()]


def _approval(uc: UseCases, row: dict[str, Any]) -> dict[str, Any]:
    """A queued approval, with the step it gates as the plan says it (what will run). One of
    the installation's own (a runbook's version, a training, a change of model, an erasure)
    has no task and no step: its reason says what it decides."""
    if row["run_id"] is None:
        return {**row, "kind": None, "action": None, "target": None, "oncall": []}
    card = uc.card(UUID(row["approval_id"]))
    step = card.step
    return {**row, "kind": step.get("kind"), "action": step.get("action"),
            "target": step.get("target") or step.get("host"), "oncall": list(card.oncall)}
