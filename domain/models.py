"""The models altlas plans with: every GGUF file registered once, under its own name and
sha256, with what its header says; which one the local segmenter uses changes only when an
approval allows it, so nobody puts a model in charge without someone else's vote.

One registry for the installation: its id is fixed, so every process finds the same one.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import AuditedAggregate, EventMeta, is_person
from domain.errors import ConflictError, InvalidInputError

REGISTRY_ID = uuid5(NAMESPACE_URL, "urn:altlas:models")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SOURCES = ("packaged", "added")
MAX_REASON_CHARS = 500
ACTIVATE, PROMOTE, ROLLBACK = "activate", "promote", "rollback"
NOTHING_TO_ROLL_BACK = ("nothing to roll back: no model was activated or adapter promoted yet; "
                        "`altlas models list` shows what plans")


class ModelRegistry(AuditedAggregate):
    class Opened(AuditedAggregate.Created):
        type_name = "ModelRegistryOpened"

    class Registered(AuditedAggregate.Event):
        """A GGUF file, as its header describes it; ``parameters`` counts every tensor's
        elements, ``quantization`` is the header's file type."""

        type_name = "ModelRegistered"
        name: str
        path: str
        sha256: str
        size: int
        architecture: str
        parameters: int
        quantization: str
        context_length: int
        chat_template: str | None
        tokenizer: dict[str, Any]  # model, pre, vocabulary size
        source: str

        def apply(self, registry: ModelRegistry) -> None:
            registry.models[self.name] = {
                "name": self.name, "path": self.path, "sha256": self.sha256, "size": self.size,
                "architecture": self.architecture, "parameters": self.parameters,
                "quantization": self.quantization, "context_length": self.context_length,
                "chat_template": self.chat_template, "tokenizer": dict(self.tokenizer),
                "source": self.source, "registered_by": self.actor}

    class ActivationRequested(AuditedAggregate.Event):
        """Someone asked that the local segmenter plan with ``model``; ``approval_id`` must be
        granted first."""

        type_name = "ModelActivationRequested"
        model: str
        requester: str
        reason: str
        approval_id: UUID

        def apply(self, registry: ModelRegistry) -> None:
            registry.pending = {"action": ACTIVATE, "model": self.model,
                                "approval_id": str(self.approval_id),
                                "requester": self.requester}

    class Activated(AuditedAggregate.Event):
        type_name = "ModelActivated"
        model: str
        sha256: str
        approval_id: UUID

        def apply(self, registry: ModelRegistry) -> None:
            registry.previous.append(registry.in_use())
            registry.active = self.model
            registry.adapter = None  # an adapter belongs to its base
            registry.pending = None

    class PromotionRequested(AuditedAggregate.Event):
        """Someone asked that the local segmenter plan with ``base`` and this LoRA adapter
        (the GGUF file its evaluation measured); ``approval_id`` must be granted first."""

        type_name = "AdapterPromotionRequested"
        adapter: str
        base: str
        path: str
        sha256: str
        training_id: UUID
        requester: str
        reason: str
        approval_id: UUID

        def apply(self, registry: ModelRegistry) -> None:
            registry.pending = {"action": PROMOTE, "model": self.adapter, "base": self.base,
                                "path": self.path, "sha256": self.sha256,
                                "training_id": str(self.training_id),
                                "approval_id": str(self.approval_id),
                                "requester": self.requester}

    class Promoted(AuditedAggregate.Event):
        type_name = "AdapterPromoted"
        adapter: str
        base: str
        path: str
        sha256: str
        training_id: UUID
        approval_id: UUID

        def apply(self, registry: ModelRegistry) -> None:
            registry.previous.append(registry.in_use())
            registry.active = self.base
            registry.adapter = {"name": self.adapter, "base": self.base, "path": self.path,
                                "sha256": self.sha256, "training_id": str(self.training_id)}
            registry.pending = None

    class RollbackRequested(AuditedAggregate.Event):
        """Someone asked to go back to what planned before the last change (``model`` with
        ``adapter``, or the settings' model when ``model`` is None)."""

        type_name = "ModelRollbackRequested"
        model: str | None
        adapter: str | None
        requester: str
        reason: str
        approval_id: UUID

        def apply(self, registry: ModelRegistry) -> None:
            registry.pending = {"action": ROLLBACK, "model": _said(self.model, self.adapter),
                                "approval_id": str(self.approval_id),
                                "requester": self.requester}

    class RolledBack(AuditedAggregate.Event):
        type_name = "ModelRolledBack"
        model: str | None
        adapter: str | None
        approval_id: UUID

        def apply(self, registry: ModelRegistry) -> None:
            state = registry.previous.pop()
            registry.active, registry.adapter = state["model"], state["adapter"]
            registry.pending = None

    class ActivationWithdrawn(AuditedAggregate.Event):
        """The approval of a change (an activation, a promotion or a rollback; ``model`` names
        what it would have put in charge) was denied, expired or cancelled: what plans
        stays."""

        type_name = "ModelActivationWithdrawn"
        model: str
        reason: str

        def apply(self, registry: ModelRegistry) -> None:
            registry.pending = None

    def __init__(self, correlation_id: str) -> None:
        self.correlation_id = correlation_id
        self.models: dict[str, dict[str, Any]] = {}
        self.active: str | None = None
        self.adapter: dict[str, str] | None = None  # the promoted adapter on the active model
        self.previous: list[dict[str, Any]] = []  # what planned before each change
        self.pending: dict[str, str] | None = None

    def in_use(self) -> dict[str, Any]:
        return {"model": self.active,
                "adapter": None if self.adapter is None else dict(self.adapter)}

    @classmethod
    def open(cls, meta: EventMeta) -> ModelRegistry:
        return cls._create_audited(cls.Opened, meta, id=REGISTRY_ID)

    def register(self, meta: EventMeta, *, name: str, path: str, sha256: str, size: int,
                 architecture: str, parameters: int, quantization: str, context_length: int,
                 chat_template: str | None, tokenizer: dict[str, Any], source: str) -> None:
        if not NAME.match(name):
            raise InvalidInputError(f"model name {name!r}: use 1-64 lowercase letters, digits, "
                                    "'.', '_' or '-', starting with a letter or digit")
        if not SHA256.match(sha256):
            raise InvalidInputError(f"sha256 {sha256!r} is not 64 lowercase hex digits")
        if source not in SOURCES:
            raise InvalidInputError(f"source {source!r}: one of {', '.join(SOURCES)}")
        if name in self.models:
            raise ModelExistsError(f"a model named {name} is registered already "
                                   f"({self.models[name]['path']}); choose another --name")
        same = next((m for m in self.models.values() if m["sha256"] == sha256), None)
        if same is not None:
            raise ModelExistsError(f"this file (sha256 {sha256[:12]}…) is registered already "
                                   f"as {same['name']}")
        if parameters < 1 or context_length < 1 or size < 1:
            raise InvalidInputError("a model has parameters, a context length and a size")
        self._trigger(self.Registered, meta, name=name, path=path, sha256=sha256, size=size,
                      architecture=architecture, parameters=parameters,
                      quantization=quantization, context_length=context_length,
                      chat_template=chat_template, tokenizer=dict(tokenizer), source=source)

    def request_activation(self, model: str, requester: str, reason: str, approval_id: UUID,
                           meta: EventMeta) -> None:
        self.model(model)
        if self.active == model and self.adapter is None:
            raise ConflictError(f"{model} is the model in use already")
        self._may_ask(reason)
        self._trigger(self.ActivationRequested, meta, model=model, requester=requester,
                      reason=reason, approval_id=approval_id)

    def request_promotion(self, *, adapter: str, base: str, path: str, sha256: str,
                          training_id: UUID, requester: str, reason: str, approval_id: UUID,
                          meta: EventMeta) -> None:
        """Ask that ``base`` plan with this adapter; whether the adapter beats its base is
        the training's to say (Training.promotable), before this is asked."""
        self.model(base)
        if not SHA256.match(sha256):
            raise InvalidInputError(f"sha256 {sha256!r} is not 64 lowercase hex digits")
        if self.adapter is not None and self.adapter["name"] == adapter:
            raise ConflictError(f"{adapter} plans already")
        self._may_ask(reason)
        self._trigger(self.PromotionRequested, meta, adapter=adapter, base=base, path=path,
                      sha256=sha256, training_id=training_id, requester=requester,
                      reason=reason, approval_id=approval_id)

    def request_rollback(self, requester: str, reason: str, approval_id: UUID,
                         meta: EventMeta) -> None:
        """Ask to go back to what planned before the last activation or promotion."""
        if not self.previous:
            raise ConflictError(NOTHING_TO_ROLL_BACK)
        self._may_ask(reason)
        state = self.previous[-1]
        self._trigger(self.RollbackRequested, meta, model=state["model"],
                      adapter=state["adapter"]["name"] if state["adapter"] else None,
                      requester=requester, reason=reason, approval_id=approval_id)

    def activate(self, approval_id: UUID, meta: EventMeta) -> None:
        """The approval was granted: the change waiting for it happens (ModelActivated,
        AdapterPromoted or ModelRolledBack)."""
        model = self._pending_for(approval_id)
        assert self.pending is not None
        action = self.pending.get("action", ACTIVATE)
        if action == PROMOTE:
            p = self.pending
            self._trigger(self.Promoted, meta, adapter=model, base=p["base"], path=p["path"],
                          sha256=p["sha256"], training_id=UUID(p["training_id"]),
                          approval_id=approval_id)
        elif action == ROLLBACK:
            state = self.previous[-1]
            self._trigger(self.RolledBack, meta, model=state["model"],
                          adapter=state["adapter"]["name"] if state["adapter"] else None,
                          approval_id=approval_id)
        else:
            self._trigger(self.Activated, meta, model=model,
                          sha256=self.models[model]["sha256"], approval_id=approval_id)

    def _may_ask(self, reason: str) -> None:
        if self.pending is not None:
            raise ActivationPendingError(
                f"a change to {self.pending['model']} already waits for approval "
                f"{self.pending['approval_id']}; vote on that one, or let it expire")
        if len(reason) > MAX_REASON_CHARS:
            raise InvalidInputError(f"the reason has {len(reason)} characters; at most "
                                    f"{MAX_REASON_CHARS}")

    def withdraw(self, approval_id: UUID, reason: str, meta: EventMeta) -> None:
        model = self._pending_for(approval_id)
        self._trigger(self.ActivationWithdrawn, meta, model=model, reason=reason)

    def makers(self, name: str | None) -> frozenset[str]:
        """Who chose the file of the model ``name``: whoever registered it, when a person
        (altlas registers the packaged ones). They may not grant putting it in charge."""
        model = self.models.get(name) if name is not None else None
        maker = model["registered_by"] if model is not None else None
        return frozenset({maker}) if maker is not None and is_person(maker) else frozenset()

    def model(self, name: str) -> dict[str, Any]:
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models)) or "none yet"
            raise UnknownModelError(f"no model is registered as {name!r} (registered: "
                                    f"{known}); `altlas models add PATH` registers one",
                                    name) from None

    def _pending_for(self, approval_id: UUID) -> str:
        if self.pending is None or self.pending["approval_id"] != str(approval_id):
            raise ConflictError(f"no activation waits for approval {approval_id}")
        return self.pending["model"]


def _said(model: str | None, adapter: str | None) -> str:
    """What a rollback goes back to, in words."""
    return adapter or model or "the settings' model"


class ModelExistsError(ConflictError):
    """The name or the file is registered already."""


class ActivationPendingError(ConflictError):
    """Another activation waits for its approval."""


class UnknownModelError(InvalidInputError):
    """No model is registered under that name."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name
