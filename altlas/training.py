"""Training, put together: asking for it (the training set written where the worker reads
it), the process a granted training runs in, and noticing one whose process stopped.

The training worker is a process of its own (`altlas models train-run ID`, started in its own
session so it outlives the worker that started it): torch needs gigabytes and minutes that a
worker serving runs must not give. It records TrainingStarted once (a second process started
for the same training finds it started and leaves), its progress at most every
ALTLAS_TRAINING_PROGRESS_SECONDS, then AdapterTrained or TrainingFailed. A process killed
mid-way records nothing more: the workers' housekeeping records TrainingFailed when its
progress is older than ALTLAS_TRAINING_HEARTBEAT_SECONDS (application/worker.py).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from adapters.packaged import ModelUnavailableError, file_sha256, verify
from altlas.bootstrap import System
from altlas.settings import settings_env
from application import training_data
from application.app import TRAINER
from application.views import ApprovalView
from domain.errors import ConflictError
from domain.training import Training

log = logging.getLogger("altlas.training")


def training_set(system: System, who: str, dev: dict[str, Any], test: dict[str, Any]
                 ) -> training_data.Dataset:
    """What an adapter would learn from, as ``who`` (operators) may see it."""
    system.use_cases().access.check(who, "train")
    runs, arena = training_data.from_history(system.app, system.history)
    return training_data.build(runs, arena, training_data.labelled(dev),
                               [r["request"] for r in test.get("requests", ())],
                               system.app.redactor)


def request(system: System, who: str, base: str, hyperparameters: dict[str, Any],
            dev: dict[str, Any], test: dict[str, Any]) -> tuple[ApprovalView, int]:
    """Build the training set, write it under the data directory, and ask for the training
    (the approval it opens, and how many examples)."""
    dataset = training_set(system, who, dev, test)
    folder = system.settings.data_dir / "training"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid4()}.jsonl"
    path.write_text("".join(dataset.jsonl()), encoding="utf-8")
    try:
        approval = system.app.request_training(
            base, who, dataset=str(path), dataset_sha256=file_sha256(path),
            examples=len(dataset.examples), by_source=dataset.by_source(),
            hyperparameters=hyperparameters, minimum=system.settings.training_min_examples)
    except BaseException:
        path.unlink()  # refused: nothing left behind
        raise
    return approval, len(dataset.examples)


class ProcessLauncher:
    """Ports.trainer: `altlas models train-run ID` in a process of its own, with this
    process's settings; what it prints goes to the training's log file."""

    def __init__(self, system: System) -> None:
        self._env = {**os.environ, **settings_env(system.settings)}
        self._logs = system.settings.data_dir / "training"

    def __call__(self, training_id: UUID) -> None:
        self._logs.mkdir(parents=True, exist_ok=True)
        with (self._logs / f"{training_id}.log").open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "altlas", "models", "train-run", str(training_id)],
                env=self._env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        threading.Thread(target=process.wait, daemon=True).start()  # reaped when it ends
        log.info("training %s: worker process %s started", training_id, process.pid)


def run(system: System, training_id: UUID) -> int:
    """The training worker: exit 0 when the adapter is trained (or another process has the
    training), 1 when it failed (and says why on the record)."""
    from adapters.lora_trainer import train
    from adapters.segmenter_model import system_prompt

    app = system.app
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        app.change_training(training_id, TRAINER, lambda t, m: t.start(worker, m))
    except ConflictError as e:
        log.info("training %s: %s; leaving it", training_id, e)
        return 0
    training = app.load(Training, training_id)
    settings = system.settings
    last = 0.0

    def progress(step: int, steps: int, loss: float, tokens_per_s: float,
                 eta_s: float) -> None:
        nonlocal last
        now = time.monotonic()
        if step == steps or now - last >= settings.training_progress_seconds:
            last = now
            app.change_training(training_id, TRAINER, lambda t, m: t.progress(
                step, steps, loss, tokens_per_s, eta_s, m))

    try:
        dataset = Path(training.dataset)
        if file_sha256(dataset) != training.dataset_sha256:
            raise ModelUnavailableError(f"the training set {dataset} changed since it was "
                                        "built; ask for the training again")
        registry = app.model_registry()
        base = registry.model(training.base) if registry else None
        if base is None:
            raise ModelUnavailableError(f"{training.base} is no longer registered")
        verify(Path(base["path"]), training.base_sha256, settings.model_cache,
               pinned="the registered", remedy="register the base again")
        examples = [training_data.Example(**_fields(line)).to_dict()
                    for line in dataset.read_text(encoding="utf-8").splitlines() if line]
        h = training.hyperparameters
        flag = str(settings.data_dir / "maintenance.flag")
        done = train(Path(base["path"]), examples, system_prompt(app.policy, flag),
                     settings.data_dir / "adapters" / training.adapter_name,
                     rank=int(h["rank"]), alpha=int(h["alpha"]), dropout=float(h["dropout"]),
                     lr=float(h["lr"]), epochs=int(h["epochs"]),
                     max_steps=int(h["max_steps"]), progress=progress,
                     threads=settings.llm_threads)
    except Exception as e:  # whatever stopped it is said on the record
        log.exception("training %s failed", training_id)
        reason = f"{type(e).__name__}: {e}"
        app.change_training(training_id, TRAINER, lambda t, m: t.fail(reason, m))
        return 1
    app.change_training(training_id, TRAINER, lambda t, m: t.trained(
        str(done.path), done.sha256, done.steps, done.duration_ms, done.loss_curve, m))
    log.info("training %s: %s trained in %d steps (%.0f s, peak %.0f MB)", training_id,
             training.adapter_name, done.steps, done.duration_ms / 1000, done.peak_rss_mb)
    return 0


def _fields(line: str) -> dict[str, Any]:
    found = json.loads(line)
    return {"request": found["request"], "plan": found["plan"], "source": found["source"]}
