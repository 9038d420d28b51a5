"""A training: a LoRA adapter trained on a registered model from a training set, once an
approval allows it, in a worker process of its own. Its life: requested → running (progress
at most every few seconds, which is also how it is known to be alive) → trained, or failed
(the worker said why, or stopped beating); withdrawn when the approval was not granted.

Nothing is registered until AdapterTrained: it names the adapter's files and their sha256,
written whole before the event is recorded.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.base import AuditedAggregate, EventMeta
from domain.errors import ConflictError, InvalidInputError
from domain.hyperparameters import HYPERPARAMETERS

REQUESTED, RUNNING, TRAINED, FAILED, WITHDRAWN = (
    "requested", "running", "trained", "failed", "withdrawn")
OUTCOMES = ("exact", "asked", "refused", "wrong")
MAX_CURVE = 500  # points of the loss curve kept on AdapterTrained


class Training(AuditedAggregate):
    class Requested(AuditedAggregate.Created):
        type_name = "TrainingRequested"
        base: str  # a registered model's name
        base_sha256: str
        dataset: str  # the training set's file
        dataset_sha256: str
        examples: int
        by_source: dict[str, int]
        hyperparameters: dict[str, Any]
        requester: str
        approval_id: UUID

    class Started(AuditedAggregate.Event):
        type_name = "TrainingStarted"
        worker: str  # host:pid of the training process

        def apply(self, training: Training) -> None:
            training.status = RUNNING
            training.worker = self.worker
            training.beat = self.timestamp

    class Progressed(AuditedAggregate.Event):
        type_name = "TrainingProgressed"
        step: int
        steps: int
        loss: float
        tokens_per_s: float
        eta_s: float

        def apply(self, training: Training) -> None:
            training.beat = self.timestamp
            training.step = self.step

    class AdapterTrained(AuditedAggregate.Event):
        type_name = "AdapterTrained"
        adapter: str  # its name: <base>+lora-<first 8 of the training id>
        path: str
        sha256: str  # of adapter_model.safetensors
        steps: int
        duration_ms: int
        loss_curve: list[float]

        def apply(self, training: Training) -> None:
            training.status = TRAINED

    class Evaluated(AuditedAggregate.Event):
        """The adapter (as the GGUF file llama.cpp applies) and its base planned the same
        requests of a labelled file in the same run; ``base`` and ``adapter`` count exact,
        asked, refused, wrong and ok plans, with the mean seconds per request."""

        type_name = "AdapterEvaluated"
        adapter: str
        gguf_path: str
        gguf_sha256: str
        file: str
        file_sha256: str
        sampled: int  # requests measured; all of the file's unless a sample was asked for
        of: int  # requests in the file
        base: dict[str, Any]
        adapter_scores: dict[str, Any]

        def apply(self, training: Training) -> None:
            training.evaluation = {
                "adapter": self.adapter, "gguf_path": self.gguf_path,
                "gguf_sha256": self.gguf_sha256, "file": self.file,
                "file_sha256": self.file_sha256, "sampled": self.sampled, "of": self.of,
                "base": dict(self.base), "adapter_scores": dict(self.adapter_scores),
                "at": self.timestamp.isoformat()}

    class Failed(AuditedAggregate.Event):
        type_name = "TrainingFailed"
        reason: str

        def apply(self, training: Training) -> None:
            training.status = FAILED

    class Withdrawn(AuditedAggregate.Event):
        type_name = "TrainingWithdrawn"
        reason: str

        def apply(self, training: Training) -> None:
            training.status = WITHDRAWN

    def __init__(self, base: str, base_sha256: str, dataset: str, dataset_sha256: str,
                 examples: int, by_source: dict[str, int], hyperparameters: dict[str, Any],
                 requester: str, approval_id: UUID, correlation_id: str) -> None:
        self.base, self.base_sha256 = base, base_sha256
        self.dataset, self.dataset_sha256 = dataset, dataset_sha256
        self.examples = examples
        self.by_source = dict(by_source)
        self.hyperparameters = dict(hyperparameters)
        self.requester = requester
        self.approval_id = approval_id
        self.correlation_id = correlation_id
        self.status = REQUESTED
        self.worker: str | None = None
        self.beat: Any = None  # when the worker last said it was alive
        self.step = 0
        self.evaluation: dict[str, Any] | None = None  # the latest

    @property
    def adapter_name(self) -> str:
        return f"{self.base}+lora-{str(self.id)[:8]}"

    @classmethod
    def request(cls, training_id: UUID, *, base: str, base_sha256: str, dataset: str,
                dataset_sha256: str, examples: int, by_source: dict[str, int],
                hyperparameters: dict[str, Any], requester: str, approval_id: UUID,
                minimum: int, meta: EventMeta) -> Training:
        if examples < minimum:
            raise DatasetTooSmallError(
                f"the training set has {examples} example(s); training needs at least "
                f"{minimum} ({minimum - examples} more): successful runs, arena winners and "
                "the dev file add them", examples, minimum)
        unknown = set(hyperparameters) - set(HYPERPARAMETERS)
        if unknown:
            raise InvalidInputError(f"unknown hyperparameter(s) {', '.join(sorted(unknown))}: "
                                    f"use {', '.join(HYPERPARAMETERS)}")
        chosen = {**HYPERPARAMETERS, **hyperparameters}
        _check(chosen)
        return cls._create_audited(
            cls.Requested, meta, id=training_id, base=base, base_sha256=base_sha256,
            dataset=dataset, dataset_sha256=dataset_sha256, examples=examples,
            by_source=dict(by_source), hyperparameters=chosen, requester=requester,
            approval_id=approval_id)

    def start(self, worker: str, meta: EventMeta) -> None:
        if self.status != REQUESTED:
            raise ConflictError(f"training {self.id} is {self.status}; it starts once")
        self._trigger(self.Started, meta, worker=worker)

    def progress(self, step: int, steps: int, loss: float, tokens_per_s: float, eta_s: float,
                 meta: EventMeta) -> None:
        self._running()
        self._trigger(self.Progressed, meta, step=step, steps=steps, loss=float(loss),
                      tokens_per_s=float(tokens_per_s), eta_s=float(eta_s))

    def trained(self, path: str, sha256: str, steps: int, duration_ms: int,
                loss_curve: list[float], meta: EventMeta) -> None:
        self._running()
        curve = [float(x) for x in loss_curve]
        if len(curve) > MAX_CURVE:  # evenly thinned, the last point kept
            stride = len(curve) / MAX_CURVE
            curve = [curve[int(i * stride)] for i in range(MAX_CURVE - 1)] + [curve[-1]]
        self._trigger(self.AdapterTrained, meta, adapter=self.adapter_name, path=path,
                      sha256=sha256, steps=steps, duration_ms=duration_ms, loss_curve=curve)

    def evaluated(self, *, gguf_path: str, gguf_sha256: str, file: str, file_sha256: str,
                  sampled: int, of: int, base: dict[str, Any], adapter: dict[str, Any],
                  meta: EventMeta) -> None:
        if self.status != TRAINED:
            raise ConflictError(f"training {self.id} is {self.status}: only a trained "
                                "adapter is evaluated")
        for name, scores in (("base", base), ("adapter", adapter)):
            missing = {*OUTCOMES, "ok", "requests", "seconds_per_request"} - set(scores)
            if missing or scores["requests"] != sampled:
                raise InvalidInputError(f"the {name}'s scores must count {sampled} requests "
                                        f"as {', '.join(OUTCOMES)}, ok and seconds")
        self._trigger(self.Evaluated, meta, adapter=self.adapter_name, gguf_path=gguf_path,
                      gguf_sha256=gguf_sha256, file=file, file_sha256=file_sha256,
                      sampled=sampled, of=of, base=dict(base), adapter_scores=dict(adapter))

    def promotable(self) -> dict[str, Any]:
        """The latest evaluation, when it lets the adapter replace its base: more exact
        plans and no more wrong ones on the same requests. Otherwise why not."""
        if self.status != TRAINED:
            raise NotPromotableError(f"{self.adapter_name} is {self.status}, not trained")
        if self.evaluation is None:
            raise NotPromotableError(f"{self.adapter_name} has not been evaluated: `altlas "
                                     f"models evaluate {str(self.id)[:8]}` measures it")
        why = worse(self.evaluation["base"], self.evaluation["adapter_scores"])
        if why is not None:
            raise NotPromotableError(f"{self.adapter_name} cannot replace {self.base}: {why}")
        return self.evaluation

    def fail(self, reason: str, meta: EventMeta) -> None:
        if self.status not in (REQUESTED, RUNNING):
            raise ConflictError(f"training {self.id} is {self.status} already")
        self._trigger(self.Failed, meta, reason=reason[:500])

    def withdraw(self, reason: str, meta: EventMeta) -> None:
        if self.status != REQUESTED:
            raise ConflictError(f"training {self.id} is {self.status}")
        self._trigger(self.Withdrawn, meta, reason=reason[:500])

    def _running(self) -> None:
        if self.status != RUNNING:
            raise ConflictError(f"training {self.id} is {self.status}, not running")


def worse(base: dict[str, Any], adapter: dict[str, Any]) -> str | None:
    """None when the adapter made more exact plans than its base and no more wrong ones;
    else why it may not replace it."""
    if adapter["exact"] <= base["exact"]:
        return (f"it made {adapter['exact']} exact plan(s) of {adapter['requests']}, its base "
                f"{base['exact']}; it must make more")
    if adapter["wrong"] > base["wrong"]:
        return (f"it made {adapter['wrong']} wrong plan(s), its base {base['wrong']}; it may "
                "not make more")
    return None


def _check(h: dict[str, Any]) -> None:
    rules = {"rank": (1, 256), "alpha": (1, 1024), "dropout": (0.0, 0.9), "lr": (1e-7, 1.0),
             "epochs": (1, 100), "max_steps": (0, 1_000_000)}
    for name, (low, high) in rules.items():
        value = h[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                low <= value <= high):
            raise InvalidInputError(f"hyperparameter {name} is {value!r}: it is a number from "
                                    f"{low:g} to {high:g}")


class DatasetTooSmallError(InvalidInputError):
    def __init__(self, message: str, examples: int, minimum: int) -> None:
        super().__init__(message)
        self.examples, self.minimum = examples, minimum


class NotPromotableError(ConflictError):
    """The adapter is not trained, not evaluated, or not better than its base."""
