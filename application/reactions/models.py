"""Reactions of the model registry and trainings: what an approval lets happen."""

from __future__ import annotations

from uuid import UUID

from application.core import MODELS, TRAINER, Reaction
from application.reactions.common import Event, Ports, meta_of
from domain.approval import Approval
from domain.models import PROMOTE, REGISTRY_ID, ModelRegistry
from domain.training import NotPromotableError, Training


def settle_training(event: Event, approval: Approval, r: Reaction, ports: Ports) -> None:
    """Granted: the training worker starts, in a process of its own (it records
    TrainingStarted itself, once: a second start finds it started and leaves). Otherwise
    the training is withdrawn."""
    training = r.get(Training, approval.task_id)
    if training.status != "requested":
        return
    if not isinstance(event, Approval.Granted):
        training.withdraw(approval.decision_reason or approval.status,
                          meta_of(training, TRAINER, event))
    elif ports.trainer is None:
        training.fail("no training worker can start here: install altlas[train]",
                      meta_of(training, TRAINER, event))
    else:
        ports.trainer(training.id)


def settle_activation(event: Event, approval: Approval, r: Reaction) -> None:
    """Granted: the model, the adapter, or what planned before, plans from now on
    (ModelActivated, AdapterPromoted, ModelRolledBack). An adapter is promoted only if its
    latest evaluation still beats its base. Otherwise the request is withdrawn and what plans
    stays."""
    registry = r.get(ModelRegistry, REGISTRY_ID)
    pending = registry.pending
    if pending is None or pending["approval_id"] != str(approval.id):
        return
    meta = meta_of(registry, MODELS, event)
    reason = approval.decision_reason or approval.status
    if isinstance(event, Approval.Granted) and pending.get("action") == PROMOTE:
        try:
            r.get(Training, UUID(pending["training_id"])).promotable()
        except NotPromotableError as e:
            registry.withdraw(approval.id, str(e), meta)
            return
    if isinstance(event, Approval.Granted):
        registry.activate(approval.id, meta)
    else:
        registry.withdraw(approval.id, reason, meta)
