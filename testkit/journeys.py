"""A gated journey through a whole System, and the environment its processes are started with."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from altlas.bootstrap import System
from altlas.settings import Settings
from testkit.helpers import gated_plan, run_to_rest


def journey(system: System, tmp_path: Path, grant: bool = True) -> tuple[UUID, UUID, UUID]:
    app = system.app
    run = run_to_rest(system, gated_plan(str(tmp_path / "maintenance.flag")),
                      environment="prod")
    run_id = UUID(run.id)
    approval_id = UUID(str(run.steps[2].approval_id))
    app.cast_vote(approval_id, "alice")
    if grant:
        app.cast_vote(approval_id, "bob")
        system.worker().until_quiet()
        app.record_match("rules", "local:qwen", "a", "alice", task_id=run.task_id,
                         makers=[])
    return UUID(run.task_id), run_id, approval_id


def process_env(settings: Settings) -> dict[str, str]:
    env = {"ALTLAS_DATA_DIR": str(settings.data_dir),
           "ALTLAS_KAFKA_BOOTSTRAP_SERVERS": str(settings.kafka_bootstrap_servers),
           "ALTLAS_KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix}
    for name in ("database_url", "views_database_url"):
        value = getattr(settings, name)
        if value is not None:
            env[f"ALTLAS_{name.upper()}"] = value.get_secret_value()
    return env
