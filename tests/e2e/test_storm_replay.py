"""A storm written elsewhere, posted to the webhook of a real server and correlated by its
worker through the events, groups exactly as the domain correlator fed the same deliveries:
what bench/incident_storms.py measures on the domain is what users get."""

from __future__ import annotations

import pytest

from bench.incident_storms import Grouping, by_domain
from bench.storm_server import replay_through_http
from bench.storms import frozen, load
from domain.correlation import Settings


def causes(grouping: Grouping) -> dict[frozenset[str], str]:
    """Each incident as the set of its occurrences, with its likeliest cause."""
    found: dict[str, set[str]] = {}
    for key, incident in grouping.member.items():
        found.setdefault(incident, set()).add(key)
    return {frozenset(keys): grouping.cause[i] for i, keys in found.items()}


@pytest.mark.parametrize("family", ["direct_push", "kube_stack"])
def test_the_whole_path_groups_a_storm_as_the_domain_correlator_does(family: str) -> None:
    [entry] = [e for e in frozen("dev") if (e["family"], e["seed"], e["faults"], e["every"])
               == (family, 1, 8, 30.0)]
    storm = load(entry)
    served = replay_through_http(storm, None)
    alone = by_domain(storm, Settings())
    assert set(served.member) == set(alone.member)  # every occurrence, once
    assert causes(served) == causes(alone)  # the same incidents, each with the same cause
