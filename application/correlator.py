"""The correlator of one process, brought to the position of the event it decides on.

Which incident an alert joins is decided by a reaction (the `incidents` lane) that any
process may run; the correlator's state must therefore be what all alert events before that
event say, whichever process reacted to them. The desk reads the alert events it has not seen
yet, in order, before each decision; a new process replays them all once. An event decided
again (a reaction retried after a conflict) gets the same answer.

Time is the alerts' own: an occurrence counts from its start (or from when it came, if its
sender's clock put the start in the future), and the desk's clock is the latest of those. When
no alert comes, the housekeeping moves that clock on by the time that passed since the latest
one came, so an occurrence whose ``endsAt`` passed expires even in a quiet hour, and a storm
replayed faster than it happened is judged as it happened.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

from eventsourcing.utils import get_topic

from application.app import AltlasApplication
from domain.alerts import Alert
from domain.correlation import Correlator, Ended, Occurrence
from domain.incidents import incident_id
from domain.policy import Policy

AlertEvent = Alert.Received | Alert.Refreshed | Alert.Resolved | Alert.Expired
_KINDS = (Alert.Received, Alert.Refreshed, Alert.Resolved, Alert.Expired)
_TOPICS = sorted(get_topic(kind) for kind in _KINDS)
_BATCH = 1000
SKEW = timedelta(minutes=1)  # a start further ahead of its arrival is the sender's clock


@dataclass(frozen=True)
class Verdict:
    """What one alert event did to the incidents: nothing (``incident`` None), joined or
    opened one, merged others into it; for an ended alert, which incident it left.
    ``ended``: occurrences found over without a resolved notice, to record as expired."""

    incident: UUID | None = None
    alert_id: str = ""
    fingerprint: str = ""
    component: str = ""
    opened: bool = False
    repeat: bool = False
    merged: tuple[UUID, ...] = ()
    root_causes: list[dict[str, Any]] = field(default_factory=list)
    ended: tuple[Ended, ...] = ()


_NOTHING = Verdict()


class IncidentDesk:
    def __init__(self, app: AltlasApplication) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._policy: Policy = self._app.policy
        self._correlator = Correlator(self._policy.topology(), self._policy.incidents)
        self._position = 0
        self._last: tuple[int, Verdict] | None = None
        self._latest: tuple[datetime, datetime] | None = None  # (alert time, when it came)

    def decide(self, position: int, event: AlertEvent) -> Verdict:
        with self._lock:
            if self._last is not None and self._last[0] == position:
                return self._last[1]
            if position <= self._position:  # asked about the past: start again
                self._reset()
            self._catch_up(position - 1)
            self._reconfigure()
            verdict = self._apply(event, decided=True)
            self._position, self._last = position, (position, verdict)
            return verdict

    def due(self, now: datetime) -> list[Ended]:
        """Occurrences whose ``endsAt`` passed by ``now`` (wall-clock) without a resolved
        notice, as far as every alert event recorded so far says."""
        with self._lock:
            self._catch_up(self._app.recorder.max_notification_id() or 0)
            if self._latest is None:
                return []
            at, came = self._latest
            return self._correlator.due(at + max(now - came, timedelta(0)))

    def _reconfigure(self) -> None:
        policy = self._app.policy  # it may have been reloaded
        if policy is not self._policy:
            self._policy = policy
            self._correlator.reconfigure(policy.topology(), policy.incidents)

    def _catch_up(self, stop: int) -> None:
        while self._position < stop:
            found = self._app.recorder.select_notifications(
                self._position, _BATCH, stop, _TOPICS, inclusive_of_start=False)
            for n in found:
                self._apply(cast(AlertEvent, self._app.mapper.to_domain_event(n)))
                self._position = n.id
            if len(found) < _BATCH:
                self._position = stop

    def _apply(self, event: AlertEvent, *, decided: bool = False) -> Verdict:
        """Feed one alert event to the correlator; ``decided``: the event reacted to now,
        whose verdict needs its incident's causes (not the ones replayed before it)."""
        c, key = self._correlator, str(event.originator_id)
        if isinstance(event, Alert.Refreshed):
            c.refresh(key, _time(event.ends_at))
            return _NOTHING
        if isinstance(event, Alert.Resolved | Alert.Expired):
            at = datetime.fromisoformat(event.ends_at)
            facts = c.facts(key)
            joined = c.end(key, at)
            if joined is None or facts is None:
                return _NOTHING
            member = c.incidents[joined].members[key]
            return Verdict(UUID(joined), key, member.occurrence.fingerprint)
        starts = datetime.fromisoformat(event.starts_at)
        came = datetime.fromisoformat(event.last_seen)
        at = came if starts > came + SKEW else starts
        if self._latest is None or at >= self._latest[0]:
            self._latest = (at, came)
        decision = c.add(Occurrence(key, event.fingerprint, event.name, event.labels,
                                    event.annotations, starts, _time(event.ends_at)),
                         str(incident_id(event.originator_id)), at)
        if decision.repeat or not decided:
            return Verdict(UUID(decision.incident), key, event.fingerprint, repeat=True,
                           ended=decision.ended) if decided else _NOTHING
        facts = c.facts(key)
        return Verdict(UUID(decision.incident), key, event.fingerprint,
                       facts.component.name if facts else "", decision.opened, False,
                       tuple(UUID(m) for m in decision.merged),
                       [{"component": k.component, "kind": k.kind, "score": k.score,
                         "evidence": k.evidence}
                        for k in c.root_causes(decision.incident)], decision.ended)


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
