"""A storm written elsewhere, played as Prometheus sends alerts into the real Alertmanager
(its grouping, repeats and resolved notices), Alertmanager posting to altlas: every alert it
notified recorded once, each in one incident, incidents resolving with their alerts, and the
incidents closer to what happened than Alertmanager's own groups."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.alertmanager_storm import through_alertmanager
from bench.incident_storms import key_of, score
from bench.storms import frozen, load
from domain.correlation import Settings

pytestmark = pytest.mark.long(110)  # seconds, about

SPEED = 180  # a storm minute in a third of a second: 5 storm hours in 100 s; faster, and
# group_wait (83 ms at 360) is within the scheduling jitter of a loaded 2-core machine


def test_a_storm_through_the_real_alertmanager_is_recorded_once_and_grouped_by_cause() -> None:
    [entry] = [e for e in frozen("dev") if (e["family"], e["seed"], e["faults"], e["every"])
               == ("am_routing", 1, 8, 30.0)]
    storm = load(entry)
    mine, theirs, played, still_open = through_alertmanager(storm, SPEED)
    truth = {key_of(a["fingerprint"], a["startsAt"]): a for a in storm["truth"]["alerts"]}
    reached = set(mine.member)
    assert len(reached) >= 0.8 * len(truth)  # what fired past group_wait reached altlas
    assert reached <= set(truth)  # nothing made up, nothing twice (keys are occurrences)
    faults = Counter(truth[k]["group"] for k in reached if truth[k]["group"].startswith("fault"))
    assert len(faults) == len(storm["truth"]["faults"])  # every fault was seen
    only = {**storm, "truth": {**storm["truth"], "alerts": [truth[k] for k in sorted(reached)]}}
    ours = score(only, mine, Settings().window)
    alertmanagers = score(only, theirs, Settings().window)
    assert ours.f1 > alertmanagers.f1 and ours.root > alertmanagers.root, (ours, alertmanagers)
    assert ours.gaps == 0
    assert still_open == 0  # every alert ended, told by Alertmanager: so did every incident
    assert played.took < 200
