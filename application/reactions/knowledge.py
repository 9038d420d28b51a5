"""Reactions of the .atlas: a pattern that fails too often is said."""

from __future__ import annotations

from application.core import ATLAS, Reaction
from application.errors import NotFoundError
from application.reactions.common import Ports, meta_of
from domain.atlas import failure_text, pattern_of, runbook_pattern
from domain.base import EventMeta, event_id
from domain.knowledge import PatternWatch, watch_id
from domain.plan import PlanError
from domain.run import FAILED, SUCCEEDED, Run
from domain.task import Task


def watch_pattern(event: Run.Completed | Run.ManualStepConfirmed, outcome: str, r: Reaction,
                  ports: Ports) -> None:
    """A completed run counts toward its plan's pattern: a pattern that now fails too often,
    or no longer does, is said once (PatternSuccessLow, PatternSuccessRecovered). The view
    may not show this run yet: it is counted from the event."""
    if ports.outcomes is None:
        return
    run = r.get(Run, event.originator_id)
    task = r.get(Task, run.task_id)
    try:
        pattern = (runbook_pattern(task.source) or pattern_of(task.plan).key
                   if task.plan is not None else None)
    except PlanError:
        pattern = None
    if pattern is None:
        return
    seen = {run_id: (outcome, error) for run_id, outcome, error in ports.outcomes(pattern)}
    failed = [failure_text(s.id, s.error, s.output) for s in run.steps.values()
              if s.status == FAILED and s.error]
    seen.pop(str(run.id), None)
    seen[str(run.id)] = (outcome, failed[-1] if failed else None)
    errors = [error or outcome for outcome, error in seen.values() if outcome != SUCCEEDED]
    learning = r.app.policy.learning
    runs, successes = len(seen), sum(1 for o, _ in seen.values() if o == SUCCEEDED)
    try:
        watch = r.get(PatternWatch, watch_id(pattern))
    except NotFoundError:  # opened at its first crossing only: most patterns never cross
        if runs < learning.min_runs or successes / runs >= learning.low_success:
            return
        watch = PatternWatch.open(pattern, EventMeta(
            ATLAS, run.correlation_id, event_id(event.originator_id, event.originator_version)))
        r.add(watch)
    watch.observe(runs, successes, learning.low_success, learning.min_runs,
                  errors[-1] if errors else None, str(run.id), meta_of(watch, ATLAS, event))
