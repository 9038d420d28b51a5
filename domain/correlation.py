"""Which alerts belong to one incident, and which component most likely caused it. One
module: the relation between two occurrences and the ranking of causes are one algorithm.

An alert occurrence is what Alertmanager calls an alert: a label set (its fingerprint) firing
from a start (``startsAt``) until a resolved notice or its ``endsAt`` passes. The same label
set firing again with a new start is a new occurrence, correlated afresh; the older one is
over at the latest then.

Each occurrence is about a component: a *service* of the topology (its `service`, `job` or
similar label, or the one service on its host), a *host* (an alert about the machine itself,
such as `HostDown` or a full disk, or about a host the topology places no single service on),
a *cluster* (an alert naming only its cluster), or something the topology does not know. The
topology says what explains what: a service explains the services that depend on it, directly
or not; a host explains the services on it and what depends on them; a cluster explains its
services and what depends on them.

An occurrence joins the open incident it relates to most strongly, judged against every
member of the incident that is near it in time: a member that started within the window of
it, or one still live while the incident keeps taking alerts (its latest member is at most a
window old). Relations: one explains the other (a symptom of the member, or its cause), the
same component, the same host, a shared `service` label; a shared cluster or job only with
similar words in the annotations. No incident takes an alert after its maximum length.
An occurrence that explains the likeliest causes of several incidents unites them. Causes are
ranked as alerts join: the component that explains the most others of the incident and is
explained by the fewest first, then the one that alerted first; so an upstream alert that
arrives after its symptoms becomes the cause, and an unrelated alert that merely came first
does not stay it.

Incidents do not split once formed: people are already acting on an incident's id and
messages, and a member that stops relating has ended, so the incident resolves with its last
live member instead (DEVELOPERS.md).

Pure logic: nothing here reads, writes or waits; the time is the alerts' own.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

SERVICE, HOST, CLUSTER, OTHER = "service", "host", "cluster", "other"
_WORD = re.compile(r"[a-z0-9]+")
_ADDRESS = re.compile(r"^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]*:[0-9a-f:]*)$")
# Where alerts name their machine, and the service they are about, most specific first.
HOST_LABELS = ("instance", "host", "hostname", "node", "nodename", "kubernetes_node", "server")
SERVICE_LABELS = ("service", "app", "app_kubernetes_io_name", "deployment", "statefulset",
                  "daemonset", "consumergroup", "container", "job", "pod")
# What names add around a service's: `shop/checkout`, `checkout-api`, `postgres-exporter`,
# a pod's `checkout-7d9f8c6b5-x2x9z` or `postgres-0`.
_AFFIXES = re.compile(r"^[^/]*/|(-(api|svc|service|server|exporter|metrics|app|main|worker))+$"
                      r"|(-[a-z0-9]{8,10})?-[a-z0-9]{5}$|-\d+$")
NODE_JOBS = frozenset({"node", "node-exporter", "node_exporter", "nodes"})
# Labels every alert of a Prometheus or a team may carry: an alert with nothing else but its
# cluster is about the cluster itself.
GENERIC_LABELS = frozenset({"alertname", "severity", "cluster", "prometheus", "env",
                            "environment", "region", "zone", "datacenter", "dc", "team",
                            "monitor", "replica", "priority", "tier", "owner"})
# What serves a whole cluster (Kubernetes's control plane and DNS): their alerts are about it.
CLUSTER_JOBS = frozenset({"apiserver", "kube-apiserver", "coredns", "kube-dns", "etcd",
                          "kube-proxy", "kube-controller-manager", "kube-scheduler"})
CLUSTER_ALERTS = re.compile(r"Cluster|CoreDNS|KubeDNS|KubeAPI|APIServer|Etcd")
# Alerts about the machine rather than what runs on it, by their names as the usual rule sets
# (node-exporter's mixin, awesome-prometheus-alerts, kube-prometheus) write them.
HOST_ALERTS = (r"^(Host|Node|KubeNode|Machine|Server|VM)[A-Z0-9]|Disk|Filesystem|Inode"
               r"|OutOfMemory|OOM|Swap|^InstanceDown$|^Down$")
BELOW = 1.0  # the member explains the alert: a symptom of it
SAME_COMPONENT = 0.9
ABOVE = 0.9  # the alert explains the member: it may be the cause
SAME_HOST = 0.8
STRONG = 0.8  # a shared `service` label
WEAK = 0.3  # a shared cluster or job
TEXT = 0.4  # how much the words of the annotations can add
MAX_RELATION = BELOW + TEXT
_NEVER = datetime.min.replace(tzinfo=UTC)  # alert times are zoned


class Component(NamedTuple):
    kind: str  # service, host, cluster or other
    name: str


@dataclass(frozen=True)
class Occurrence:
    """One alert occurrence; ``key`` names it (the Alert aggregate's id), ``ends_at`` is
    when it ends unless its sender moves that on (None: not told)."""

    key: str
    fingerprint: str
    name: str  # alertname
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None = None


@dataclass(frozen=True)
class Service:
    name: str
    hosts: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    cluster: str | None = None
    queries: tuple[str, ...] = ()  # PromQL that shows how it is doing (enrichment)


@dataclass(frozen=True)
class Settings:
    window: timedelta = timedelta(minutes=5)  # of an incident's alerts, to relate to them
    spread: timedelta = timedelta(minutes=10)  # how late a symptom follows a live cause
    threshold: float = 0.6
    max_length: timedelta = timedelta(hours=2)
    host_alerts: str = HOST_ALERTS  # a regular expression over alert names


class Topology:
    """Services with their hosts, clusters and dependencies, as the policy describes them."""

    def __init__(self, services: Iterable[Service], hosts: Iterable[str] = ()) -> None:
        self.services = {s.name: s for s in services}
        self.hosts = frozenset(hosts) | {h for s in self.services.values() for h in s.hosts}
        on: dict[str, list[str]] = {}
        for s in self.services.values():
            for h in s.hosts:
                on.setdefault(h, []).append(s.name)
        self._on_host = {h: tuple(sorted(names)) for h, names in on.items()}
        self._upstream: dict[str, frozenset[Component]] = {}

    def services_on(self, host: str) -> tuple[str, ...]:
        return self._on_host.get(host, ())

    def depends(self, name: str) -> frozenset[str]:
        """Every service ``name`` depends on, directly or not."""
        return frozenset(c.name for c in self.upstream(Component(SERVICE, name))
                         if c.kind == SERVICE)

    def upstream(self, component: Component) -> frozenset[Component]:
        """Everything whose failure explains ``component``'s: the services it depends on,
        directly or not, and the hosts and clusters of it and of those."""
        if component.kind != SERVICE or component.name not in self.services:
            return frozenset()
        name = component.name
        if name not in self._upstream:
            seen: set[str] = set()
            todo = list(self.services[name].depends_on)
            while todo:
                d = todo.pop()
                if d not in seen and d in self.services:
                    seen.add(d)
                    todo.extend(self.services[d].depends_on)
            found = {Component(SERVICE, d) for d in seen}
            for s in (name, *seen):
                service = self.services[s]
                found |= {Component(HOST, h) for h in service.hosts}
                if service.cluster:
                    found.add(Component(CLUSTER, service.cluster))
            self._upstream[name] = frozenset(found)
        return self._upstream[name]


@dataclass(frozen=True)
class Facts:
    """What an occurrence is about, as far as correlation goes."""

    component: Component
    host: str | None
    cluster: str | None
    labels: frozenset[tuple[str, str]]  # the shared-label relations it can have


def host_of(instance: str) -> str:
    """`web-1:9100` → `web-1`; `[::1]:9100` → `::1`."""
    if instance.startswith("["):
        return instance[1:].split("]")[0]
    return instance.rsplit(":", 1)[0] if instance.count(":") == 1 else instance


def words(annotations: Mapping[str, str]) -> frozenset[str]:
    text = " ".join(annotations.get(k, "") for k in ("summary", "description"))
    return frozenset(w for w in _WORD.findall(text.lower()) if not w.isdigit())


class Classifier:
    """Tells what an occurrence is about, from its labels and the topology."""

    def __init__(self, topology: Topology, host_alerts: str = HOST_ALERTS) -> None:
        self.topology = topology
        self._host_alert = re.compile(host_alerts)
        self._named: dict[str, str | None] = {}

    def facts(self, name: str, labels: Mapping[str, str]) -> Facts:
        topo = self.topology
        named = [host_of(labels[k]).lower() for k in HOST_LABELS if labels.get(k)]
        host = next((h for h in named if h in topo.hosts), None) or next(
            (h for h in named if h and not _ADDRESS.match(h)), None)
        service = next((found for k in SERVICE_LABELS if labels.get(k)
                        and (found := self.service_named(labels[k])) is not None), None)
        cluster = labels.get("cluster") or (
            topo.services[service].cluster if service else None)
        about_host = host is not None and (bool(self._host_alert.search(name)) or (
            labels.get("job") in NODE_JOBS and service is None))
        component: Component
        if about_host:
            component = Component(HOST, str(host))
        elif service is not None:
            component = Component(SERVICE, service)
        elif host is not None and len(topo.services_on(host)) == 1:
            component = Component(SERVICE, topo.services_on(host)[0])
        elif labels.get("service"):
            component = Component(SERVICE, labels["service"])
        elif host is not None:
            component = Component(HOST, host)
        elif labels.get("cluster") and (not set(labels) - GENERIC_LABELS
                                        or labels.get("job") in CLUSTER_JOBS
                                        or CLUSTER_ALERTS.search(name)):
            component = Component(CLUSTER, labels["cluster"])
        else:
            component = Component(OTHER, labels.get("job") or name or "?")
        shared = {("service", labels["service"])} if labels.get("service") else set()
        if cluster:
            shared.add(("cluster", cluster))
        if labels.get("job") and labels["job"] not in NODE_JOBS:
            shared.add(("job", labels["job"]))
        return Facts(component, host, cluster, frozenset(shared))

    def service_named(self, value: str) -> str | None:
        """The topology's service a label value names, as written or with what names
        usually add around it taken off."""
        services = self.topology.services
        if value in services:
            return value
        if value not in self._named:
            bare = value.lower()
            for _ in range(3):
                if bare in services:
                    break
                bare = _AFFIXES.sub("", bare)
            self._named[value] = bare if bare in services else None
        return self._named[value]

    def explains(self, cause: Facts | Component, effect: Facts) -> bool:
        """Whether a failure of ``cause``'s component would make ``effect`` alert (it
        depends on the cause's component alone)."""
        c = cause.component if isinstance(cause, Facts) else cause
        if c == effect.component:
            return False
        if c in self.topology.upstream(effect.component):
            return True
        return (c.kind == HOST and effect.host == c.name) or (
            c.kind == CLUSTER and effect.cluster == c.name)

    def relation(self, alert: Facts, said: frozenset[str], member: Facts,
                 member_said: Iterable[str], cause: bool = True) -> float:
        """How strongly an alert (its facts and words) relates to a member. Explaining, or
        being explained, counts only against a likeliest cause of the incident (``cause``):
        being downstream of one of its symptoms does not make an alert part of it."""
        if alert.component == member.component:
            score = SAME_COMPONENT
        elif cause and self.explains(member, alert):
            score = BELOW
        elif cause and self.explains(alert, member):
            score = ABOVE
        elif alert.host is not None and alert.host == member.host:
            score = SAME_HOST
        else:
            score = 0.0
        shared = alert.labels & member.labels
        if shared:
            score = max(score, max(STRONG if k == "service" else WEAK for k, _ in shared))
        if said and member_said:
            score += TEXT * len(said & set(member_said)) / len(said | set(member_said))
        return score


@dataclass
class Member:
    occurrence: Occurrence
    facts: Facts
    ends_at: datetime | None  # known end (resolved, expired or as the sender expects)
    ended: bool = False  # resolved or expired: no longer keeps its incident open


@dataclass
class Group:
    """The members of an incident that relate to anything alike: one component, host,
    cluster and labels. Relations are judged once per group, not once per member."""

    facts: Facts
    first: datetime  # the earliest start among its members
    latest: datetime  # the latest start
    live_until: datetime  # the latest a member fires till, as far as is known
    members: list[Member] = field(default_factory=list)
    words: set[str] = field(default_factory=set)

    def live(self, t: datetime) -> bool:
        return self.first <= t <= self.live_until


@dataclass
class Incident:
    id: str
    opened_at: datetime
    last_at: datetime  # the latest start of its members
    groups: dict[Facts, Group] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)  # by occurrence key
    components: dict[Component, datetime] = field(default_factory=dict)  # first alert of each
    live: set[str] = field(default_factory=set)  # keys of members not ended
    causes: list[Candidate] | None = None  # ranked, until a member joins


@dataclass(frozen=True)
class Candidate:
    component: str
    kind: str  # service, host, cluster or other
    score: int  # components of the incident it explains, less those that explain it
    first: datetime  # its first alert in the incident
    evidence: str


@dataclass(frozen=True)
class Ended:
    """An occurrence over without a resolved notice: when, and why."""

    key: str
    fingerprint: str
    incident: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class Decision:
    """What one occurrence did: joined ``incident`` (``opened`` if it is new); ``merged``:
    the incidents folded into it; ``repeat``: it was already there (re-sent); ``ended``:
    occurrences found over by its arrival (their ``endsAt`` passed, or this one fired again
    with their labels)."""

    incident: str
    opened: bool = False
    merged: tuple[str, ...] = ()
    repeat: bool = False
    ended: tuple[Ended, ...] = ()


class Correlator:
    def __init__(self, topology: Topology, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.classifier = Classifier(topology, self.settings.host_alerts)
        self.incidents: dict[str, Incident] = {}
        self._active: dict[str, Incident] = {}  # may still take alerts
        self._of: dict[str, str] = {}  # occurrence key → incident
        self._current: dict[str, Member] = {}  # fingerprint → its latest occurrence
        self._due: list[tuple[datetime, str]] = []  # (known end, key) of live members
        self._count = 0
        self.clock = _NEVER  # the latest alert time seen

    @property
    def topology(self) -> Topology:
        return self.classifier.topology

    def reconfigure(self, topology: Topology, settings: Settings) -> None:
        """A reloaded policy: what is decided stays; what comes is judged by the new one."""
        if topology is not self.topology or settings != self.settings:
            self.settings = settings
            self.classifier = Classifier(topology, settings.host_alerts)

    def add(self, alert: Occurrence, new_id: str | None = None,
            at: datetime | None = None) -> Decision:
        """Put an occurrence in its incident; a new incident is named ``new_id`` if given.
        ``at``: the alert time it counts from, when not its start (one from the future)."""
        t = at or alert.starts_at
        known = self._of.get(alert.key)
        if known is not None:
            self.refresh(alert.key, alert.ends_at)
            return Decision(known, repeat=True)
        ended = self._supersede(alert) + self.advance(t)
        facts = self.classifier.facts(alert.name, alert.labels)
        said = words(alert.annotations)
        scored = self._related(facts, said, t)
        if not scored:
            self._count += 1
            incident = Incident(new_id or f"i{self._count}", t, t)
            self.incidents[incident.id] = self._active[incident.id] = incident
            self._join(incident, alert, facts, said, t)
            return Decision(incident.id, opened=True, ended=tuple(ended + self.advance(t)))
        best = max(scored, key=lambda s: (s[0], s[1], s[2].opened_at, s[2].id))[2]
        # an alert that explains the likeliest causes of several incidents unites them
        explained = [i for _, _, i in scored if self._explains_cause(facts, i, t)]
        target = best
        merged: tuple[str, ...] = ()
        if len(explained) > 1:
            target = min(explained, key=lambda i: (i.opened_at, i.id))
            merged = tuple(i.id for i in explained if i is not target)
            for other in merged:
                self._active.pop(other, None)
                self._fold(self.incidents.pop(other), target)
        self._join(target, alert, facts, said, t)  # (over already if its end has passed)
        return Decision(target.id, merged=merged, ended=tuple(ended + self.advance(t)))

    def refresh(self, key: str, ends_at: datetime | None) -> None:
        """Its sender moved the occurrence's end on."""
        member = self._member(key)
        if member is None or member.ended or ends_at is None:
            return
        if member.ends_at is None or ends_at > member.ends_at:
            member.ends_at = ends_at
            heapq.heappush(self._due, (ends_at, key))
            self._relive(member)

    def end(self, key: str, at: datetime) -> str | None:
        """An occurrence resolved or expired; the incident it is in, if any."""
        member = self._member(key)
        if member is None:
            return None
        self._end(member, at)
        self.clock = max(self.clock, at)
        return self._of[key]

    def advance(self, now: datetime) -> list[Ended]:
        """Move the clock on to ``now``: the occurrences whose known end passed are over."""
        self.clock = max(self.clock, now)
        found = []
        while self._due and self._due[0][0] < self.clock:
            ends_at, key = heapq.heappop(self._due)
            member = self._member(key)
            if member is None or member.ended or member.ends_at != ends_at:
                continue  # ended otherwise, or its end moved on since
            self._end(member, ends_at)
            found.append(self._expired(member, ends_at))
        return found

    def due(self, now: datetime) -> list[Ended]:
        """The live occurrences whose known end is before ``now``, without ending them."""
        found = []
        for ends_at, key in sorted(e for e in self._due if e[0] < now):
            member = self._member(key)
            if member is not None and not member.ended and member.ends_at == ends_at:
                found.append(self._expired(member, ends_at))
        return found

    def _expired(self, member: Member, at: datetime) -> Ended:
        key = member.occurrence.key
        return Ended(key, member.occurrence.fingerprint, self._of[key], at,
                     f"its endsAt ({at.isoformat()}) passed without a resolved notice")

    def membership(self) -> dict[str, str]:
        """Which incident each occurrence is in."""
        return dict(self._of)

    def incident_of(self, key: str) -> str | None:
        """The incident an occurrence is in."""
        return self._of.get(key)

    def facts(self, key: str) -> Facts | None:
        member = self._member(key)
        return member.facts if member else None

    def root_causes(self, incident_id: str) -> list[Candidate]:
        """The incident's components, most likely cause first, each with why."""
        incident = self.incidents[incident_id]
        if incident.causes is not None:
            return incident.causes
        explains = self.classifier.explains
        facts = list({(g.facts.component, g.facts.host, g.facts.cluster): g.facts
                      for g in incident.groups.values()}.values())
        ranked = []
        for component, first in incident.components.items():
            mine = [f for f in facts if f.component == component]
            below = sorted({f.component.name for f in facts if f.component != component
                            and explains(component, f)})
            above = sorted({f.component.name for f in facts if f.component != component
                            and any(explains(f.component, m) for m in mine)})
            evidence = (f"{len(below)} alerting component(s) depend on it ({', '.join(below)})"
                        if below else "nothing alerting depends on it")
            if above:
                evidence += f"; it depends on alerting {', '.join(above)}"
            ranked.append(Candidate(component.name, component.kind, len(below) - len(above),
                                    first, f"{evidence}; first alert {first.isoformat()}"))
        incident.causes = sorted(ranked, key=lambda c: (-c.score, c.first, c.component))
        return incident.causes

    # -- how an occurrence relates ----------------------------------------------------

    def _related(self, facts: Facts, said: frozenset[str], t: datetime
                 ) -> list[tuple[float, datetime, Incident]]:
        """The incidents it relates to enough: (strength, the latest related start, it).
        A member relates within the window of its latest alert; a likeliest cause still
        firing also explains the symptoms that start up to ``spread`` after it did."""
        window, spread, found = self.settings.window, self.settings.spread, []
        for incident in self._open(t):
            causes = self._likeliest(incident)
            best, when = 0.0, _NEVER
            for group in incident.groups.values():
                cause = group.facts.component in causes
                if abs(t - group.latest) <= window:
                    score = self.classifier.relation(facts, said, group.facts, group.words,
                                                     cause)
                elif cause and group.first <= t <= group.first + spread and group.live(t):
                    score = BELOW if self.classifier.explains(group.facts, facts) else 0.0
                else:
                    continue
                if score > best or (score == best and group.latest > when):
                    best, when = score, group.latest
            if best >= self.settings.threshold:
                found.append((best, when, incident))
        return found

    def _likeliest(self, incident: Incident) -> set[Component]:
        """The components that rank first among its causes (ties all count)."""
        causes = self.root_causes(incident.id)
        return {Component(c.kind, c.component) for c in causes if c.score == causes[0].score}

    def _explains_cause(self, facts: Facts, incident: Incident, t: datetime) -> bool:
        """Whether the alert explains a likeliest cause of the incident, alerting near it."""
        causes = self._likeliest(incident)
        return any(g.facts.component in causes and abs(t - g.latest) <= self.settings.window
                   and self.classifier.explains(facts, g.facts)
                   for g in incident.groups.values())

    def _open(self, t: datetime) -> list[Incident]:
        """The incidents an alert at ``t`` may join; those that can take no more (every
        alert of theirs ended, too long, or quiet for longer than a symptom can follow its
        cause) leave the active set for good (alerts arrive in about their time order)."""
        quiet = max(self.settings.window, self.settings.spread)
        for ident, incident in list(self._active.items()):
            if not incident.live or t - incident.opened_at > self.settings.max_length \
                    or t - incident.last_at > quiet:
                del self._active[ident]
        return list(self._active.values())

    # -- bookkeeping -------------------------------------------------------------------

    def _member(self, key: str) -> Member | None:
        incident = self.incidents.get(self._of.get(key, ""))
        return incident.members.get(key) if incident is not None else None

    def _supersede(self, alert: Occurrence) -> list[Ended]:
        """The same labels firing with a new start: the occurrence before is over, at its
        known end or at this start, whichever is first. (An older one sent late changes
        nothing: the latest stays the latest.)"""
        before = self._current.get(alert.fingerprint)
        if before is None or before.ended or before.occurrence.starts_at >= alert.starts_at:
            return []
        at = min(before.ends_at or alert.starts_at, alert.starts_at)
        self._end(before, at)
        return [Ended(before.occurrence.key, alert.fingerprint, self._of[before.occurrence.key],
                      at, f"the same labels fired again at {alert.starts_at.isoformat()}")]

    def _join(self, incident: Incident, alert: Occurrence, facts: Facts,
              said: frozenset[str], t: datetime) -> None:
        member = Member(alert, facts, alert.ends_at)
        group = incident.groups.get(facts)
        if group is None:
            group = incident.groups[facts] = Group(facts, t, t, t)
        group.members.append(member)
        group.first, group.latest = min(group.first, t), max(group.latest, t)
        group.live_until = max(group.live_until, self._until(member))
        group.words |= said
        incident.members[alert.key] = member
        incident.live.add(alert.key)
        incident.components.setdefault(facts.component, t)
        incident.last_at = max(incident.last_at, t)
        incident.causes = None
        self._of[alert.key] = incident.id
        latest = self._current.get(alert.fingerprint)
        if latest is None or latest.occurrence.starts_at < alert.starts_at:
            self._current[alert.fingerprint] = member
        if alert.ends_at is not None:
            heapq.heappush(self._due, (alert.ends_at, alert.key))

    def _until(self, member: Member) -> datetime:
        """The latest it fires till as far as is known (no end known: for at most the
        maximum incident length)."""
        if member.ends_at is not None:
            return member.ends_at
        return member.occurrence.starts_at + self.settings.max_length

    def _end(self, member: Member, at: datetime) -> None:
        if member.ended:
            return
        member.ended = True
        member.ends_at = at if member.ends_at is None else min(member.ends_at, at)
        incident = self.incidents[self._of[member.occurrence.key]]
        incident.live.discard(member.occurrence.key)
        self._relive(member)

    def _relive(self, member: Member) -> None:
        """Its group's live span after the member's end changed."""
        incident = self.incidents[self._of[member.occurrence.key]]
        group = incident.groups[member.facts]
        group.live_until = max(self._until(m) for m in group.members)

    def _fold(self, other: Incident, into: Incident) -> None:
        for facts, group in other.groups.items():
            mine = into.groups.get(facts)
            if mine is None:
                into.groups[facts] = group
            else:
                mine.members.extend(group.members)
                mine.first, mine.latest = min(mine.first, group.first), max(
                    mine.latest, group.latest)
                mine.live_until = max(mine.live_until, group.live_until)
                mine.words |= group.words
        into.members.update(other.members)
        into.live |= other.live
        for key in other.members:
            self._of[key] = into.id
        for component, first in other.components.items():
            into.components[component] = min(first, into.components.get(component, first))
        into.opened_at = min(into.opened_at, other.opened_at)
        into.last_at = max(into.last_at, other.last_at)
        into.causes = None
