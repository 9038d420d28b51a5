"""Use cases of runs, and of steps run outside altlas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.documents import last_document
from application.snapshots import RunView
from application.use_cases.base import UseCasesBase
from domain.records import RecordedEvent

RUN_EVENTS = 10_000  # far more than a run of 50 steps, its task and approvals record


class RunUseCases(UseCasesBase):
    def start_run(self, who: str, task_ref: str) -> RunView:
        self.access.check(who, "start")
        return self.app.start_run(self.resolve(task_ref, "task"), actor=who)

    def report_step(self, who: str, run_ref: str, step_id: str, outcome: str,
                    **details: Any) -> RunView:
        """An operator reports a step done by hand or by another tool: ``outcome`` is
        started, succeeded, failed or skipped."""
        self.access.check(who, "report")
        run_id = self.resolve(run_ref, "run")
        record: dict[str, Callable[..., None]] = {
            "started": self.app.record_step_started,
            "succeeded": self.app.record_step_succeeded,
            "failed": self.app.record_step_failed,
            "skipped": self.app.record_step_skipped}
        record[outcome](run_id, step_id, actor=who, **details)
        return self.app.get_run(run_id)

    def confirm_step(self, who: str, run_ref: str, step_id: str, note: str = "") -> RunView:
        """``who`` did a step altlas left to a person (CRITICAL or manual) and says so; the
        run succeeds once no such work is left."""
        self.access.check(who, "confirm")
        return self.app.confirm_manual_step(self.resolve(run_ref, "run"), step_id, by=who,
                                            note=note)

    def complete_run(self, who: str, run_ref: str) -> RunView:
        self.access.check(who, "report")
        return self.app.complete_run(self.resolve(run_ref, "run"), actor=who)

    def run(self, who: str | None, ref: str) -> RunView:
        self._may(who, "read")
        return self.app.get_run(self.resolve(ref, "run"))

    def run_document(self, who: str | None, ref: str) -> dict[str, Any]:
        """A run as its .last document."""
        run = self.run(who, ref)
        return last_document(run, self.app.get_task(UUID(run.task_id)))

    def run_events(self, who: str | None, ref: str) -> list[RecordedEvent]:
        """A run's recorded events with its task's and its approvals', in the order of the
        history, exactly as stored (what its CloudEvents carry)."""
        run = self.run(who, ref)
        ids = [run.task_id, run.id, *(s.approval_id for s in run.steps if s.approval_id)]
        positions = sorted(row["position"] for row in self._reads().events_of(ids, RUN_EVENTS)
                           if row["position"])
        return [r for p in positions for r in self.history.read(after=p - 1, limit=1)]
