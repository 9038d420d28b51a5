"""Asking for a training: the training set built from the history and the dev file, kept
where the training worker reads it, then the training requested (an approver decides); and
the scheduled job that asks for one by itself once enough new examples accumulated."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import RecordConflictError

from application import training_data
from application.app import AltlasApplication
from application.core import TRAINER
from application.history import EventHistory
from application.ports import TrainingSets
from application.snapshots import ApprovalView
from domain.training import REQUESTED, RUNNING, Training

log = logging.getLogger("altlas.training")

Labelled = dict[str, Any]  # a labelled file's document (tests/data/segmentation_*.json)


class TrainingRequests:
    def __init__(self, app: AltlasApplication, history: EventHistory, sets: TrainingSets, *,
                 minimum: int) -> None:
        self.app = app
        self.history = history
        self.sets = sets
        self.minimum = minimum

    def dataset(self, dev: Labelled, test: Labelled) -> training_data.Dataset:
        """What an adapter would learn from: successful runs, arena winners and the dev
        file's plans, never a request of the test file."""
        runs, arena = training_data.from_history(self.app, self.history)
        return training_data.build(runs, arena, training_data.labelled(dev),
                                   [r["request"] for r in test.get("requests", ())],
                                   self.app.redactor)

    def request(self, who: str, base: str, hyperparameters: dict[str, Any],
                dataset: training_data.Dataset, training_id: UUID | None = None
                ) -> tuple[ApprovalView, int]:
        """Keep the training set, then ask for the training (the approval it opens, and how
        many examples); a refused request leaves no training set behind."""
        path, sha256 = self.sets.keep(dataset.jsonl())
        try:
            approval = self.app.request_training(
                base, who, dataset=path, dataset_sha256=sha256,
                examples=len(dataset.examples), by_source=dataset.by_source(),
                hyperparameters=hyperparameters, minimum=self.minimum,
                training_id=training_id)
        except BaseException:
            self.sets.discard(path)
            raise
        return approval, len(dataset.examples)


class AutoTraining:
    """Asks for a training by itself (as altlas:trainer; an approver still decides) once
    ``threshold`` new examples — successful runs and arena winners not in the last
    training's set — have accumulated, on the model in charge, unless the last training is
    still waiting or running. Its id follows from the last training's, so two workers that
    notice at once ask once. Looked at by the workers' housekeeping, at most every
    ``interval`` seconds (it reads the whole history)."""

    def __init__(self, requests: TrainingRequests, labelled: Callable[[], tuple[Labelled,
                 Labelled]], *, threshold: int, local_model: str | None,
                 interval: float = 60.0) -> None:
        self._requests = requests
        self._labelled = labelled  # the dev file and the test file, read when looked at
        self._threshold = threshold
        self._local_model = local_model
        self._interval = interval
        self._checked = -interval

    def __call__(self) -> UUID | None:
        now = time.monotonic()
        if now - self._checked < self._interval:
            return None
        self._checked = now
        app = self._requests.app
        last = training_data.last_training(self._requests.history)
        if last is not None and app.load(Training, last[0]).status in (REQUESTED, RUNNING):
            return None
        dataset = self._requests.dataset(*self._labelled())
        grown = _learned(dataset.by_source()) - (_learned(last[1]) if last else 0)
        base = self._in_charge()
        if grown < self._threshold or base is None:
            return None
        ident = uuid5(NAMESPACE_URL, f"urn:altlas:auto-training:{last[0] if last else '-'}")
        try:
            self._requests.request(TRAINER, base, {}, dataset, ident)
        except RecordConflictError:
            return None  # another worker asked for it just now
        log.info("training %s asked for by itself: %d new example(s) since the last one",
                 ident, grown)
        return ident

    def _in_charge(self) -> str | None:
        """The registered model that plans: the activated one, else ALTLAS_LOCAL_MODEL's."""
        registry = self._requests.app.model_registry()
        if registry is None:
            return None
        if registry.active is not None:
            return registry.active
        return self._local_model if self._local_model in registry.models else None


def _learned(by_source: dict[str, int]) -> int:
    """Examples from the history (not the dev file): what grows as altlas is used."""
    return by_source.get("run", 0) + by_source.get("arena", 0)
