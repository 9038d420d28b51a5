"""Incidents on storms nobody here wrote: pairwise F1 and root-cause top-1 of altlas's incidents
per storm family and density, against Alertmanager's own grouping of the same storm (one
incident per group it notified, its "cause" the first alert's service or host) in the same run.

The storms are bench/storms/'s three families (written by other hands, each from its own
reading of Prometheus's and Alertmanager's behaviour), frozen in bench/storms/frozen.json
before the correlator was tuned: `test` (seeds 101, 102) is the number; `dev` (seeds 1, 2)
is what tuning may look at.

  F1         pairwise precision and recall of "these two alert occurrences are one incident"
  root@1     each fault's cause named first by the incident holding most of its alerts
  gaps       incidents that took an alert more than a window after all their alerts ended
  largest    the most faults one incident holds
  ceiling    the F1 of a correlator told each fault's cause and onset (by_ceiling): what the
             alerts and the policy's topology leave to guess beyond that

Paths: `domain` feeds the webhook deliveries to the domain correlator as the application
does (fast); `app` posts them to POST /alerts/alertmanager of a real server (embedded SQLite,
or PostgreSQL with --database-url), lets a worker correlate and reads GET /incidents' view.

    python bench/incident_storms.py [--split test] [--path domain|app] [--family F]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import comb
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.storms import Storm, frozen, load
from domain.alerts import alert_id
from domain.correlation import (
    HOST_LABELS,
    Classifier,
    Component,
    Correlator,
    Occurrence,
    Service,
    Settings,
    Topology,
    host_of,
)


@dataclass(frozen=True)
class Grouping:
    """Which incident each occurrence ended in, and each incident's likeliest cause."""

    member: dict[str, str]  # occurrence key → incident
    cause: dict[str, str]  # incident → the name of its likeliest cause


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float
    root: float
    incidents: int
    gaps: int
    largest: int


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def key_of(fingerprint: str, starts_at: str) -> str:
    return str(alert_id(fingerprint, when(starts_at)))


def topology(storm: Storm) -> Topology:
    services = storm["policy"]["services"]
    return Topology([Service(name, tuple(s.get("hosts", ())), tuple(s.get("depends_on", ())),
                             s.get("cluster")) for name, s in services.items()],
                    storm["policy"]["hosts"])


def end_of(alert: Mapping[str, Any]) -> datetime | None:
    ends = alert.get("endsAt")
    found = when(ends) if ends else None
    return found if found is not None and found.year > 1 else None


def by_domain(storm: Storm, settings: Settings) -> Grouping:
    """The deliveries as application/app.py records them and application/correlator.py feeds
    the correlator: a new occurrence is added, a re-sent one moves its end on, a resolved one
    ends; an occurrence over (resolved or expired) takes nothing more."""
    c = Correlator(topology(storm), settings)
    over: set[str] = set()
    for delivery in storm["deliveries"]:
        for a in delivery["payload"]["alerts"]:
            key = key_of(a["fingerprint"], a["startsAt"])
            starts, ends = when(a["startsAt"]), end_of(a)
            resolved = a["status"] == "resolved"
            if key in over:
                continue
            if c.incident_of(key) is None:
                decision = c.add(Occurrence(
                    key, a["fingerprint"], a["labels"].get("alertname", ""), a["labels"],
                    a.get("annotations", {}), starts,
                    None if resolved or ends is None or ends <= starts else ends))
                over |= {e.key for e in decision.ended}
            elif not resolved:
                c.refresh(key, ends)
            if resolved:
                c.end(key, max(ends or starts, starts))
                over.add(key)
    member = c.membership()
    return Grouping(member, {i: c.root_causes(i)[0].component for i in set(member.values())})


def by_alertmanager(storm: Storm) -> Grouping:
    """What on-call sees without altlas: each of Alertmanager's groups an incident, named
    after its first alert's service (or host, or cluster)."""
    member: dict[str, str] = {}
    cause: dict[str, str] = {}
    for delivery in storm["deliveries"]:
        group = delivery["payload"]["groupKey"]
        for a in delivery["payload"]["alerts"]:
            key = key_of(a["fingerprint"], a["startsAt"])
            if key not in member:
                member[key] = group
                labels = a["labels"]
                hosts = [host_of(labels[k]) for k in HOST_LABELS if labels.get(k)]
                cause.setdefault(group, labels.get("service") or (hosts[0] if hosts else "")
                                 or labels.get("cluster", ""))
    return Grouping(member, cause)


def by_ceiling(storm: Storm, spread: timedelta) -> Grouping:
    """A correlator told what no correlator knows: each fault's cause, when it began and which
    alert is its cause's own. Every other alert goes to the latest fault begun at most
    ``spread`` before it (a minute after, too) whose cause is its component or explains it by
    the policy's topology; else it stands alone. What alerts and the topology leave to guess
    after that is the ceiling of what correlating them can reach."""
    classifier = Classifier(topology(storm))
    faults = storm["truth"]["faults"]
    onsets = [(when(f["at"]), fault, Component(f["kind"], f["cause"]))
              for fault, f in faults.items()]
    member = {}
    for a in storm["truth"]["alerts"]:
        key, t = key_of(a["fingerprint"], a["startsAt"]), when(a["startsAt"])
        facts = classifier.facts(a["labels"].get("alertname", ""), a["labels"])
        group = a["group"]
        if group in faults and facts.component == Component(faults[group]["kind"],
                                                            faults[group]["cause"]):
            member[key] = group
            continue
        explained = [(at, fault) for at, fault, cause in onsets
                     if at - timedelta(minutes=1) <= t <= at + spread
                     and (cause == facts.component or classifier.explains(cause, facts))]
        member[key] = max(explained)[1] if explained else f"alone:{key}"
    return Grouping(member, {fault: f["cause"] for fault, f in faults.items()})


def score(storm: Storm, grouping: Grouping, window: timedelta) -> Score:
    truth = {key_of(a["fingerprint"], a["startsAt"]): a for a in storm["truth"]["alerts"]}
    keys = sorted(truth)
    predicted = [grouping.member.get(k, f"lost:{k}") for k in keys]
    actual = [truth[k]["group"] for k in keys]
    cells = Counter(zip(predicted, actual, strict=True))
    together = sum(comb(n, 2) for n in cells.values())
    precision = together / max(1, sum(comb(n, 2) for n in Counter(predicted).values()))
    recall = together / max(1, sum(comb(n, 2) for n in Counter(actual).values()))
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    held: dict[str, Counter[str]] = defaultdict(Counter)
    faults_in: dict[str, set[str]] = defaultdict(set)
    for (incident, group), n in cells.items():
        held[group][incident] += n
        if not group.startswith("noise"):
            faults_in[incident].add(group)
    faults = storm["truth"]["faults"]
    right = sum(1 for fault, f in faults.items() if held[fault] and grouping.cause.get(
        held[fault].most_common(1)[0][0]) == f["cause"])
    lifetimes: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    last = max(when(d["at"]) for d in storm["deliveries"])
    for k, incident in zip(keys, predicted, strict=True):
        a = truth[k]
        lifetimes[incident].append((when(a["startsAt"]),
                                    when(a["endsAt"]) if a.get("endsAt") else last))
    return Score(precision, recall, f1, right / max(1, len(faults)), len(set(predicted)),
                 sum(1 for spans in lifetimes.values() if gap(spans) > window),
                 max((len(f) for f in faults_in.values()), default=0))


def gap(spans: Iterable[tuple[datetime, datetime]]) -> timedelta:
    """The longest stretch inside an incident's span when none of its alerts fired."""
    longest, reach = timedelta(0), None
    for start, end in sorted(spans):
        if reach is not None and start > reach:
            longest = max(longest, start - reach)
        reach = end if reach is None else max(reach, end)
    return longest


def by_app(storm: Storm, database_url: str | None) -> Grouping:
    from bench.storm_server import replay_through_http

    return replay_through_http(storm, database_url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("test", "dev"), default="test")
    parser.add_argument("--path", choices=("domain", "app"), default="domain")
    parser.add_argument("--family", help="one family only")
    parser.add_argument("--faults", type=int, help="only storms of this many faults")
    parser.add_argument("--database-url", help="PostgreSQL for --path app (default SQLite)")
    args = parser.parse_args()
    settings = Settings()
    entries = [e for e in frozen(args.split) if (args.family in (None, e["family"]))
               and args.faults in (None, e["faults"])]
    print(f"incident storms ({args.split}, path {args.path}): {len(entries)} storms, "
          f"window {settings.window}, max length {settings.max_length}")
    print(f"{'family':<12} {'faults':>6} {'every':>5} {'seed':>4} {'alerts':>6} | "
          f"{'P':>5} {'R':>5} {'F1':>5} {'root@1':>6} {'inc':>4} {'gaps':>4} {'big':>3} | "
          f"{'AM F1':>5} {'AM root':>7}")
    rows: dict[tuple[str, float], list[tuple[Score, Score, Score]]] = defaultdict(list)
    for e in entries:
        storm = load(e)
        ours = by_domain(storm, settings) if args.path == "domain" else by_app(
            storm, args.database_url)
        mine, theirs = score(storm, ours, settings.window), score(
            storm, by_alertmanager(storm), settings.window)
        ceiling = score(storm, by_ceiling(storm, settings.spread), settings.window)
        rows[(e["family"], e["every"])].append((mine, theirs, ceiling))
        print(f"{e['family']:<12} {e['faults']:>6} {e['every']:>5g} {e['seed']:>4} "
              f"{len(storm['truth']['alerts']):>6} | {mine.precision:>5.2f} "
              f"{mine.recall:>5.2f} {mine.f1:>5.2f} {mine.root:>6.2f} {mine.incidents:>4} "
              f"{mine.gaps:>4} {mine.largest:>3} | {theirs.f1:>5.2f} {theirs.root:>7.2f}")
    print("\nby family and density (mean over its storms)")
    print(f"{'family':<12} {'every':>5} | {'F1':>5} {'root@1':>6} {'min F1':>6} "
          f"{'min root':>8} | {'AM F1':>5} {'AM root':>7} | {'ceiling F1':>10}")
    for (family, every), found in sorted(rows.items(), key=lambda r: (r[0][0], -r[0][1])):
        ours_ = [m for m, _, _ in found]
        print(f"{family:<12} {every:>5g} | {sum(s.f1 for s in ours_) / len(ours_):>5.2f} "
              f"{sum(s.root for s in ours_) / len(ours_):>6.2f} "
              f"{min(s.f1 for s in ours_):>6.2f} {min(s.root for s in ours_):>8.2f} | "
              f"{sum(t.f1 for _, t, _ in found) / len(found):>5.2f} "
              f"{sum(t.root for _, t, _ in found) / len(found):>7.2f} | "
              f"{sum(c.f1 for _, _, c in found) / len(found):>10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
