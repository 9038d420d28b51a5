"""The models altlas plans with: every GGUF file registered once, under its own name and
sha256, with what its header says; which one the local segmenter uses changes only when an
approval allows it, so nobody puts a model in charge without someone else's vote.

One registry for the installation: its id is fixed, so every process finds the same one.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import AuditedAggregate, EventMeta
from domain.errors import ConflictError, InvalidInputError

REGISTRY_ID = uuid5(NAMESPACE_URL, "urn:altlas:models")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
SOURCES = ("packaged", "added")
MAX_REASON_CHARS = 500


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
            registry.pending = {"model": self.model, "approval_id": str(self.approval_id),
                                "requester": self.requester}

    class Activated(AuditedAggregate.Event):
        type_name = "ModelActivated"
        model: str
        sha256: str
        approval_id: UUID

        def apply(self, registry: ModelRegistry) -> None:
            registry.active = self.model
            registry.pending = None

    class ActivationWithdrawn(AuditedAggregate.Event):
        """The approval was denied, expired or cancelled: the model in use stays."""

        type_name = "ModelActivationWithdrawn"
        model: str
        reason: str

        def apply(self, registry: ModelRegistry) -> None:
            registry.pending = None

    def __init__(self, correlation_id: str) -> None:
        self.correlation_id = correlation_id
        self.models: dict[str, dict[str, Any]] = {}
        self.active: str | None = None
        self.pending: dict[str, str] | None = None

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
        if self.active == model:
            raise ConflictError(f"{model} is the model in use already")
        if self.pending is not None:
            raise ActivationPendingError(
                f"activating {self.pending['model']} already waits for approval "
                f"{self.pending['approval_id']}; vote on that one, or let it expire")
        if len(reason) > MAX_REASON_CHARS:
            raise InvalidInputError(f"the reason has {len(reason)} characters; at most "
                                    f"{MAX_REASON_CHARS}")
        self._trigger(self.ActivationRequested, meta, model=model, requester=requester,
                      reason=reason, approval_id=approval_id)

    def activate(self, approval_id: UUID, meta: EventMeta) -> None:
        """The approval was granted: the pending model plans from now on."""
        model = self._pending_for(approval_id)
        self._trigger(self.Activated, meta, model=model, sha256=self.models[model]["sha256"],
                      approval_id=approval_id)

    def withdraw(self, approval_id: UUID, reason: str, meta: EventMeta) -> None:
        model = self._pending_for(approval_id)
        self._trigger(self.ActivationWithdrawn, meta, model=model, reason=reason)

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


class ModelExistsError(ConflictError):
    """The name or the file is registered already."""


class ActivationPendingError(ConflictError):
    """Another activation waits for its approval."""


class UnknownModelError(InvalidInputError):
    """No model is registered under that name."""

    def __init__(self, message: str, name: str) -> None:
        super().__init__(message)
        self.name = name
