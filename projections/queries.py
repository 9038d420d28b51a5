"""Queries over the views, for the fronts (they see them through application.ports.ReadModels)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, and_, case, exists, func, or_, select

from projections.cursors import decode_cursor, encode_cursor
from projections.schema import (
    approvals,
    atlas_imports,
    atlas_requests,
    atlas_runs,
    incidents,
    matches,
    run_steps,
    runbooks,
    runs,
    tasks,
    timeline,
    triggers,
)
from projections.times import utc


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


class SqlReadModels:
    def __init__(self, engine: Callable[[], Engine],
                 catch_up: Callable[[], object] | None = None) -> None:
        self._engine = engine
        self._catch_up = catch_up

    def _fresh(self) -> Engine:
        if self._catch_up is not None:
            self._catch_up()
        return self._engine()

    def timeline(self, *, actor: str | None = None, aggregate_id: str | None = None,
                 type_name: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 100,
                 correlation_id: str | None = None,
                 after: tuple[datetime, int] | None = None) -> list[dict[str, Any]]:
        query = select(timeline)
        if actor:
            query = query.where(timeline.c.actor == actor)
        if aggregate_id:
            query = query.where(timeline.c.aggregate_id == aggregate_id)
        if correlation_id:
            query = query.where(timeline.c.correlation_id == correlation_id)
        if after is not None:  # the page after the row at this (time, position)
            moment, position = after
            query = query.where(or_(timeline.c.time > moment, and_(
                timeline.c.time == moment, timeline.c.position > position)))
        if type_name:
            query = query.where(timeline.c.type == type_name)
        if since:
            query = query.where(timeline.c.time >= since)
        if until:
            query = query.where(timeline.c.time <= until)
        query = query.order_by(timeline.c.time, timeline.c.position).limit(limit)
        with self._fresh().connect() as conn:
            return [{**row._asdict(), "time": _aware(row.time).isoformat()}  # type: ignore[union-attr]
                    for row in conn.execute(query)]

    def atlas_facts(self) -> list[dict[str, Any]]:
        r, q = atlas_runs, atlas_requests
        query = (select(q.c.pattern, q.c.intent, q.c.target_kind, q.c.request, q.c.requester,
                        q.c.environment, q.c.segmenter, q.c.targets, q.c.plan, r.c.run_id,
                        r.c.outcome, r.c.duration_ms, q.c.requested_at, r.c.completed_at,
                        r.c.error)
                 .join(q, q.c.task_id == r.c.task_id)
                 .where(r.c.outcome.is_not(None), q.c.pattern.is_not(None))
                 .order_by(r.c.completed_at, r.c.run_id))
        with self._fresh().connect() as conn:
            return [{**row._asdict(), "requested_at": _aware(row.requested_at),
                     "completed_at": _aware(row.completed_at)}
                    for row in conn.execute(query)]

    def pattern_outcomes(self, pattern: str) -> list[tuple[str, str, str | None]]:
        r, q = atlas_runs, atlas_requests
        query = (select(r.c.run_id, r.c.outcome, r.c.error)
                 .join(q, q.c.task_id == r.c.task_id)
                 .where(q.c.pattern == pattern, r.c.outcome.is_not(None))
                 .order_by(r.c.completed_at, r.c.run_id))
        with self._fresh().connect() as conn:
            return [(row.run_id, row.outcome, row.error) for row in conn.execute(query)]

    def atlas_imports(self) -> list[dict[str, Any]]:
        query = select(atlas_imports).order_by(atlas_imports.c.imported_at,
                                               atlas_imports.c.pattern)
        with self._fresh().connect() as conn:
            return [{**row._asdict(), "imported_at": _aware(row.imported_at)}
                    for row in conn.execute(query)]

    def tasks_requested_by(self, requester: str) -> list[str]:
        query = select(tasks.c.task_id).where(tasks.c.requester == requester)
        with self._fresh().connect() as conn:
            return list(conn.execute(query).scalars())

    def planner_facts(self) -> list[dict[str, Any]]:
        q, r = atlas_requests, atlas_runs
        refused = exists().where(approvals.c.task_id == q.c.task_id,
                                 approvals.c.status == "denied")
        query = (select(q.c.segmenter, q.c.task_id, refused.label("refused"),
                        func.count(r.c.outcome).label("runs"),
                        func.count(case((r.c.outcome == "succeeded", 1))).label("successes"))
                 .join(r, r.c.task_id == q.c.task_id, isouter=True)
                 .where(q.c.segmenter.is_not(None))
                 .group_by(q.c.task_id, q.c.segmenter))
        with self._fresh().connect() as conn:
            return [row._asdict() for row in conn.execute(query)]

    def matches(self) -> list[dict[str, Any]]:
        query = select(matches).order_by(matches.c.played_at, matches.c.match_id)
        with self._fresh().connect() as conn:
            return [{**row._asdict(), "played_at": _aware(row.played_at)}
                    for row in conn.execute(query)]

    def triggers(self, due_by: datetime | None = None) -> list[dict[str, Any]]:
        query = select(triggers).order_by(triggers.c.name)
        if due_by is not None:
            query = query.where(triggers.c.next_at <= due_by)
        with self._fresh().connect() as conn:
            return [{**row._asdict(), "next_at": _aware(row.next_at) if row.next_at else None}
                    for row in conn.execute(query)]

    def runbooks(self) -> list[dict[str, Any]]:
        query = select(runbooks).order_by(runbooks.c.name)
        with self._fresh().connect() as conn:
            return [{**row._asdict(), "updated_at": _aware(row.updated_at)}
                    for row in conn.execute(query)]

    def incidents(self, *, status: str | None = None, since: datetime | None = None,
                  prefix: str | None = None, root: str | None = None, limit: int = 20
                  ) -> list[dict[str, Any]]:
        query = select(incidents)
        if root:
            query = query.where(incidents.c.root == root)
        if status:
            query = query.where(incidents.c.status == status)
        if since:
            query = query.where(incidents.c.opened_at >= since)
        if prefix:
            query = query.where(incidents.c.incident_id.like(f"{prefix.lower()}%"))
        query = query.order_by(incidents.c.opened_at.desc(),
                               incidents.c.incident_id.desc()).limit(limit)
        times = ("opened_at", "recorded_at", "resolved_at", "updated_at")
        with self._fresh().connect() as conn:
            return [{**row._asdict(), **{t: _aware(getattr(row, t)) for t in times}}
                    for row in conn.execute(query)]

    def events_of(self, aggregate_ids: list[str], limit: int) -> list[dict[str, Any]]:
        query = (select(timeline).where(timeline.c.aggregate_id.in_(aggregate_ids))
                 .order_by(timeline.c.position).limit(limit))
        with self._fresh().connect() as conn:
            return [{**row._asdict(), "time": _aware(row.time)} for row in conn.execute(query)]

    def open_trainings(self) -> list[str]:
        started = select(timeline.c.aggregate_id).where(timeline.c.type == "TrainingStarted")
        ended = select(timeline.c.aggregate_id).where(
            timeline.c.type.in_(("AdapterTrained", "TrainingFailed")))
        with self._fresh().connect() as conn:
            return [row[0] for row in conn.execute(started.except_(ended))]

    def runs_of(self, task_ids: Collection[str]) -> dict[str, tuple[str, str | None]]:
        if not task_ids:
            return {}
        query = select(runs.c.task_id, runs.c.run_id, runs.c.outcome).where(
            runs.c.task_id.in_(list(task_ids)))
        with self._fresh().connect() as conn:
            return {row.task_id: (row.run_id, row.outcome) for row in conn.execute(query)}

    def resolve(self, prefix: str) -> list[tuple[str, str]]:
        query = (select(timeline.c.aggregate_type, timeline.c.aggregate_id)
                 .where(timeline.c.aggregate_id.like(f"{prefix.lower()}%"))
                 .distinct().limit(5))
        with self._fresh().connect() as conn:
            return [(row.aggregate_type, row.aggregate_id) for row in conn.execute(query)]

    def list_tasks(self, *, status: str | None, requester: str | None,
                   since: datetime | None, limit: int, before: str | None
                   ) -> list[dict[str, Any]]:
        """Newest first; ``before`` is the cursor of the last row of the page before."""
        query = (select(tasks.c.task_id, tasks.c.status, tasks.c.request, tasks.c.requester,
                        tasks.c.mode, tasks.c.environment, tasks.c.source, tasks.c.segmenter,
                        tasks.c.rejection, tasks.c.requested_at, runs.c.run_id,
                        runs.c.outcome)
                 .join(runs, runs.c.task_id == tasks.c.task_id, isouter=True))
        if status:
            query = query.where(tasks.c.status == status)
        return self._page(query, tasks.c.requested_at, tasks.c.task_id, requester, since,
                          limit, before)

    def list_runs(self, *, status: str | None, requester: str | None,
                  since: datetime | None, limit: int, before: str | None
                  ) -> list[dict[str, Any]]:
        """Newest first; ``status`` is running, completed, or an outcome (succeeded, failed,
        cancelled)."""
        query = (select(runs.c.run_id, runs.c.task_id, runs.c.status, runs.c.outcome,
                        runs.c.started_at, runs.c.completed_at, runs.c.duration_ms,
                        runs.c.summary, tasks.c.request, tasks.c.requester)
                 .join(tasks, tasks.c.task_id == runs.c.task_id))
        if status:
            query = query.where(or_(runs.c.status == status, runs.c.outcome == status))
        return self._page(query, runs.c.started_at, runs.c.run_id, requester, since, limit,
                          before)

    def _page(self, query: Select[Any], when: ColumnElement[Any], key: ColumnElement[Any],
              requester: str | None, since: datetime | None, limit: int, before: str | None
              ) -> list[dict[str, Any]]:
        if requester:
            query = query.where(tasks.c.requester == requester)
        if since:
            query = query.where(when >= since)
        if before is not None:  # an empty cursor is no cursor from a listing either
            moment, last = decode_cursor(before)
            query = query.where(or_(when < moment, and_(when == moment, key < last)))
        query = query.order_by(when.desc(), key.desc()).limit(limit)
        out = []
        with self._fresh().connect() as conn:
            for row in conn.execute(query):
                item = {k: (_aware(v).isoformat() if isinstance(v, datetime) else v)  # type: ignore[union-attr]
                        for k, v in row._asdict().items()}
                moment = row._mapping[when.name]
                item["cursor"] = encode_cursor(_aware(moment), str(row._mapping[key.name]))  # type: ignore[arg-type]
                out.append(item)
        return out

    def claimed_steps(self) -> list[tuple[str, str, str]]:
        query = (select(run_steps.c.run_id, run_steps.c.step_id, run_steps.c.worker)
                 .where(run_steps.c.worker.is_not(None),
                        or_(run_steps.c.status == "running",
                            and_(run_steps.c.status == "pending", run_steps.c.retrying))))
        with self._fresh().connect() as conn:
            return [(r.run_id, r.step_id, r.worker) for r in conn.execute(query)]

    def open_approvals(self, at: datetime | None = None) -> list[dict[str, Any]]:
        query = (select(approvals, tasks.c.request)
                 .join(tasks, tasks.c.task_id == approvals.c.task_id, isouter=True)
                 .where(approvals.c.status == "open").order_by(approvals.c.expires_at))
        now = at or datetime.now(UTC)
        out = []
        with self._fresh().connect() as conn:
            for row in conn.execute(query):
                item = row._asdict()
                expires = _aware(row.expires_at)
                assert expires is not None
                item["requested_at"] = _aware(row.requested_at).isoformat()  # type: ignore[union-attr]
                item["expires_at"] = expires.isoformat()
                item["seconds_left"] = max(int((expires - now).total_seconds()), 0)
                item["remaining"] = max(row.required - len(row.votes), 0)
                out.append(item)
        return out
