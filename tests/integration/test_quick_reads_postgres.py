"""On PostgreSQL, as on the embedded default: a read of current views opens only them (and
the store through the library alone) and shows what the whole system shows; views ahead of
the store are refused."""

from __future__ import annotations

import os
from pathlib import Path

from testkit.backends import PostgresBackend
from tests.e2e.conftest import imports, one_line_error
from tests.e2e.conftest import run_altlas as altlas
from tests.e2e.test_cli_reads import _run_id, _waiting_for_approval


def _env(url: str, schema: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("ALTLAS_")}
    return {**clean, "ALTLAS_DATABASE_URL": f"{url}?schema={schema}",
            "ALTLAS_VIEWS_DATABASE_URL": f"{url}?schema={schema}v"}


def test_a_postgresql_read_of_current_views_answers_as_the_whole_system(
        postgres_url: str, pg_schema: str, tmp_path: Path) -> None:
    env = _env(postgres_url, pg_schema)
    _waiting_for_approval(env, tmp_path)
    assert altlas(env, "task", "request", "check memory on web-2", "--as", "erin"
                  ).returncode == 0
    whole = altlas({**env, "ALTLAS_INSTANCE_NAME": "whole"}, "task", "list")  # catches up
    assert whole.returncode == 0, whole.stderr
    out, modules = imports(env, "task", "list")
    assert out == whole.stdout and "check memory on web-2" in out.splitlines()[0]
    assert "altlas.bootstrap" not in modules
    run = _run_id(env)
    for read in (("events",), ("events", "--json"), ("run", "show", run[:8]), ("incidents",)):
        whole = altlas({**env, "ALTLAS_INSTANCE_NAME": "whole"}, *read)
        out, modules = imports(env, *read)
        assert whole.returncode == 0 and out == whole.stdout, read
        assert "altlas.bootstrap" not in modules, read


def test_postgresql_views_ahead_of_the_store_are_refused_by_a_read(
        postgres_url: str, pg_schema: str) -> None:
    env = _env(postgres_url, pg_schema)
    for text in ("check disk on web-1", "check memory on web-2"):
        assert altlas(env, "task", "request", text, "--as", "erin").returncode == 0
    assert altlas(env, "task", "list").returncode == 0
    backend = PostgresBackend(postgres_url, pg_schema)
    backend.execute(f"DELETE FROM {backend.events_table} WHERE notification_id = "
                    f"(SELECT MAX(notification_id) FROM {backend.events_table})")
    for read in (("task", "list"), ("run", "list"), ("approvals",)):
        assert "events were lost" in one_line_error(altlas(env, *read))
