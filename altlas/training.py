"""Training from the command line: asking for it as a person (application/training_requests.py
keeps the set and asks; the workers ask by themselves there too), and the training worker a
granted training runs in (`altlas models train-run ID`, started by adapters/training_process.py
in a process of its own). It records TrainingStarted once (a second process started
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
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.packaged import ModelUnavailableError, file_sha256, verify
from adapters.policy_file import load_policy
from adapters.training_sets import read_labelled
from altlas.bootstrap import System
from application import evaluation, training_data
from application.core import TRAINER
from application.segmentation import SegmentationService
from application.snapshots import ApprovalView
from domain.errors import ConflictError
from domain.training import Training

log = logging.getLogger("altlas.training")


def training_set(system: System, who: str, dev: dict[str, Any], test: dict[str, Any]
                 ) -> training_data.Dataset:
    """What an adapter would learn from, as ``who`` (operators) may see it."""
    system.use_cases().access.check(who, "train")
    return system.training_requests().dataset(dev, test)


def request(system: System, who: str, base: str, hyperparameters: dict[str, Any],
            dev: dict[str, Any], test: dict[str, Any]) -> tuple[ApprovalView, int]:
    """Build the training set, keep it under the data directory, and ask for the training
    (the approval it opens, and how many examples)."""
    dataset = training_set(system, who, dev, test)
    return system.training_requests().request(who, base, hyperparameters, dataset)


def run(system: System, training_id: UUID) -> int:
    """The training worker: exit 0 when the adapter is trained (or another process has the
    training), 1 when it failed (and says why on the record)."""
    from adapters.lora_trainer import train
    from adapters.segmenter_model import Prompt

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
        done = train(Path(base["path"]), examples, Prompt(app.policy, flag).of,
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
    try:
        evaluate(system, TRAINER, training_id, settings.evaluation_file,
                 settings.evaluation_sample)
    except Exception:  # the adapter stands; `altlas models evaluate` measures it again
        log.exception("training %s: the evaluation failed", training_id)
    return 0


def evaluate(system: System, who: str, training_id: UUID, file: Path, sample: int
             ) -> dict[str, Any]:
    """Measure a trained adapter against its base on the labelled ``file`` (a seeded sample
    of ``sample`` requests, or all of them), through llama.cpp as the segmenter would plan
    with it, and record AdapterEvaluated; its scores."""
    from adapters.llm_local import LocalModel
    from adapters.lora_gguf import for_base
    from adapters.segmenter_model import ModelSegmenter

    app = system.app
    settings = system.settings
    training = app.load(Training, training_id)
    trained = next((e for e in app.events.get(training_id)
                    if isinstance(e, Training.AdapterTrained)), None)
    if trained is None:
        raise ConflictError(f"training {training_id} is {training.status}: only a trained "
                            "adapter is evaluated")
    registry = app.model_registry()
    if registry is None or training.base not in registry.models:
        raise ModelUnavailableError(f"{training.base} is no longer registered")
    base = registry.models[training.base]
    folder = Path(trained.path)
    verify(Path(base["path"]), training.base_sha256, settings.model_cache,
           pinned="the registered", remedy="register the base again")
    verify(folder / "adapter_model.safetensors", trained.sha256, settings.model_cache,
           pinned="the trained", remedy="train it again")
    found = read_labelled(file)
    entries = evaluation.sample(found["requests"], sample, f"{file.name}:{sample}")
    gguf = for_base(folder, folder / "adapter.gguf", Path(base["path"]))
    policy = load_policy(None)  # the labelled files name the default policy's hosts
    flag = str(settings.data_dir / "maintenance.flag")
    check = evaluation.PolicyCheck(policy, app.privacy)
    threads = settings.llm_threads

    def service(lora: Path | None) -> SegmentationService:
        model = LocalModel(training.adapter_name if lora else training.base,
                           Path(base["path"]), threads=threads, lora=lora)
        return SegmentationService(check, ModelSegmenter(model, policy, flag), None,
                                   readings=settings.segmenter_readings)

    scores = {}
    for side, lora in (("base", None), ("adapter", gguf)):
        scores[side] = evaluation.score(service(lora).plan, entries, policy, flag).summary()
    app.change_training(training_id, who, lambda t, m: t.evaluated(
        gguf_path=str(gguf), gguf_sha256=file_sha256(gguf), file=str(file),
        file_sha256=file_sha256(file), sampled=len(entries), of=len(found["requests"]),
        base=scores["base"], adapter=scores["adapter"], meta=m))
    log.info("training %s: evaluated on %d request(s) of %s: base %s, adapter %s",
             training_id, len(entries), file.name, scores["base"], scores["adapter"])
    return scores


def _fields(line: str) -> dict[str, Any]:
    found = json.loads(line)
    return {"request": found["request"], "plan": found["plan"], "source": found["source"]}
