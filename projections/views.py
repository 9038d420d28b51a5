"""The projections: each folds events into its own tables, idempotently.

Every aggregate row keeps the version of the last event applied to it and an update only
takes effect for a newer version, so a re-delivered event (a relay retry, a consumer
restart) changes nothing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from altlas.domain.catalog import aggregate_kind
from altlas.domain.records import RecordedEvent
from altlas.projections.schema import approvals, run_steps, runs, tasks, timeline

Handler = Callable[[Connection, RecordedEvent], None]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert a row unless its key exists; True if it was inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
    return bool(conn.execute(statement).rowcount)


def _advance(conn: Connection, table: Table, key: str, record: RecordedEvent,
             **values: Any) -> bool:
    """Apply an update to an aggregate's row only if the event is newer than the row."""
    column = table.c[key]
    statement = (update(table)
                 .where(column == str(record.aggregate_id), table.c.version < record.version)
                 .values(version=record.version, **values))
    return bool(conn.execute(statement).rowcount)


class Projection(ABC):
    """A named view over events, owning its tables."""

    name: str
    tables: tuple[Table, ...]

    @abstractmethod
    def apply(self, conn: Connection, record: RecordedEvent) -> None:
        """Fold one event into this projection's tables, in the caller's transaction."""


class _Dispatching(Projection):
    """A projection with one handler per event type it cares about."""

    def __init__(self) -> None:
        self._handlers = self.handlers()

    @abstractmethod
    def handlers(self) -> Mapping[str, Handler]:
        """Event type name → the method that folds it."""

    def apply(self, conn: Connection, record: RecordedEvent) -> None:
        handler = self._handlers.get(record.type_name)
        if handler is not None:
            handler(conn, record)


class TasksProjection(_Dispatching):
    """Tasks and runs: status, plan, steps, durations."""

    name = "tasks"
    tables = (tasks, runs, run_steps)

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "TaskRequested": self._requested, "TaskSegmented": self._segmented,
            "TaskRejected": self._rejected, "RunStarted": self._run_started,
            "StepStarted": self._step_started, "StepSucceeded": self._step_finished,
            "StepFailed": self._step_finished, "StepSkipped": self._step_skipped,
            "RunCompleted": self._run_completed,
        }

    def _requested(self, conn: Connection, r: RecordedEvent) -> None:
        d = r.data
        insert_ignore(conn, tasks, {
            "task_id": str(r.aggregate_id), "version": r.version, "request": d["request"],
            "requester": d["requester"], "mode": d["mode"], "persona": d["persona"],
            "environment": d["environment"], "source": d["source"], "status": "requested",
            "correlation_id": r.correlation_id, "requested_at": r.timestamp,
            "updated_at": r.timestamp,
        })

    def _segmented(self, conn: Connection, r: RecordedEvent) -> None:
        _advance(conn, tasks, "task_id", r, status="segmented", plan=r.data["plan"],
                 segmenter=r.data["segmenter"], updated_at=r.timestamp)

    def _rejected(self, conn: Connection, r: RecordedEvent) -> None:
        _advance(conn, tasks, "task_id", r, status="rejected", rejection=r.data["reason"],
                 updated_at=r.timestamp)

    def _run_started(self, conn: Connection, r: RecordedEvent) -> None:
        run_id = str(r.aggregate_id)
        if not insert_ignore(conn, runs, {
            "run_id": run_id, "version": r.version, "task_id": r.data["task_id"],
            "status": "running", "started_at": r.timestamp,
        }):
            return
        conn.execute(run_steps.insert(), [
            {"run_id": run_id, "step_id": s["id"], "position": i, "kind": s["kind"],
             "risk": s["risk"], "gate": s["gate"], "needs": s["needs"],
             "approval_id": s.get("approval_id"), "status": "pending", "attempts": 0}
            for i, s in enumerate(r.data["steps"])
        ])

    def _step(self, conn: Connection, r: RecordedEvent, **values: Any) -> None:
        if _advance(conn, runs, "run_id", r):
            conn.execute(update(run_steps).where(
                run_steps.c.run_id == str(r.aggregate_id),
                run_steps.c.step_id == r.data["step_id"]).values(**values))

    def _step_started(self, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, r, status="running", attempts=r.data["attempt"],
                   started_at=r.timestamp)

    def _step_finished(self, conn: Connection, r: RecordedEvent) -> None:
        d = r.data
        if r.type_name == "StepSucceeded":
            status, error = "succeeded", None
        else:
            status, error = ("pending" if d["will_retry"] else "failed"), d["error"]
        self._step(conn, r, status=status, exit_code=d["exit_code"], error=error,
                   duration_ms=d["duration_ms"], finished_at=r.timestamp)

    def _step_skipped(self, conn: Connection, r: RecordedEvent) -> None:
        self._step(conn, r, status="skipped", error=r.data["reason"], finished_at=r.timestamp)

    def _run_completed(self, conn: Connection, r: RecordedEvent) -> None:
        _advance(conn, runs, "run_id", r, status="completed", outcome=r.data["outcome"],
                 duration_ms=r.data["duration_ms"], completed_at=r.timestamp,
                 summary=r.data.get("summary"))


class ApprovalsProjection(_Dispatching):
    """The approval queue: what is open, who voted, how long is left."""

    name = "approvals"
    tables = (approvals,)

    def handlers(self) -> Mapping[str, Handler]:
        return {
            "ApprovalRequested": self._requested, "ApprovalVoteCast": self._voted,
            "ApprovalGranted": self._decided, "ApprovalDenied": self._decided,
            "ApprovalExpired": self._decided, "ApprovalCancelled": self._decided,
        }

    def _requested(self, conn: Connection, r: RecordedEvent) -> None:
        d = r.data
        insert_ignore(conn, approvals, {
            "approval_id": str(r.aggregate_id), "version": r.version, "task_id": d["task_id"],
            "run_id": d["run_id"], "step_id": d["step_id"], "risk": d["risk"],
            "environment": d["environment"], "requester": d["requester"],
            "eligible": d["eligible"], "required": d["required"], "votes": [],
            "status": "open", "reason": d["reason"], "requested_at": r.timestamp,
            "expires_at": _time(d["expires_at"]),
        })

    def _voted(self, conn: Connection, r: RecordedEvent) -> None:
        row = conn.execute(select(approvals.c.votes).where(
            approvals.c.approval_id == str(r.aggregate_id))).first()
        if row is not None:
            _advance(conn, approvals, "approval_id", r, votes=[*row.votes, r.data["voter"]])

    def _decided(self, conn: Connection, r: RecordedEvent) -> None:
        d = r.data
        status, reason = {
            "ApprovalGranted": ("granted", None),
            "ApprovalDenied": ("denied", f"denied by {d.get('voter')}: {d.get('reason')}"),
            "ApprovalExpired": ("expired", "expired before enough approvals"),
            "ApprovalCancelled": ("cancelled", f"cancelled: {d.get('reason')}"),
        }[r.type_name]
        _advance(conn, approvals, "approval_id", r, status=status, decision_reason=reason,
                 decided_at=r.timestamp)


class TimelineProjection(Projection):
    """Every event, for the audit timeline; filterable by actor, aggregate, type and time."""

    name = "timeline"
    tables = (timeline,)

    def apply(self, conn: Connection, record: RecordedEvent) -> None:
        insert_ignore(conn, timeline, {
            "event_id": record.id, "position": record.position, "type": record.type_name,
            "aggregate_type": aggregate_kind(record.type_name),
            "aggregate_id": str(record.aggregate_id), "version": record.version,
            "time": record.timestamp, "actor": record.actor,
            "correlation_id": record.correlation_id, "causation_id": record.causation_id,
            "data": record.data,
        })


PROJECTIONS: dict[str, Projection] = {
    p.name: p for p in (TasksProjection(), ApprovalsProjection(), TimelineProjection())
}
