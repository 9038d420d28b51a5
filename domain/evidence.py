"""What the metrics around an incident say: which series left their usual range, and by how
much. Pure arithmetic on samples someone else fetched.

A series is anomalous when a sample after the incident opened lies more than ``Z_LIMIT``
robust z-scores from the median of the hour before (Iglewicz and Hoaglin's modified z-score:
0.6745 · (x − median) / MAD). A flat hour (MAD 0) falls back to the mean absolute deviation
(scaled by 1.2533 to match a normal spread); flat on both counts, any change is anomalous.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

Z_LIMIT = 3.5
_MAD_SCALE = 0.6745
_MEAN_AD_SCALE = 1.2533
# `expr > 0.9`: the threshold of an alerting rule; its left side is the series to look at
_THRESHOLD = re.compile(r"^\s*(?P<series>.+?)\s*(?:>=|<=|==|!=|>|<)\s*(?:bool\s+)?"
                        r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$", re.S)


@dataclass(frozen=True)
class SeriesVerdict:
    query: str
    series: str  # its labels, as PromQL writes them
    baseline_median: float | None
    spread: float | None  # the MAD (or its fallback) of the hour before; None: no baseline
    peak: float | None  # the sample after the opening furthest from the median
    peak_at: float | None  # its time, seconds since the epoch
    z: float | None  # its robust z-score; None when the baseline was flat
    anomalous: bool
    points: list[tuple[float, float]]

    def to_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["points"] = [list(p) for p in self.points]
        return found


def expressions(generator_url: str) -> list[str]:
    """The PromQL of an alert's generatorURL (`…/graph?g0.expr=…`), thresholds taken off."""
    query = parse_qs(urlsplit(generator_url).query)
    found = []
    for key in sorted(k for k in query if re.fullmatch(r"g\d+\.expr", k)):
        for expr in query[key]:
            m = _THRESHOLD.match(expr)
            found.append(m.group("series") if m else expr)
    return found


def judge(query: str, series: str, points: list[tuple[float, float]], opened_at: float
          ) -> SeriesVerdict:
    """Compare the samples from ``opened_at`` on with the ones before it."""
    before = [v for t, v in points if t < opened_at]
    after = [(t, v) for t, v in points if t >= opened_at]
    if not before or not after:
        last = after[-1] if after else None
        return SeriesVerdict(query, series, None, None, last[1] if last else None,
                             last[0] if last else None, None, False, points)
    median = statistics.median(before)
    peak_at, peak = max(after, key=lambda p: abs(p[1] - median))
    mad = statistics.median(abs(v - median) for v in before)
    if mad > 0:
        z: float | None = _MAD_SCALE * (peak - median) / mad
        spread: float = mad
    else:
        mean_ad = statistics.fmean(abs(v - median) for v in before)
        spread = mean_ad * _MEAN_AD_SCALE
        z = (peak - median) / spread if spread > 0 else None
    anomalous = abs(z) > Z_LIMIT if z is not None else peak != median
    return SeriesVerdict(query, series, median, spread, peak, peak_at,
                         round(z, 2) if z is not None else None, anomalous, points)
