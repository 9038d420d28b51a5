"""The training worker's process: torch needs gigabytes and minutes that a worker serving runs
must not give, so a granted training runs in a process of its own, in its own session so it
outlives the worker that started it."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from uuid import UUID

log = logging.getLogger("altlas.training")


class ProcessLauncher:
    """Ports.trainer: `altlas models train-run ID` in a process of its own, with ``env``
    (this process's settings); what it prints goes to the training's log file in ``logs``."""

    def __init__(self, env: Mapping[str, str], logs: Path) -> None:
        self._env = dict(env)
        self._logs = logs

    def __call__(self, training_id: UUID) -> None:
        self._logs.mkdir(parents=True, exist_ok=True)
        with (self._logs / f"{training_id}.log").open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "altlas", "models", "train-run", str(training_id)],
                env=self._env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        threading.Thread(target=process.wait, daemon=True).start()  # reaped when it ends
        log.info("training %s: worker process %s started", training_id, process.pid)
