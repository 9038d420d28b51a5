"""The projections of the approval queue, tasks and runs, and the audit timeline; the .atlas
(projections/atlas.py); each folds a batch of events into its own tables, idempotently
(projections/folding.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from domain.catalog import aggregate_kind
from domain.records import RecordedEvent
from projections.atlas import AtlasProjection
from projections.folding import Changes, Projection, Row, insert_ignore, load
from projections.incidents import IncidentsProjection
from projections.leaderboards import LeaderboardsProjection
from projections.runbooks import RunbooksProjection
from projections.schema import approvals, run_steps, runs, tasks, timeline


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


Fold = Callable[[RecordedEvent], None]


class TasksProjection(Projection):
    """Tasks and runs: status, plan, steps, durations."""

    name = "tasks"
    tables = (tasks, runs, run_steps)

    def apply(self, conn: Connection, records: Sequence[RecordedEvent]) -> None:
        _TasksBatch(conn, records).write(conn)


class _TasksBatch:
    """One batch of the tasks projection, folded in memory."""

    def __init__(self, conn: Connection, records: Sequence[RecordedEvent]) -> None:
        task_ids = {str(r.aggregate_id) for r in records
                    if aggregate_kind(r.type_name) == "task"}
        run_ids = {str(r.aggregate_id) for r in records if aggregate_kind(r.type_name) == "run"}
        self.tasks = Changes(load(conn, tasks, "task_id", task_ids))
        self.runs = Changes(load(conn, runs, "run_id", run_ids))
        self.steps = Changes(load(conn, run_steps, "run_id", run_ids))
        folds: dict[str, Fold] = {
            "TaskRequested": self._requested, "TaskSegmented": self._segmented,
            "TaskRejected": self._rejected, "RunStarted": self._run_started,
            "TaskClarificationRequested": self._status("asking"),
            "TaskClarified": self._status("requested"),
            "TaskClarificationExpired": self._status("unanswered"),
            "StepStarted": self._step_started, "StepSucceeded": self._step_finished,
            "StepFailed": self._step_finished, "StepSkipped": self._step_skipped,
            "StepInterrupted": self._step_interrupted, "RunCompleted": self._run_completed,
            "ManualStepPosted": self._manual_posted,
            "StepApprovalAsked": self._approval_asked,
            "ManualStepConfirmed": self._manual_confirmed,
        }
        for record in records:
            fold = folds.get(record.type_name)
            if fold is not None:
                fold(record)

    def write(self, conn: Connection) -> None:
        self.tasks.write(conn, tasks)
        self.runs.write(conn, runs)
        self.steps.write(conn, run_steps)

    def _requested(self, r: RecordedEvent) -> None:
        d = r.data
        self.tasks.create(str(r.aggregate_id), {
            "task_id": str(r.aggregate_id), "version": r.version, "request": d["request"],
            "requester": d["requester"], "mode": d["mode"], "persona": d["persona"],
            "environment": d["environment"], "source": d["source"], "status": "requested",
            "segmenter": None, "plan": None, "rejection": None,
            "correlation_id": r.correlation_id, "requested_at": r.timestamp,
            "updated_at": r.timestamp,
        })

    def _segmented(self, r: RecordedEvent) -> None:
        row = self.tasks.newer(str(r.aggregate_id), r.version)
        if row is not None:
            row.update(status="segmented", plan=r.data["plan"], segmenter=r.data["segmenter"],
                       updated_at=r.timestamp)

    def _status(self, status: str) -> Fold:
        def fold(r: RecordedEvent) -> None:
            row = self.tasks.newer(str(r.aggregate_id), r.version)
            if row is not None:
                row.update(status=status, updated_at=r.timestamp)
        return fold

    def _rejected(self, r: RecordedEvent) -> None:
        row = self.tasks.newer(str(r.aggregate_id), r.version)
        if row is not None:
            row.update(status="rejected", rejection=r.data["reason"], updated_at=r.timestamp)

    def _run_started(self, r: RecordedEvent) -> None:
        run_id = str(r.aggregate_id)
        if not self.runs.create(run_id, {
            "run_id": run_id, "version": r.version, "task_id": r.data["task_id"],
            "status": "running", "outcome": None, "started_at": r.timestamp,
            "completed_at": None, "duration_ms": None, "summary": None,
        }):
            return
        for i, s in enumerate(r.data["steps"]):
            self.steps.create((run_id, s["id"]), {
                "run_id": run_id, "step_id": s["id"], "position": i, "kind": s["kind"],
                "risk": s["risk"], "gate": s["gate"], "needs": s["needs"],
                "approval_id": s.get("approval_id"), "status": "pending", "attempts": 0,
                "exit_code": None, "error": None, "duration_ms": None, "started_at": None,
                "finished_at": None, "facts": None, "worker": None, "retrying": False,
                "redacted": 0,
            })

    def _step(self, r: RecordedEvent, **values: Any) -> Row | None:
        """The run's row if the event was newer than it (the step updated), else None."""
        run = self.runs.newer(str(r.aggregate_id), r.version)
        if run is None:
            return None
        key = (str(r.aggregate_id), r.data["step_id"])
        step = self.steps.rows.get(key)
        if step is not None:
            step.update(values)
            self.steps.touch(key)
        return run

    def _step_started(self, r: RecordedEvent) -> None:
        self._step(r, status="running", attempts=r.data["attempt"], started_at=r.timestamp,
                   worker=r.data.get("worker"), retrying=False)

    def _step_finished(self, r: RecordedEvent) -> None:
        d = r.data
        if r.type_name == "StepSucceeded":
            status, error = "succeeded", None
        else:
            status, error = ("pending" if d["will_retry"] else "failed"), d["error"]
        self._step(r, status=status, exit_code=d["exit_code"], error=error,
                   duration_ms=d["duration_ms"], finished_at=r.timestamp,
                   facts=d.get("facts") or None, retrying=status == "pending",
                   redacted=d.get("redacted") or 0)

    def _step_interrupted(self, r: RecordedEvent) -> None:
        if r.data["rerun"]:
            self._step(r, status="pending", retrying=False)
        else:
            self._step(r, status="failed", error=r.data["reason"], finished_at=r.timestamp,
                       retrying=False)

    def _step_skipped(self, r: RecordedEvent) -> None:
        self._step(r, status="skipped", error=r.data["reason"], finished_at=r.timestamp)

    def _approval_asked(self, r: RecordedEvent) -> None:
        self._step(r, approval_id=r.data["approval_id"])

    def _manual_posted(self, r: RecordedEvent) -> None:
        self._step(r, status="manual", error=r.data["reason"], finished_at=r.timestamp)

    def _manual_confirmed(self, r: RecordedEvent) -> None:
        run = self._step(r, status="succeeded", error=None, finished_at=r.timestamp)
        if run is not None and r.data["outcome"] is not None:
            run.update(outcome=r.data["outcome"])

    def _run_completed(self, r: RecordedEvent) -> None:
        row = self.runs.newer(str(r.aggregate_id), r.version)
        if row is not None:
            row.update(status="completed", outcome=r.data["outcome"],
                       duration_ms=r.data["duration_ms"], completed_at=r.timestamp,
                       summary=r.data.get("summary"))


_DECISIONS: dict[str, Callable[[dict[str, Any]], tuple[str, str | None]]] = {
    "ApprovalGranted": lambda d: ("granted", None),
    "ApprovalDenied": lambda d: ("denied", f"denied by {d['voter']}: {d['reason']}"),
    "ApprovalExpired": lambda d: ("expired", "expired before enough approvals"),
    "ApprovalCancelled": lambda d: ("cancelled", f"cancelled: {d['reason']}"),
}


class ApprovalsProjection(Projection):
    """The approval queue: what is open, who voted, how long is left."""

    name = "approvals"
    tables = (approvals,)

    def apply(self, conn: Connection, records: Sequence[RecordedEvent]) -> None:
        mine = [r for r in records if r.type_name.startswith("Approval")]
        changes = Changes(load(conn, approvals, "approval_id",
                                {str(r.aggregate_id) for r in mine}))
        for r in mine:
            key, d = str(r.aggregate_id), r.data
            if r.type_name == "ApprovalAttemptRefused":
                continue  # a refused click changes nothing; the timeline shows it
            if r.type_name == "ApprovalRequested":
                changes.create(key, {
                    "approval_id": key, "version": r.version, "task_id": d["task_id"],
                    "run_id": d["run_id"], "step_id": d["step_id"], "risk": d["risk"],
                    "environment": d["environment"], "requester": d["requester"],
                    "eligible": d["eligible"], "required": d["required"], "votes": [],
                    "excluded": d["excluded"],
                    "status": "open", "reason": d["reason"], "decision_reason": None,
                    "requested_at": r.timestamp, "expires_at": _time(d["expires_at"]),
                    "decided_at": None,
                })
            elif (row := changes.newer(key, r.version)) is not None:
                if r.type_name == "ApprovalVoteCast":
                    row["votes"] = [*row["votes"], d["voter"]]
                else:
                    status, reason = _DECISIONS[r.type_name](d)
                    row.update(status=status, decision_reason=reason, decided_at=r.timestamp)
        changes.write(conn, approvals)


class TimelineProjection(Projection):
    """Every event, for the audit timeline; filterable by actor, aggregate, type and time."""

    name = "timeline"
    tables = (timeline,)

    def apply(self, conn: Connection, records: Sequence[RecordedEvent]) -> None:
        insert_ignore(conn, timeline, [{
            "event_id": r.id, "position": r.position, "type": r.type_name,
            "aggregate_type": aggregate_kind(r.type_name), "aggregate_id": str(r.aggregate_id),
            "version": r.version, "time": r.timestamp, "actor": r.actor,
            "correlation_id": r.correlation_id, "causation_id": r.causation_id,
            "data": r.data,
        } for r in records])


PROJECTIONS: dict[str, Projection] = {
    p.name: p for p in (TasksProjection(), ApprovalsProjection(), TimelineProjection(),
                         AtlasProjection(), LeaderboardsProjection(),
                         IncidentsProjection(), RunbooksProjection())
}
