"""An alert occurrence as Alertmanager counts them: recorded once, its expected end moved on
only forward, over once (resolved or expired, never both), and events recorded before release
0.5 read in today's shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.alerts import EXPIRED, FIRING, RESOLVED, Alert, AlertAlreadyResolvedError
from domain.catalog import upcast
from domain.records import RecordedEvent
from testkit.helpers import meta

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def alert(ends: datetime | None = None) -> Alert:
    return Alert.receive("a1b2c3d4e5f60718", {"alertname": "HighLatency"}, {}, T0, T0, meta(),
                         ends)


def test_an_end_sent_with_a_firing_alert_is_expected_and_moves_only_forward() -> None:
    a = alert(T0 + timedelta(minutes=4))
    assert a.expected_end == (T0 + timedelta(minutes=4)).isoformat()
    assert a.refresh(T0 + timedelta(seconds=10), T0 + timedelta(minutes=6), meta())
    assert a.expected_end == (T0 + timedelta(minutes=6)).isoformat()
    # a stale copy (an earlier end) and a quick duplicate record nothing
    assert not a.refresh(T0 + timedelta(seconds=20), T0 + timedelta(minutes=5), meta())
    assert a.expected_end == (T0 + timedelta(minutes=6)).isoformat()


def test_alertmanagers_year_one_end_is_no_end() -> None:
    assert alert(datetime(1, 1, 1, tzinfo=UTC)).expected_end is None


def test_a_repeat_records_its_last_seen_time_only_once_a_minute() -> None:
    a = alert()
    assert not a.refresh(T0 + timedelta(seconds=59), None, meta())
    assert a.refresh(T0 + timedelta(minutes=1), None, meta())
    assert a.last_seen == (T0 + timedelta(minutes=1)).isoformat()


def test_an_occurrence_ends_once_resolved_or_expired_never_both() -> None:
    expired = alert(T0 + timedelta(minutes=4))
    assert expired.expire(T0 + timedelta(minutes=4), "its endsAt passed", meta())
    assert expired.status == EXPIRED
    assert not expired.resolve(T0 + timedelta(minutes=9), meta())  # a late notice: nothing
    assert not expired.expire(T0 + timedelta(minutes=5), "again", meta())
    with pytest.raises(AlertAlreadyResolvedError):
        expired.refresh(T0 + timedelta(minutes=10), None, meta())
    resolved = alert()
    assert resolved.resolve(T0 + timedelta(minutes=3), meta()) and resolved.status == RESOLVED
    assert not resolved.expire(T0 + timedelta(minutes=4), "its endsAt passed", meta())
    assert alert().status == FIRING


def _old(type_name: str, state: dict[str, object]) -> RecordedEvent:
    return RecordedEvent(position=None, aggregate_id=uuid4(), version=1, type_name=type_name,
                         state={**state, "class_version": 1})


def test_alerts_recorded_before_their_expected_end_was_kept_read_as_none() -> None:
    assert upcast(_old("AlertReceived", {"fingerprint": "f"})).state["ends_at"] is None
    assert upcast(_old("AlertRefreshed", {"last_seen": "x"})).state["ends_at"] is None


def test_incidents_recorded_by_fingerprint_read_by_alert() -> None:
    opened = upcast(_old("IncidentOpened", {"alerts": {"f1": "id-1", "f2": "id-2"}}))
    assert opened.state["alerts"] == {"id-1": "f1", "id-2": "f2"}
    joined = upcast(_old("AlertsCorrelated", {"alerts": {"f3": "id-3"}}))
    assert joined.state["alerts"] == {"id-3": "f3"}
    left = upcast(_old("IncidentAlertResolved", {"fingerprint": "f1"}))
    assert left.state["alert_id"] is None and left.state["fingerprint"] == "f1"
