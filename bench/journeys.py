"""What the benchmarks share: the realistic journey of one gated task, and a timer."""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

from adapters.person_keys import SqlPersonKeys, metadata
from application.app import AltlasApplication
from projections.store import create_tables, open_engine

EVENTS_PER_JOURNEY = 14


def person_keys(env: dict[str, str]) -> SqlPersonKeys:
    """People's keys beside the events of the store ``env`` names, as the composition root
    keeps them (an in-memory store, SQLite's or plain objects: in memory too)."""
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        name = env.get("SQLITE_DBNAME", ":memory:")
        url = "sqlite://" if name == ":memory:" else f"sqlite:///{name}"
    else:
        url = (f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@"
               f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}")
        if env.get("POSTGRES_SCHEMA"):
            url += f"?schema={env['POSTGRES_SCHEMA']}"
    keys = SqlPersonKeys(open_engine(url))
    create_tables(keys.engine, metadata)
    return keys


def journey(app: AltlasApplication, i: int) -> None:
    """Request, plan of three steps, run with a gated step, two votes, completion:
    10 commands, 12 transactions, 14 events."""
    task_id = app.request_task(f"check disk then flag #{i}", "deniz", environment="prod")
    app.record_segmentation(task_id, {"alt": 1, "steps": [
        {"id": "s1", "kind": "local", "action": "df -h"},
        {"id": "s2", "kind": "local", "action": "uptime"},
        {"id": "s3", "kind": "local", "action": f"touch /tmp/b{i}/maintenance.flag",
         "needs": ["s1", "s2"]},
    ]}, segmenter="bench", actor="deniz")
    run = app.start_run(task_id, actor="deniz")
    run_id, approval_id = UUID(run.id), UUID(str(run.steps[2].approval_id))
    for step_id in ("s1", "s2"):
        app.record_step_started(run_id, step_id)
        app.record_step_succeeded(run_id, step_id, exit_code=0, output="ok\n" * 20,
                                  duration_ms=3)
    app.cast_vote(approval_id, "alice")
    app.cast_vote(approval_id, "bob")
    app.record_step_started(run_id, "s3")
    app.record_step_succeeded(run_id, "s3", exit_code=0, output="", duration_ms=2)
    app.complete_run(run_id)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
