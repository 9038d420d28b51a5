"""The correlator of one process, brought to the position of the event it decides on.

Which incident an alert joins is decided by a reaction (the `incidents` lane) that any
process may run; the correlator's state must therefore be what all alert events before that
event say, whichever process reacted to them. The desk reads the alert events it has not seen
yet, in order, before each decision; a new process replays them all once. An event decided
again (a reaction retried after a conflict) gets the same answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.utils import get_topic

from application.app import AltlasApplication
from domain.alerts import Alert
from domain.correlation import Correlator, Firing
from domain.incidents import incident_id

_KINDS = (Alert.Received, Alert.Resolved)
_TOPICS = sorted(get_topic(kind) for kind in _KINDS)
_BATCH = 1000


@dataclass(frozen=True)
class Verdict:
    """What one alert event did to the incidents: nothing (``incident`` None), joined or
    opened one, merged others into it; for a resolved alert, which incident it left."""

    incident: UUID | None = None
    fingerprint: str = ""
    component: str = ""
    opened: bool = False
    repeat: bool = False
    merged: tuple[UUID, ...] = ()
    root_causes: list[dict[str, Any]] = field(default_factory=list)


_NOTHING = Verdict()


class IncidentDesk:
    def __init__(self, app: AltlasApplication) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        policy = self._app.policy
        self._correlator = Correlator(policy.topology(), policy.incidents)
        self._position = 0
        self._last: tuple[int, Verdict] | None = None
        self._fingerprints: dict[UUID, str] = {}  # alert id → fingerprint, while firing

    def decide(self, position: int, event: Alert.Received | Alert.Resolved) -> Verdict:
        with self._lock:
            if self._last is not None and self._last[0] == position:
                return self._last[1]
            if position <= self._position:  # asked about the past: start again
                self._reset()
            self._catch_up(position - 1)
            policy = self._app.policy  # it may have been reloaded
            self._correlator.topology = policy.topology()
            self._correlator.settings = policy.incidents
            verdict = self._apply(event, decided=True)
            self._position, self._last = position, (position, verdict)
            return verdict

    def _catch_up(self, stop: int) -> None:
        while self._position < stop:
            found = self._app.recorder.select_notifications(
                self._position, _BATCH, stop, _TOPICS, inclusive_of_start=False)
            for n in found:
                self._apply(cast(Alert.Received | Alert.Resolved,
                                 self._app.mapper.to_domain_event(n)))
                self._position = n.id
            if len(found) < _BATCH:
                self._position = stop

    def _apply(self, event: Alert.Received | Alert.Resolved, *, decided: bool = False
               ) -> Verdict:
        """Feed one alert event to the correlator; ``decided``: the event reacted to now,
        whose verdict needs its incident's causes (not the ones replayed before it)."""
        c = self._correlator
        if isinstance(event, Alert.Received):
            alert = Firing(event.fingerprint, event.name, event.labels, event.annotations,
                           datetime.fromisoformat(event.starts_at))
            decision = c.add(alert, str(incident_id(event.originator_id)))
            if decision.repeat:
                return Verdict(UUID(decision.incident), event.fingerprint, repeat=True)
            self._fingerprints[event.originator_id] = event.fingerprint
            if not decided:
                return _NOTHING
            return Verdict(UUID(decision.incident), event.fingerprint,
                           c.topology.component(event.labels), decision.opened, False,
                           tuple(UUID(m) for m in decision.merged),
                           [{"component": k.component, "score": k.score, "evidence": k.evidence}
                            for k in c.root_causes(decision.incident)])
        fingerprint = self._fingerprints.pop(event.originator_id, None)
        if fingerprint is None:
            return _NOTHING
        joined = c.incident_of(fingerprint)
        c.resolve(fingerprint, datetime.fromisoformat(event.ends_at))
        return Verdict(UUID(joined), fingerprint) if joined else _NOTHING
