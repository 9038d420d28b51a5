"""Which alerts belong to one incident, and which component most likely caused it.

An alert joins the open incident it is most related to, within a time window of that
incident's latest alert: the same component (a service, or a host the topology does not place)
or shared labels (instance, service; a shared cluster or job only counts with similar words in
the annotations); or, within the window of the incident's first alert, a dependency in the
topology between the alert's component and the incident's root (an alert on `postgres` and
alerts on the services that depend on it are one incident, rooted at `postgres`). Relating to
the root, not to every member, keeps a dense topology from chaining every fault of the hour
into one incident. An alert related to two open incidents merges them. Root-cause candidates
are ranked upstream first: the alerting component that the most other alerting components of
the incident depend on, then the one that alerted first.

Pure logic: nothing here reads, writes or waits; the time is the alerts' own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

_WORD = re.compile(r"[a-z0-9]+")
LABELS = ("service", "instance", "cluster", "job")  # what alerts of one incident tend to share
_STRONG = {"service": 0.8, "instance": 0.8, "cluster": 0.3, "job": 0.3}
BELOW_ROOT = 1.0  # the alert's component depends on the incident's root: a symptom of it
SAME_COMPONENT = 0.9
ABOVE_ROOT = 0.9  # the incident's root depends on it: it may be the cause
TEXT = 0.4  # how much the words of the annotations can add
MAX_RELATION = BELOW_ROOT + TEXT


@dataclass(frozen=True)
class Firing:
    fingerprint: str
    name: str  # alertname
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime


@dataclass(frozen=True)
class Service:
    name: str
    hosts: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    cluster: str | None = None
    queries: tuple[str, ...] = ()  # PromQL that shows how it is doing (enrichment)


class Topology:
    """Services with their hosts and dependencies, as the policy describes them."""

    def __init__(self, services: Iterable[Service]) -> None:
        self.services = {s.name: s for s in services}
        self._host = {h: s.name for s in self.services.values() for h in s.hosts}
        self._upstream: dict[str, frozenset[str]] = {}

    def component(self, labels: Mapping[str, str]) -> str:
        """The service an alert is about (its `service` or `job` label, or the host of its
        `instance`), else the host itself, else its alert name's group."""
        for key in ("service", "job"):
            if labels.get(key) in self.services:
                return labels[key]
        host = host_of(labels.get("instance", ""))
        if host in self._host:
            return self._host[host]
        return labels.get("service") or host or labels.get("job") or labels.get("alertname", "?")

    def upstream(self, name: str) -> frozenset[str]:
        """Everything ``name`` depends on, directly or not."""
        if name not in self._upstream:
            seen: set[str] = set()
            todo = list(self.services[name].depends_on) if name in self.services else []
            while todo:
                d = todo.pop()
                if d not in seen:
                    seen.add(d)
                    todo.extend(self.services[d].depends_on if d in self.services else ())
            self._upstream[name] = frozenset(seen)
        return self._upstream[name]

    def related(self, a: str, b: str) -> bool:
        return a in self.upstream(b) or b in self.upstream(a)


def host_of(instance: str) -> str:
    """`web-1:9100` → `web-1`; `[::1]:9100` → `::1`."""
    if instance.startswith("["):
        return instance[1:].split("]")[0]
    return instance.rsplit(":", 1)[0] if instance.count(":") == 1 else instance


def words(annotations: Mapping[str, str]) -> frozenset[str]:
    text = " ".join(annotations.get(k, "") for k in ("summary", "description"))
    return frozenset(w for w in _WORD.findall(text.lower()) if not w.isdigit())


@dataclass
class Incident:
    id: str
    opened_at: datetime
    last_at: datetime
    alerts: dict[str, Firing] = field(default_factory=dict)  # by fingerprint
    firing: set[str] = field(default_factory=set)  # fingerprints not resolved yet
    components: dict[str, datetime] = field(default_factory=dict)  # first alert of each
    labels: set[tuple[str, str]] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    root: str = ""  # the most upstream component so far


@dataclass(frozen=True)
class Candidate:
    component: str
    score: int  # alerting components that depend on it, less those it depends on
    first: datetime  # its first alert in the incident
    evidence: str


@dataclass(frozen=True)
class Decision:
    """What one alert did: joined ``incident`` (``opened`` if it is new); ``merged``: the
    incidents folded into it; ``repeat``: the alert was already there (re-sent)."""

    incident: str
    opened: bool = False
    merged: tuple[str, ...] = ()
    repeat: bool = False


@dataclass(frozen=True)
class Settings:
    window: timedelta = timedelta(minutes=5)
    threshold: float = 0.6


class Correlator:
    def __init__(self, topology: Topology, settings: Settings | None = None) -> None:
        self.topology = topology
        self.settings = settings or Settings()
        self.incidents: dict[str, Incident] = {}
        self._active: dict[str, Incident] = {}
        self._of_alert: dict[str, str] = {}  # fingerprint → incident
        self._count = 0

    def add(self, alert: Firing, new_id: str | None = None) -> Decision:
        """Put a firing alert in its incident; a new incident is named ``new_id`` if given."""
        known = self._of_alert.get(alert.fingerprint)
        if known is not None:
            incident = self.incidents[known]
            incident.last_at = max(incident.last_at, alert.starts_at)
            return Decision(known, repeat=True)
        component = self.topology.component(alert.labels)
        pairs = {(k, alert.labels[k]) for k in LABELS if alert.labels.get(k)}
        said = words(alert.annotations)
        scored = [(self._score(i, alert.starts_at, component, pairs, said), i)
                  for i in self._open(alert.starts_at)]
        scored = [(score, i) for score, i in scored if score >= self.settings.threshold]
        if not scored:
            self._count += 1
            incident = Incident(new_id or f"i{self._count}", alert.starts_at, alert.starts_at)
            self.incidents[incident.id] = self._active[incident.id] = incident
            self._join(incident, alert, component, pairs, said)
            return Decision(incident.id, opened=True)
        # the strongest relation, the latest incident first: a fresh fault explains more
        best = max(scored, key=lambda t: (t[0], t[1].opened_at, t[1].id))[1]
        # a cause of several incidents' roots unites them, into the oldest
        explained = [i for _, i in scored if self._young(i, alert.starts_at)
                     and component in self.topology.upstream(i.root)]
        target = min(explained, key=lambda i: (i.opened_at, i.id)) if len(explained) > 1 \
            else best
        merged = tuple(i.id for i in explained if i is not target) if len(explained) > 1 else ()
        for other in merged:
            self._active.pop(other, None)
            self._fold(self.incidents.pop(other), target)
        self._join(target, alert, component, pairs, said)
        return Decision(target.id, merged=merged)

    def incident_of(self, fingerprint: str) -> str | None:
        """The incident a firing alert is in."""
        return self._of_alert.get(fingerprint)

    def resolve(self, fingerprint: str, at: datetime) -> str | None:
        """An alert stopped firing; the id of its incident if that was its last firing
        alert (the incident is resolved). A later alert with the same fingerprint is a new
        alert, correlated afresh."""
        incident_id = self._of_alert.pop(fingerprint, None)
        if incident_id is None:
            return None
        incident = self.incidents[incident_id]
        incident.firing.discard(fingerprint)
        incident.last_at = max(incident.last_at, at)
        if incident.firing:
            return None
        self._active.pop(incident_id, None)
        return incident_id

    def root_causes(self, incident_id: str) -> list[Candidate]:
        """The incident's components, most likely cause first, each with why."""
        incident = self.incidents[incident_id]
        ranked = []
        for component, first in incident.components.items():
            below = sorted(c for c in incident.components
                           if c != component and component in self.topology.upstream(c))
            above = sorted(c for c in incident.components
                           if c != component and c in self.topology.upstream(component))
            evidence = (f"{len(below)} alerting component(s) depend on it ({', '.join(below)})"
                        if below else "nothing alerting depends on it")
            if above:
                evidence += f"; it depends on alerting {', '.join(above)}"
            ranked.append(Candidate(component, len(below) - len(above), first,
                                    f"{evidence}; first alert {first.isoformat()}"))
        return sorted(ranked, key=lambda c: (-c.score, c.first, c.component))

    def _open(self, now: datetime) -> list[Incident]:
        """The incidents an alert at ``now`` may join; those quiet for longer than the
        window leave the active set for good (alerts arrive in about their time order)."""
        for quiet in [i for i, inc in self._active.items()
                      if now - inc.last_at > self.settings.window]:
            del self._active[quiet]
        return list(self._active.values())

    def _score(self, incident: Incident, at: datetime, component: str,
               pairs: set[tuple[str, str]], said: frozenset[str]) -> float:
        score = 0.0
        if self._young(incident, at) and incident.root in self.topology.upstream(component):
            score = BELOW_ROOT
        elif component in incident.components:
            score = SAME_COMPONENT
        elif self._young(incident, at) and component in self.topology.upstream(incident.root):
            score = ABOVE_ROOT
        shared = pairs & incident.labels
        if shared:
            score = max(score, max(_STRONG[k] for k, _ in shared))
        if said and incident.words:
            score += TEXT * len(said & incident.words) / len(said | incident.words)
        return score

    def _young(self, incident: Incident, at: datetime) -> bool:
        """Within the window of its first alert: when a fault still spreads to what depends
        on it."""
        return at - incident.opened_at <= self.settings.window

    def _join(self, incident: Incident, alert: Firing, component: str,
              pairs: set[tuple[str, str]], said: frozenset[str]) -> None:
        incident.alerts[alert.fingerprint] = alert
        incident.firing.add(alert.fingerprint)
        incident.components.setdefault(component, alert.starts_at)
        if not incident.root or component in self.topology.upstream(incident.root):
            incident.root = component
        incident.labels |= pairs
        incident.words |= said
        incident.last_at = max(incident.last_at, alert.starts_at)
        self._of_alert[alert.fingerprint] = incident.id

    def _fold(self, other: Incident, into: Incident) -> None:
        into.alerts.update(other.alerts)
        into.firing |= other.firing
        for fingerprint in other.firing:
            self._of_alert[fingerprint] = into.id
        for component, first in other.components.items():
            into.components[component] = min(first, into.components.get(component, first))
        if other.root in self.topology.upstream(into.root):
            into.root = other.root
        into.labels |= other.labels
        into.words |= other.words
        into.opened_at = min(into.opened_at, other.opened_at)
        into.last_at = max(into.last_at, other.last_at)
