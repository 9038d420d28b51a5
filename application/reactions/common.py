"""What every reaction is given, and the metadata its events carry."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.core import Reaction
from application.correlator import IncidentDesk
from application.enrichment import Enrichment
from application.ports import Segmenter
from application.segmentation import SegmentationService
from domain.base import AuditedAggregate, EventMeta, event_id

log = logging.getLogger("altlas.policies")


@dataclass(frozen=True)
class Ports:
    """What the reactions need from outside: the segmenters (a model may take seconds), the
    outcomes of a pattern's runs so far (the .atlas view), the correlator, and the triggers
    that follow altlas's events (the triggers view)."""

    segmentation: SegmentationService
    outcomes: Callable[[str], list[tuple[str, str, str | None]]] | None = None
    incidents: IncidentDesk | None = None
    enrichment: Enrichment | None = None
    # an arena contender by its planner name (rules, local:NAME); KeyError when unknown
    contenders: Callable[[str], Segmenter] | None = None
    arena_run_weight: float = 0.5  # what a run's outcome weighs as a match, against a vote
    # starts the training worker of a training (its own process); None: nothing can train
    trainer: Callable[[UUID], None] | None = None
    # the triggers that follow an event kind of altlas (incident-cause, pattern-low): the
    # triggers view; None: no trigger follows events here
    event_triggers: Callable[[str], list[UUID]] | None = None


Event = AuditedAggregate.Event


Handler = Callable[[Any, Reaction, Ports], None]


def meta_of(aggregate: AuditedAggregate, actor: str, cause: Event) -> EventMeta:
    return EventMeta(actor, aggregate.correlation_id,
                     event_id(cause.originator_id, cause.originator_version))
