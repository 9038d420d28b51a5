"""The composition root: builds the real adapters from settings; tests pass overrides."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from eventsourcing.persistence import PersistenceError

from altlas.adapters.local_exec import LocalExecutor
from altlas.adapters.policy_file import load_policy
from altlas.application.app import AltlasApplication
from altlas.application.history import EventHistory
from altlas.application.ports import Clock, StepExecutor, system_clock
from altlas.application.runner import RunWorker
from altlas.domain.policy import Policy
from altlas.settings import Settings, load_settings, parse_database_url


class StartupError(Exception):
    """altlas cannot start with this configuration; the message says what to fix."""


@dataclass
class System:
    settings: Settings
    policy: Policy
    app: AltlasApplication
    worker: RunWorker
    history: EventHistory

    def close(self) -> None:
        self.app.close()


def bootstrap(
    settings: Settings | None = None, *, policy: Policy | None = None,
    clock: Clock = system_clock, executors: Mapping[str, StepExecutor] | None = None,
) -> System:
    settings = settings or load_settings()
    policy = policy or load_policy(settings.policy_file)
    app = _open_application(settings, policy, clock)
    if executors is None:
        executors = {"local": LocalExecutor(policy.local_allow)}
    return System(settings, policy, app, RunWorker(app, executors), EventHistory(app))


def _open_application(settings: Settings, policy: Policy, clock: Clock) -> AltlasApplication:
    if settings.database_url is None:
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StartupError(
                f"ALTLAS_DATA_DIR={settings.data_dir}: cannot create it: {e.strerror}"
            ) from None
        where = f"SQLite store in {settings.data_dir}"
    else:
        db = parse_database_url(settings.database_url.get_secret_value())
        where = db.redacted()
        _check_reachable(settings.database_url.get_secret_value(), where)
    try:
        return AltlasApplication(policy, clock, env=settings.persistence_env())
    except (PersistenceError, sqlite3.Error, OSError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StartupError(f"cannot open the event store ({where}): {reason}") from None


def _check_reachable(url: str, where: str) -> None:
    """Fail fast with the driver's own reason, rather than a pool timeout."""
    try:
        psycopg.connect(url.split("?", 1)[0], connect_timeout=5).close()
    except psycopg.Error as e:
        reason = " ".join(str(e).split())
        raise StartupError(f"cannot connect to {where}: {reason}") from None
