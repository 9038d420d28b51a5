"""The altlas application: one method per command, ids and primitives in and out.

One eventsourcing Application holds every area's aggregates, so that there is one store, one
notification log and one hash-chained order of events for the audit and the relay; each
area's commands live in a module of their own (application/commands/), combined here. It also
reacts to its own events (application/reactions/): a reaction's new events and the position of
the event it reacted to are recorded in one transaction, by the event store's process recorder
and its tracking records, so each event is reacted to once, whichever process gets there first.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking

from application.commands.alerts import AlertCommands
from application.commands.approvals import ApprovalCommands
from application.commands.arena import ArenaCommands
from application.commands.knowledge import KnowledgeCommands
from application.commands.models import ModelCommands
from application.commands.policy import PolicyCommands
from application.commands.privacy import PrivacyCommands
from application.commands.runs import RunCommands
from application.commands.sessions import SessionCommands
from application.commands.tasks import TaskCommands
from application.commands.triggers import TriggerCommands
from application.commands.voice import VoiceCommands
from application.core import Reaction, collect_effects


class AltlasApplication(TriggerCommands, TaskCommands, RunCommands, ApprovalCommands,
                        PrivacyCommands, ModelCommands, KnowledgeCommands, ArenaCommands,
                        AlertCommands, PolicyCommands, VoiceCommands, SessionCommands):
    """Every area's commands on the one store (application/core.py holds what they share)."""

    name = "altlas"  # the library names stores and settings after it: never let it change

    def react(self, tracking: Tracking, reaction: Callable[[Reaction], None],
              worker: str | None = None) -> Reaction:
        """Run one reaction to the event at ``tracking`` and record its new events with the
        tracking record, in one transaction. Raises RecordConflictError when another
        process reacted first, or an aggregate changed meanwhile: nothing is recorded."""
        effects = Reaction(self, ProcessingEvent[UUID](tracking=tracking), worker)
        reaction(effects)
        collect_effects(effects.processing, effects.loaded.values())
        self._notify(self._record(effects.processing))
        return effects
