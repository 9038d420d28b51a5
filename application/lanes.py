"""The lanes by name, and where each starts in the events: what opening a store needs of
them, without importing the reactions (which import every area's use of them)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from application.app import AltlasApplication

log = logging.getLogger("altlas.policies")

# In the order workers share them out (application/reactions LANES gives each its events).
LANE_NAMES = ("runs", "planning", "incidents", "runs.1", "enrichment")


def tracking_name(lane: str) -> str:
    return f"altlas.policies.{lane}"


def begin_tracking(app: AltlasApplication, lanes: Iterable[str]) -> None:
    """Each lane starts where the store stands when this release first opens it: from the
    beginning on a new store, after the last event on a store whose earlier events the
    fronts of an earlier release took on themselves. A share of a lane split since ("runs.1"
    of "runs") starts where the lane stood, so no event falls between them."""
    for lane in lanes:
        name = tracking_name(lane)
        if app.tracked(name) is not None:
            continue
        start = app.tracked(tracking_name(lane.partition(".")[0])) if "." in lane else None
        if start is None:
            start = app.recorder.max_notification_id() or 0
        if start:
            log.info("%s: reacting to events after position %d", name, start)
        app.track(name, start)  # (or another process started it at the same moment)
