"""An incident's alerts on the dashboard's time axis: each bar from when Alertmanager said it
started to when it said it ended, on a scale from the incident's opening to its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.pages.incidents import WIDTH, alert_axis

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _event(kind: str, fingerprint: str, said: datetime | None, recorded: datetime
           ) -> dict[str, Any]:
    return {"time": recorded.isoformat(), "event": kind, "fingerprint": fingerprint,
            "actor": "alertmanager", "at": said.isoformat() if said else None}


def test_a_resolved_alert_ends_where_alertmanager_said_and_a_firing_one_runs_on() -> None:
    late = T0 + timedelta(minutes=5)  # altlas heard of both well after they started
    incident = {
        "opened_at": T0.isoformat(), "resolved_at": None,
        "alerts": [{"fingerprint": "aaa", "firing": False}, {"fingerprint": "bbb",
                                                             "firing": True}],
        "timeline": [
            _event("AlertReceived", "aaa", T0, late),
            _event("AlertReceived", "bbb", T0 + timedelta(minutes=2), late),
            _event("IncidentOpened", "", None, late),
            _event("AlertResolved", "aaa", T0 + timedelta(minutes=4), late)]}
    axis = alert_axis(incident, now=T0 + timedelta(minutes=8))
    done, firing = axis.lanes
    assert (done.start, done.end, done.firing) == (0, WIDTH / 2, False)
    assert (firing.start, firing.end, firing.firing) == (WIDTH / 4, WIDTH, True)
    assert [label for _, label in axis.ticks] == ["12:00:00", "12:02:00", "12:04:00",
                                                  "12:06:00", "12:08:00"]


def test_an_alert_whose_start_the_timeline_no_longer_holds_starts_at_the_opening() -> None:
    incident = {"opened_at": T0.isoformat(),
                "resolved_at": (T0 + timedelta(minutes=10)).isoformat(),
                "alerts": [{"fingerprint": "ccc", "firing": False}], "timeline": []}
    (lane,) = alert_axis(incident, now=T0 + timedelta(hours=1)).lanes
    assert (lane.start, lane.end, lane.started_at) == (0, WIDTH, "2026-12-01T12:00:00+00:00")
    assert not lane.firing  # its incident resolved: not drawn as firing for want of an end
