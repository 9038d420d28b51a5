"""Reactions of the arena: both sides plan, and a run's outcome counts as a match."""

from __future__ import annotations

from typing import Any

from application.core import ARENA, Reaction
from application.errors import NotFoundError
from application.ports import Segmenter
from application.reactions.common import Ports, meta_of
from application.segmentation import SegmentationService
from domain.duel import Duel, duel_of_task
from domain.matches import Match
from domain.run import Run


def plan_duel(event: Duel.Requested, r: Reaction, ports: Ports) -> None:
    """Each side plans the request as it would for a task (grounded and checked like any
    plan); a side that cannot says why. A duel about a task keeps that task's plan as a."""
    duel = r.get(Duel, event.originator_id)
    if duel.status != "requested":
        return
    plans: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for side, name in (("a", duel.a), ("b", duel.b)):
        if side == "a" and duel.plan_a is not None:
            plans[side], problems[side] = duel.plan_a, ""
            continue
        try:
            planner = (ports.contenders or _no_contenders)(name)
        except KeyError as e:
            plans[side], problems[side] = None, str(e.args[0] if e.args else e)
            continue
        outcome = SegmentationService(r.app, planner, None).plan(duel)
        plans[side] = outcome.plan
        problems[side] = "" if outcome.plan is not None else outcome.problem or "no plan"
    duel.record_plans(plans, problems, meta_of(duel, ARENA, event))


def _no_contenders(name: str) -> Segmenter:
    raise KeyError(f"{name} cannot plan in this process: no arena here")


def count_duel_run(event: Run.Completed | Run.ManualStepConfirmed, r: Reaction, ports: Ports
                   ) -> None:
    """A run of a task the arena made an alternative for: its outcome is a match between the
    plan that ran and that alternative (MatchPlayed, source run)."""
    run = r.get(Run, event.originator_id)
    try:
        duel = r.get(Duel, duel_of_task(run.task_id))
    except NotFoundError:
        return
    if duel.run_counted or duel.status == "requested" or not duel.plans.get("b"):
        return  # counted, or no alternative to compare with
    meta = meta_of(duel, ARENA, event)
    match = Match.record(duel.a, duel.b, duel.run_verdict(run.outcome or "failed"), meta,
                         source="run", weight=ports.arena_run_weight, task_id=duel.task_id)
    duel.count_run(str(run.id), run.outcome or "failed", match.id, meta)
    r.add(match)
