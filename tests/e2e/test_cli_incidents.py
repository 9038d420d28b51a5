"""An on-call engineer reads the incidents on the command line: the open ones with their
likely cause, one with its timeline, and what a bad question gets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from altlas.bootstrap import bootstrap
from altlas.settings import Settings
from domain.alerts import IncomingAlert
from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def alert(fingerprint: str, name: str, instance: str, minute: int,
          ends: int | None = None) -> IncomingAlert:
    return IncomingAlert(fingerprint, {"alertname": name, "instance": instance},
                         {"summary": f"{name} on {instance}"}, T0 + timedelta(minutes=minute),
                         None if ends is None else T0 + timedelta(minutes=ends), {},
                         resolved=ends is not None)


@pytest.fixture
def alerted(env: dict[str, str]) -> dict[str, str]:
    """What Alertmanager sent a serving altlas: postgres down, then web slow; and an older
    disk alert that resolved. Its worker correlated them."""
    system = bootstrap(Settings(data_dir=Path(env["ALTLAS_DATA_DIR"]), segmenter="rules"))
    try:
        for sent in (alert("d15c", "DiskFull", "web-2:9100", -90),
                     alert("d15c", "DiskFull", "web-2:9100", -90, ends=-80),
                     alert("db01", "PostgresDown", "db-1:9187", 0),
                     alert("web1", "HighLatency", "web-1:9100", 2)):
            system.app.receive_alert(sent)
        system.worker().until_quiet()
    finally:
        system.close()
    return env


def test_open_incidents_and_one_with_its_timeline(alerted: dict[str, str]) -> None:
    listed = altlas(alerted, "incidents")
    assert listed.returncode == 0, listed.stderr
    first, cause = listed.stdout.splitlines()[:2]
    assert "PostgresDown on postgres · open · 2 of 2 alert(s) firing · since 2026-12-01 12:00" \
        in first
    assert cause.startswith("   likely cause: postgres (1 alerting component(s) depend on it")
    every = json.loads(altlas(alerted, "incidents", "--status", "all", "--json").stdout)
    assert [(i["title"], i["status"]) for i in every] == [
        ("PostgresDown on postgres", "open"), ("DiskFull on web-2", "resolved")]
    one = altlas(alerted, "incidents", every[0]["id"][:8])
    assert one.returncode == 0
    events = [line.split()[2] for line in one.stdout.splitlines() if line.startswith("   2026")]
    assert events[:3] == ["AlertReceived", "AlertReceived", "IncidentOpened"]
    assert sorted(events[3:]) == ["AlertsCorrelated", "IncidentEnriched"]
    assert "   found: PostgresDown on postgres. Likely cause: postgres (" in one.stdout
    assert "Not checked: no PromQL to query" in one.stdout


def test_a_bad_question_is_refused_with_what_to_do(alerted: dict[str, str]) -> None:
    assert one_line_error(altlas(alerted, "incidents", "ffffff")) == (
        "altlas: no incident has an id starting with ffffff")
    assert one_line_error(altlas(alerted, "incidents", "x")).startswith(
        "altlas: 'x' is not an incident id: give one whole, or its first 6 characters")
    assert one_line_error(altlas(alerted, "incidents", "--chart", "x.png")) == (
        "altlas: --chart draws one incident: give its id")
    listed = json.loads(altlas(alerted, "incidents", "--json").stdout)
    undrawn = one_line_error(altlas(alerted, "incidents", listed[0]["id"][:8], "--chart",
                                    "x.png"))
    assert undrawn.startswith("altlas: incident ") and "has no metric to draw" in undrawn
    refused = altlas(alerted, "incidents", "--status", "burning")
    assert refused.returncode == 2 and "invalid choice: 'burning'" in refused.stderr
