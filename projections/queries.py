"""Queries over the views, for the fronts (they see them through application.ports.ReadModels)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from projections.schema import approvals, runs, tasks, timeline


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands times back without their zone; they were stored in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


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
                 until: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = select(timeline)
        if actor:
            query = query.where(timeline.c.actor == actor)
        if aggregate_id:
            query = query.where(timeline.c.aggregate_id == aggregate_id)
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

    def successful_plans(self, limit: int = 200) -> list[tuple[str, dict[str, Any]]]:
        query = (select(tasks.c.request, tasks.c.plan)
                 .join(runs, runs.c.task_id == tasks.c.task_id)
                 .where(runs.c.outcome == "succeeded", tasks.c.plan.is_not(None))
                 .order_by(runs.c.completed_at.desc()).limit(limit))
        with self._fresh().connect() as conn:
            return [(row.request, row.plan) for row in conn.execute(query)]

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        query = (select(runs.c.run_id, runs.c.status, runs.c.outcome, runs.c.started_at,
                        tasks.c.request, tasks.c.requester)
                 .join(tasks, tasks.c.task_id == runs.c.task_id)
                 .order_by(runs.c.started_at.desc()).limit(limit))
        with self._fresh().connect() as conn:
            return [row._asdict() for row in conn.execute(query)]

    def resolve(self, prefix: str) -> list[tuple[str, str]]:
        query = (select(timeline.c.aggregate_type, timeline.c.aggregate_id)
                 .where(timeline.c.aggregate_id.like(f"{prefix.lower()}%"))
                 .distinct().limit(5))
        with self._fresh().connect() as conn:
            return [(row.aggregate_type, row.aggregate_id) for row in conn.execute(query)]

    def open_approvals(self) -> list[dict[str, Any]]:
        query = (select(approvals, tasks.c.request)
                 .join(tasks, tasks.c.task_id == approvals.c.task_id, isouter=True)
                 .where(approvals.c.status == "open").order_by(approvals.c.expires_at))
        now = datetime.now(UTC)
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
