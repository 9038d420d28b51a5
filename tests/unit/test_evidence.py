"""Which series left their usual range when an incident opened, and which PromQL an alert
names."""

from __future__ import annotations

import pytest

from domain.evidence import Z_LIMIT, expressions, judge

OPENED = 3600.0


def series(before: list[float], after: list[float]) -> list[tuple[float, float]]:
    return ([(OPENED - 60 * (len(before) - i), v) for i, v in enumerate(before)]
            + [(OPENED + 60 * i, v) for i, v in enumerate(after)])


def test_a_jump_far_outside_the_hours_spread_is_anomalous() -> None:
    verdict = judge("q", "s", series([10, 11, 9, 10, 12, 10, 9, 11], [10, 30, 11]), OPENED)
    assert verdict.anomalous and verdict.peak == 30 and verdict.baseline_median == 10
    assert verdict.z is not None and verdict.z > Z_LIMIT
    assert verdict.peak_at == OPENED + 60


def test_noise_like_the_hour_before_is_not() -> None:
    verdict = judge("q", "s", series([10, 14, 6, 10, 13, 7, 10, 12], [12, 8, 13]), OPENED)
    assert not verdict.anomalous and verdict.z is not None and abs(verdict.z) < Z_LIMIT


def test_a_drop_counts_like_a_rise() -> None:
    verdict = judge("q", "s", series([100, 101, 99, 100, 102, 98], [100, 2]), OPENED)
    assert verdict.anomalous and verdict.peak == 2 and verdict.z is not None and verdict.z < 0


def test_a_flat_hour_falls_back_to_the_mean_deviation_then_to_any_change() -> None:
    mostly_flat = judge("q", "s", series([0, 0, 0, 0, 0, 0, 0, 1], [0, 9]), OPENED)
    assert mostly_flat.anomalous and mostly_flat.z is not None  # MAD 0, mean deviation not
    flat = judge("q", "s", series([0] * 8, [0, 1]), OPENED)
    assert flat.anomalous and flat.z is None and flat.peak == 1
    still = judge("q", "s", series([0] * 8, [0, 0]), OPENED)
    assert not still.anomalous


def test_without_an_hour_before_nothing_is_called_anomalous() -> None:
    verdict = judge("q", "s", series([], [1, 50, 3]), OPENED)
    assert not verdict.anomalous and verdict.baseline_median is None and verdict.peak == 3


@pytest.mark.parametrize(("url", "found"), [
    ("http://prom:9090/graph?g0.expr=altlas_test_signal+%3E+0&g0.tab=1",
     ["altlas_test_signal"]),
    ("http://prom:9090/graph?g0.expr=rate%28http_errors_total%5B5m%5D%29+%3E%3D+0.05",
     ["rate(http_errors_total[5m])"]),
    ("http://prom:9090/graph?g0.expr=up+%3D%3D+bool+0", ["up"]),
    ("http://prom:9090/graph?g0.expr=absent%28up%7Bjob%3D%22db%22%7D%29", ['absent(up{job="db"})']),
    ("http://prom:9090/graph?g0.expr=a+%3E+b", ["a > b"]),  # two series compared: kept whole
    ("", []),
    ("not a url at all", []),
])
def test_the_series_of_an_alerts_generator_url(url: str, found: list[str]) -> None:
    assert expressions(url) == found
