"""What the incidents pages show: the list with each one's likeliest cause, and one incident
with its alerts laid on a time axis (drawn as SVG by the template from the lanes here), its
evidence and its remediation run. Read through the incidents' use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.use_cases import UseCases
from domain.errors import InvalidInputError

STATUSES = ("open", "resolved", "merged")
STARTS = frozenset({"AlertReceived"})
ENDS = frozenset({"AlertResolved", "AlertExpired", "IncidentAlertResolved"})
WIDTH = 720  # the axis's width in SVG user units; the template scales it to the page


def incident_list(uc: UseCases, who: str, status: str | None = None,
                  limit: int = 50) -> list[dict[str, Any]]:
    """The incidents, newest first, each with its likeliest cause (None before one is
    found)."""
    if status and status not in STATUSES:
        raise InvalidInputError(f"status must be one of {', '.join(STATUSES)}, or empty for "
                                "every incident")
    if not 1 <= limit <= 1000:
        raise InvalidInputError("limit must be from 1 to 1000")
    return [{**row, "cause": row["root_causes"][0] if row["root_causes"] else None}
            for row in uc.incidents(who, status=status or None, limit=limit)]


@dataclass(frozen=True)
class Lane:
    """One alert on the axis: when it fired and stopped (x in SVG units), and its marks."""

    fingerprint: str
    start: float
    end: float
    firing: bool  # still firing: the bar runs to the axis's end
    started_at: str
    ended_at: str | None


@dataclass(frozen=True)
class Axis:
    start: str
    end: str
    lanes: list[Lane]
    ticks: list[tuple[float, str]]  # x and its label (HH:MM:SS)


def incident_page(uc: UseCases, who: str, ref: str) -> dict[str, Any]:
    """One incident with its timeline, its alerts on an axis, whether its enrichment found
    a series to chart, and its remediation (with its run once there is one)."""
    found = uc.incident(who, ref)
    evidence = found["evidence"] or {}
    return {**found, "axis": alert_axis(found, uc.now()),
            "cause": found["root_causes"][0] if found["root_causes"] else None,
            "chart": any(m.get("peak") is not None for m in evidence.get("metrics", []))}


def alert_axis(incident: dict[str, Any], now: datetime) -> Axis:
    """Each alert's firing span from the incident's timeline, scaled to the axis: from the
    incident's opening to its resolution (or now while open)."""
    opened = datetime.fromisoformat(incident["opened_at"])
    times = [_when(e) for e in incident["timeline"]]
    closed = (datetime.fromisoformat(incident["resolved_at"]) if incident["resolved_at"]
              else max([now, *times]))
    begin = min([opened, *times])
    seconds = max((closed - begin).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return round((moment - begin).total_seconds() / seconds * WIDTH, 1)

    spans: dict[str, list[datetime | None]] = {}
    for event in incident["timeline"]:
        fingerprint = event["fingerprint"]
        if not fingerprint:
            continue
        at = _when(event)
        span = spans.setdefault(fingerprint, [None, None])
        if event["event"] in STARTS and span[0] is None:
            span[0] = at
        elif event["event"] in ENDS and span[1] is None:
            span[1] = at
    for alert in incident["alerts"]:
        spans.setdefault(alert["fingerprint"], [None, None])
    firing = {a["fingerprint"] for a in incident["alerts"] if a["firing"]}
    lanes = [Lane(fp, x(s or opened), x(e or closed), e is None and fp in firing,
                  (s or opened).isoformat(timespec="seconds"),
                  e.isoformat(timespec="seconds") if e else None)
             for fp, (s, e) in spans.items()]
    ticks = [(round(WIDTH * i / 4, 1),
              (begin + (closed - begin) * i / 4).strftime("%H:%M:%S")) for i in range(5)]
    return Axis(begin.isoformat(timespec="seconds"), closed.isoformat(timespec="seconds"),
                lanes, ticks)


def _when(event: dict[str, Any]) -> datetime:
    """When it happened: as Alertmanager said for an alert's start or end, else when
    altlas recorded it."""
    return datetime.fromisoformat(event.get("at") or event["time"])
