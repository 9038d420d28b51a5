"""What the voice tests count: the requests a clip could have left behind."""

from __future__ import annotations

from altlas.bootstrap import System

ASKING = frozenset({"TaskRequested", "HearingDoubted"})


def asked(system: System) -> int:
    """How many requests (typed, heard, or held for their speaker) the store records: a
    refused clip adds none, whatever the workers record meanwhile for earlier ones."""
    return sum(1 for e in system.history.read() if e.type_name in ASKING)
