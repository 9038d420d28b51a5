"""What the voice tests count (the requests a clip could have left behind) and wait for."""

from __future__ import annotations

import time

from altlas.bootstrap import System
from application.ports import SpeechWarmingError

ASKING = frozenset({"TaskRequested", "HearingDoubted"})


def asked(system: System) -> int:
    """How many requests (typed, heard, or held for their speaker) the store records: a
    refused clip adds none, whatever the workers record meanwhile for earlier ones."""
    return sum(1 for e in system.history.read() if e.type_name in ASKING)


def warmed(system: System) -> None:
    """The speech model loaded, as a serving desk warms it at start: a clip sent during the
    load is answered "send it again" by design (tests/integration/test_voice_http.py), and on
    a loaded machine the load outlasted a test's wait for its first clip."""
    ears = system.ears
    assert ears is not None, "the speech extra is not installed: scripts/venv.sh speech"
    deadline = time.monotonic() + 300
    while True:
        try:
            ears.transcriber()
            return
        except SpeechWarmingError:
            assert time.monotonic() < deadline, "the speech model never finished loading"
            time.sleep(0.2)
