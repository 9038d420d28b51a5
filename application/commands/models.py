"""Commands of the model registry and trainings: register, activate, promote, roll back, train."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from application.core import AppCore
from application.errors import (
    NotFoundError,
)
from application.snapshots import ApprovalView
from domain.approval import Approval, ApprovalSubject
from domain.base import EventMeta
from domain.errors import ConflictError
from domain.models import NOTHING_TO_ROLL_BACK, REGISTRY_ID, ModelRegistry, UnknownModelError
from domain.training import Training


class ModelCommands(AppCore):
    def register_model(self, actor: str, **model: Any) -> None:
        """Record a GGUF file in the registry (ModelRegistered); the registry opens with its
        first model."""
        def command() -> None:
            meta = EventMeta.for_command(self.privacy.pseudonym(actor))
            try:
                registry = self._cached(ModelRegistry, REGISTRY_ID)
            except NotFoundError:
                registry = ModelRegistry.open(meta)
            try:
                registry.register(meta, **model)
                self.save(registry)
            except BaseException:
                self._forget(REGISTRY_ID)
                raise

        with self._turn(REGISTRY_ID), self._revealing():
            self._retrying(command)

    def request_model_activation(self, model: str, requester: str, reason: str = ""
                                 ) -> ApprovalView:
        """Ask that the local segmenter plan with ``model``: once someone else grants the
        approval this opens, the reactions record ModelActivated."""
        return self._registry_change(
            requester, reason, f"plan with {model}", "activate",
            lambda registry: registry.makers(model),
            lambda registry, who, text, approval, meta: registry.request_activation(
                model, who, text, approval, meta), missing=model)

    def request_adapter_promotion(self, training_id: UUID, requester: str, reason: str = ""
                                  ) -> ApprovalView:
        """Ask that the adapter of ``training_id`` plan on its base: refused unless its
        latest evaluation beats the base; whoever asked for the training may not approve
        it, nor whoever registered its base. Once granted, the reactions record
        AdapterPromoted."""
        training = self.load(Training, training_id)
        measured = training.promotable()
        return self._registry_change(
            requester, reason, f"plan with the adapter {training.adapter_name}", "promote",
            lambda registry: registry.makers(training.base) | {training.requester},
            lambda registry, who, text, approval, meta: registry.request_promotion(
                adapter=training.adapter_name, base=training.base,
                path=measured["gguf_path"], sha256=measured["gguf_sha256"],
                training_id=training.id, requester=who, reason=text, approval_id=approval,
                meta=meta), missing=training.base)

    def request_model_rollback(self, requester: str, reason: str = "") -> ApprovalView:
        """Ask to go back to what planned before the last activation or promotion; once
        granted, the reactions record ModelRolledBack."""
        return self._registry_change(
            requester, reason, "roll back the model that plans", "rollback", self._makers_before,
            lambda registry, who, text, approval, meta: registry.request_rollback(
                who, text, approval, meta), missing=None)

    def _makers_before(self, registry: ModelRegistry) -> frozenset[str]:
        """Who chose what a rollback goes back to: its model's registrant, and whoever
        asked for its adapter's training."""
        if not registry.previous:
            return frozenset()  # nothing to roll back: the registry refuses it
        state = registry.previous[-1]
        adapter = state["adapter"]
        trainer = frozenset() if adapter is None else frozenset(
            {self.load(Training, UUID(adapter["training_id"])).requester})
        return registry.makers(state["model"]) | trainer

    def _registry_change(self, requester: str, reason: str, what: str, step: str,
                         makers: Callable[[ModelRegistry], frozenset[str]],
                         ask: Callable[[ModelRegistry, str, str, UUID, EventMeta], None], *,
                         missing: str | None) -> ApprovalView:
        """A change of what plans, asked for: an approval by an approver or admin other than
        who asks and than ``makers`` (pseudonyms: who registered the model it puts in
        charge, who asked for its adapter's training, as the arena excludes them) decides
        it."""
        who = self.privacy.pseudonym(requester)
        text = " ".join(reason.split())

        def command() -> Approval:
            try:
                registry = self._cached(ModelRegistry, REGISTRY_ID)
            except NotFoundError:
                if missing is None:  # a rollback: nothing was ever registered
                    raise ConflictError(NOTHING_TO_ROLL_BACK) from None
                raise UnknownModelError(f"no model is registered as {missing!r}: `altlas "
                                        "models add PATH` registers one", missing) from None
            meta = EventMeta(who, registry.correlation_id, str(uuid4()))
            approval = self._installation_approval(
                ApprovalSubject.REGISTRY, REGISTRY_ID, step, "models", who,
                excluded=makers(registry),  # they chose what would plan
                reason=what + (f": {text}" if text else ""), meta=meta,
                refusal="changing the model needs an approver or an admin other than who "
                        "asks, who registered the model and who asked for its training; "
                        "add one to the policy")
            try:
                ask(registry, who, text, approval.id, meta)
                self.save(registry, approval)
            except BaseException:
                self._forget(REGISTRY_ID)
                raise
            return approval

        with self._turn(REGISTRY_ID), self._revealing():
            return self._shown(ApprovalView.of(self._retrying(command)))

    def request_training(self, base: str, requester: str, *, dataset: str,
                         dataset_sha256: str, examples: int, by_source: dict[str, int],
                         hyperparameters: dict[str, Any], minimum: int,
                         training_id: UUID | None = None) -> ApprovalView:
        """Ask to train a LoRA adapter on ``base`` (TrainingRequested): once someone else
        grants the approval this opens, the reactions start the training worker."""
        who = self.privacy.pseudonym(requester)
        registry = self.model_registry()
        if registry is None:
            raise UnknownModelError(f"no model is registered as {base!r}: `altlas models add "
                                    "PATH` registers one", base)
        model = registry.model(base)
        training_id = training_id or uuid4()
        meta = EventMeta.for_command(who)
        approval = self._installation_approval(
            ApprovalSubject.TRAINING, training_id, "train", "models", who,
            excluded=frozenset(),
            reason=f"train a LoRA adapter on {base} from {examples} example(s)", meta=meta,
            refusal="training needs an approver or an admin other than who asks; add one to "
                    "the policy")
        training = Training.request(
            training_id, base=base, base_sha256=model["sha256"], dataset=dataset,
            dataset_sha256=dataset_sha256, examples=examples, by_source=by_source,
            hyperparameters=hyperparameters, requester=who, approval_id=approval.id,
            minimum=minimum, meta=EventMeta(who, str(training_id), meta.causation_id))
        self.save(training, approval)
        return self._shown(ApprovalView.of(approval))

    def change_training(self, training_id: UUID, actor: str,
                        change: Callable[[Training, EventMeta], None]) -> Training:
        return self._change(Training, training_id, actor, change)

    def model_registry(self) -> ModelRegistry | None:
        """The registry as recorded now; None before its first model."""
        try:
            return self.load(ModelRegistry, REGISTRY_ID)
        except NotFoundError:
            return None
