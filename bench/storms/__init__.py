"""Alert storms written by other hands than the correlator's, each family from its own reading
of how Prometheus and Alertmanager behave (see each module's docstring). Their authors never
saw altlas's correlator; the storms measured are frozen in frozen.json (seeds, sizes and the
sha256 of each storm) before the correlator was tuned, and only measured.

A storm is a dict: ``policy`` (what altlas's policy file is told: hosts and services, perhaps
only part of the world), ``deliveries`` (every webhook call, each an Alertmanager webhook
payload version 4, in order) and ``truth`` (every alert occurrence with the fault it belongs
to, and each fault's cause).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FAMILIES = ("am_routing", "direct_push", "kube_stack")
FROZEN = Path(__file__).with_name("frozen.json")
Storm = dict[str, Any]


def generator(family: str) -> Callable[[int, int, float], Storm]:
    if family not in FAMILIES:
        raise ValueError(f"unknown storm family {family!r}: one of {', '.join(FAMILIES)}")
    return importlib.import_module(f"bench.storms.{family}").generate  # type: ignore[no-any-return]


def digest(storm: Storm) -> str:
    return hashlib.sha256(json.dumps(storm, sort_keys=True).encode()).hexdigest()


def frozen(split: str) -> list[dict[str, Any]]:
    """The storms of a split: ``test`` (frozen before tuning, only measured) or ``dev``."""
    return [s for s in json.loads(FROZEN.read_text())["storms"] if s["split"] == split]


def load(entry: dict[str, Any]) -> Storm:
    """A storm of frozen.json, generated again and checked against its recorded sha256."""
    storm = generator(entry["family"])(entry["seed"], entry["faults"], entry["every"])
    found = digest(storm)
    if found != entry["sha256"]:
        raise ValueError(f"{entry['family']} seed {entry['seed']} ({entry['faults']} faults, "
                         f"every {entry['every']} min) is not the storm frozen: its generator "
                         f"changed (sha256 {found[:12]}, frozen {entry['sha256'][:12]})")
    return storm
