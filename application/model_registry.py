"""The model registry as people use it: what is registered and which model plans, a GGUF
file registered from its header, and a change of model asked for (an approval decides it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from application.access import Access
from application.app import AltlasApplication
from application.core import MODELS
from application.errors import NotFoundError
from application.ids import could_be_id, one_id
from application.paths import local_path
from application.ports import ModelFacts, ModelFiles, ReadModels
from application.snapshots import ApprovalView
from domain.errors import InvalidInputError
from domain.models import ModelExistsError, ModelRegistry, UnknownModelError
from domain.training import NotPromotableError, Training


class Models:
    def __init__(self, app: AltlasApplication, files: ModelFiles | None,
                 access: Access, reads: Callable[[], ReadModels]) -> None:
        self.app = app
        self._files = files
        self.access = access
        self._reads = reads

    def catalog(self, who: str | None) -> dict[str, Any]:
        """Every registered model (name order, the active one marked), the active model's
        name, and the activation waiting for its approval, if any."""
        if who is not None:
            self.access.check(who, "read")
        registry = self.app.model_registry()
        if registry is None:
            return {"models": [], "active": None, "adapter": None, "rollback_to": None,
                    "pending": None}
        return {"models": [{**m, "active": m["name"] == registry.active,
                            "registered_by": self.app.privacy.reveal(m["registered_by"])}
                           for _, m in sorted(registry.models.items())],
                "active": registry.active, "adapter": registry.adapter,
                "rollback_to": registry.previous[-1] if registry.previous else None,
                "pending": self._pending(registry)}

    def add(self, who: str, path: str, name: str | None = None) -> dict[str, Any]:
        """Register the GGUF file at ``path`` (ModelRegistered); nothing is recorded when it
        is not one, or is registered already."""
        self.access.check(who, "register_model")
        where = Path(self._files_here().resolve(str(local_path(path))))
        facts = self._files_here().describe(str(where))
        chosen = name if name is not None else _name_of(where)
        self.app.register_model(who, name=chosen, path=str(where), source="added",
                                **_recorded(facts))
        return self.model(None, chosen)

    def model(self, who: str | None, name: str) -> dict[str, Any]:
        """One registered model, as the catalog lists it."""
        models: list[dict[str, Any]] = self.catalog(who)["models"]
        found = next((m for m in models if m["name"] == name), None)
        if found is None:
            raise UnknownModelError(f"no model is registered as {name!r}: `altlas models` "
                                    "lists them", name)
        return found

    def register_packaged(self) -> list[str]:
        """The models installed as packages, registered once (at the first start that finds
        them): the names registered now."""
        registry = self.app.model_registry()
        known = {m["sha256"] for m in registry.models.values()} if registry else set()
        names = set(registry.models) if registry else set()
        added = []
        for name, path, facts in self._files_here().packaged():
            if name in names or facts.sha256 in known:
                continue
            try:
                self.app.register_model(MODELS, name=name, path=path, source="packaged",
                                        **_recorded(facts))
            except ModelExistsError:
                continue  # another process starting at the same moment registered it
            added.append(name)
        return added

    def activate(self, who: str, name: str, reason: str = "") -> ApprovalView:
        """Ask that the local segmenter plan with ``name``: the approval it opens decides."""
        self.access.check(who, "activate_model")
        return self.app.request_model_activation(name, who, reason)

    def promote(self, who: str, ref: str, reason: str = "") -> ApprovalView:
        """Ask that a trained, evaluated adapter (its name, or its training's id) plan on
        its base: refused unless its evaluation beats the base; an approval decides."""
        self.access.check(who, "activate_model")
        return self.app.request_adapter_promotion(self.training_id(ref), who, reason)

    def rollback(self, who: str, reason: str = "") -> ApprovalView:
        """Ask to go back to what planned before the last activation or promotion."""
        self.access.check(who, "activate_model")
        return self.app.request_model_rollback(who, reason)

    def adapter(self, name: str) -> Training | None:
        """The evaluated adapter called ``name`` (BASE+lora-ID8): it may plan in the arena
        before it is promoted. None for any other name."""
        if "+lora-" not in name:
            return None
        try:
            training = self.app.load(Training, self.training_id(name))
        except NotFoundError:
            return None
        ok = training.adapter_name == name and training.evaluation is not None
        return training if ok else None

    def training_id(self, ref: str) -> UUID:
        """A training by its id, a beginning of it (6 characters or more), or its adapter's
        name (BASE+lora-ID8)."""
        text = ref.strip().lower()
        text = text.rsplit("+lora-", 1)[1] if "+lora-" in text else text
        found = [(k, i) for k, i in self._reads().resolve(text) if k == "training"] if (
            could_be_id(text)) else []
        if not found:
            raise NotFoundError(f"no training or adapter is {ref.strip()}", ref, "training")
        return one_id(text, found, "training")

    def training(self, who: str | None, ref: str) -> dict[str, Any]:
        """A training (its id, a beginning of 6 characters or more, or its adapter's name):
        status, progress, the loss so far, its adapter once trained, and how it compared
        with its base when evaluated."""
        if who is not None:
            self.access.check(who, "read")
        ident = self.training_id(ref)
        events = list(self.app.events.get(ident))
        training = self.app.load(Training, ident)
        progress = [e for e in events if isinstance(e, Training.Progressed)]
        done = next((e for e in events if isinstance(e, Training.AdapterTrained)), None)
        ended = next((e for e in events if isinstance(e, Training.Failed | Training.Withdrawn)),
                     None)
        why_not = _verdict(training)
        return {
            "id": str(training.id), "status": training.status, "base": training.base,
            "examples": training.examples, "by_source": training.by_source,
            "hyperparameters": training.hyperparameters,
            "requester": self.app.privacy.reveal(training.requester),
            "approval_id": str(training.approval_id), "worker": training.worker,
            "progress": [{"step": p.step, "steps": p.steps, "loss": p.loss,
                          "tokens_per_s": p.tokens_per_s, "eta_s": p.eta_s,
                          "at": p.timestamp.isoformat()} for p in progress],
            "adapter": None if done is None else {
                "name": done.adapter, "path": done.path, "sha256": done.sha256,
                "steps": done.steps, "duration_ms": done.duration_ms,
                "loss_curve": list(done.loss_curve)},
            "evaluation": training.evaluation,
            "promotable": why_not is None, "why_not": why_not,
            "reason": getattr(ended, "reason", None)}

    def _files_here(self) -> ModelFiles:
        if self._files is None:
            raise InvalidInputError("model files cannot be read by this front; use "
                                    "`altlas models add` on the altlas host")
        return self._files

    def _pending(self, registry: ModelRegistry) -> dict[str, Any] | None:
        if registry.pending is None:
            return None
        return {**registry.pending, "requester": self.app.privacy.reveal(
            registry.pending["requester"])}




def _verdict(training: Training) -> str | None:
    """None when the adapter may be promoted, else why not."""
    try:
        training.promotable()
    except NotPromotableError as e:
        return str(e)
    return None


def _name_of(path: Path) -> str:
    """A registry name from a file name: lowercase, other characters as '-'."""
    name = re.sub(r"[^a-z0-9._-]+", "-", path.stem.lower()).strip("-._")[:64]
    return name or "model"


def _recorded(facts: ModelFacts) -> dict[str, Any]:
    return {"sha256": facts.sha256, "size": facts.size, "architecture": facts.architecture,
            "parameters": facts.parameters, "quantization": facts.quantization,
            "context_length": facts.context_length, "chat_template": facts.chat_template,
            "tokenizer": facts.tokenizer}
