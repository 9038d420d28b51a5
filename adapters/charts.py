"""Pictures with matplotlib (leaderboards, incidents, trainings): small PNGs for a chat thread.

A Figure of its own per chart (drawn by the Agg canvas), never pyplot's global state, so the HTTP
server's threads can draw at once. matplotlib is imported with the first chart: it takes over
a second, which a command that draws nothing should not pay.
"""

from __future__ import annotations

import io
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SIZE = (6.4, 3.6)
DPI = 100
INK, BAND, GOOD, BAD = "#1f4e79", "#9dc3e6", "#2e7d32", "#c62828"
EPOCH = date(1970, 1, 1)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _day(iso: str) -> float:
    """A date as matplotlib's date axis counts: days since 1970-01-01."""
    return float((date.fromisoformat(iso) - EPOCH).days)


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class MatplotlibCharts:
    def success_over_time(self, title: str, points: list[dict[str, Any]]) -> bytes:
        from matplotlib.dates import AutoDateLocator, DateFormatter

        figure = _figure(*SIZE)
        ax = figure.add_subplot()
        when = [_day(p["from"]) for p in points]
        ax.fill_between(when, [p["interval"][0] * 100 for p in points],
                        [p["interval"][1] * 100 for p in points], color=BAND, alpha=0.6,
                        label="95% interval")
        ax.plot(when, [p["success_rate"] * 100 for p in points], marker="o", color=INK,
                label="success rate", zorder=3)
        for x, p in zip(when, points, strict=True):
            ax.annotate(f"{p['successes']}/{p['runs']}", (x, p["success_rate"] * 100),
                        textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
        ax.set_ylim(0, 105)
        ax.set_ylabel("% of runs succeeded")
        ax.set_title(_short(title), fontsize=9)
        ax.legend(loc="lower left", fontsize=7)
        if len(when) <= 8:
            ax.set_xticks(when)
        else:
            ax.xaxis.set_major_locator(AutoDateLocator(maxticks=8))  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_formatter(DateFormatter("%d %b"))  # type: ignore[no-untyped-call]
        if len(when) == 1:
            ax.set_xlim(when[0] - 1, when[0] + 1)
            ax.errorbar(when, [points[0]["success_rate"] * 100],
                        yerr=[[(points[0]["success_rate"] - points[0]["interval"][0]) * 100],
                              [(points[0]["interval"][1] - points[0]["success_rate"]) * 100]],
                        color=BAND, elinewidth=6, fmt="none", zorder=1)
        return _png(figure)

    def ratings(self, title: str, ratings: list[dict[str, Any]]) -> bytes:
        height = max(2.0, 0.45 * len(ratings) + 1.2)
        figure = _figure(SIZE[0], height)
        ax = figure.add_subplot()
        shown = list(reversed(ratings))  # best on top
        y = range(len(shown))
        values = [r["rating"] for r in shown]
        ax.errorbar(values, y, xerr=[[max(0.0, r["rating"] - r["interval"][0]) for r in shown],
                                     [max(0.0, r["interval"][1] - r["rating"]) for r in shown]],
                    fmt="o", color=INK, ecolor=BAND, elinewidth=4, capsize=3)
        ax.set_yticks(list(y), [f"{_short(r['planner'], 30)} ({r['matches']})" for r in shown],
                      fontsize=8)
        ax.axvline(1000, color=GOOD, linewidth=0.8, linestyle=":")
        ax.set_xlabel("rating (95% interval); matches in brackets")
        ax.set_title(_short(title), fontsize=9)
        return _png(figure)

    def metric(self, title: str, points: list[tuple[float, float]], opened_at: float,
               peak_at: float | None) -> bytes:
        from datetime import UTC, datetime

        from matplotlib.dates import DateFormatter, date2num

        def when(seconds: float) -> float:
            return float(date2num(datetime.fromtimestamp(seconds, UTC)))  # type: ignore[no-untyped-call]

        figure = _figure(*SIZE)
        ax = figure.add_subplot()
        ax.plot([when(t) for t, _ in points], [v for _, v in points], color=INK, linewidth=1.2,
                label="value")
        ax.axvline(when(opened_at), color=BAD, linestyle="--", linewidth=0.9,
                   label="incident opened")
        if peak_at is not None:
            peak = next((v for t, v in points if t == peak_at), None)
            if peak is not None:
                ax.plot([when(peak_at)], [peak], "o", color=BAD, markersize=7,
                        label="anomaly", zorder=3)
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M", tz=UTC))  # type: ignore[no-untyped-call]
        ax.set_title(_short(title), fontsize=9)
        ax.set_xlabel("UTC")
        ax.legend(loc="upper left", fontsize=7)
        return _png(figure)

    def comparison(self, title: str, groups: list[str], series: dict[str, list[float]],
                   unit: str) -> bytes:
        figure = _figure(*SIZE)
        ax = figure.add_subplot()
        width = 0.8 / max(len(series), 1)
        shades = (BAND, INK, GOOD, BAD)
        for i, (name, values) in enumerate(series.items()):
            xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
            bars = ax.bar(xs, values, width, label=name, color=shades[i % len(shades)])
            ax.bar_label(bars, fmt="%g", fontsize=7)
        ax.set_xticks(range(len(groups)), groups)
        ax.set_ylabel(unit)
        ax.set_title(_short(title), fontsize=9)
        ax.legend(loc="upper right", fontsize=7)
        return _png(figure)

    def loss_curve(self, title: str, points: list[tuple[int, float]]) -> bytes:
        from matplotlib.ticker import MaxNLocator

        figure = _figure(*SIZE)
        ax = figure.add_subplot()
        ax.plot([s for s, _ in points], [loss for _, loss in points], color=INK, linewidth=1.2,
                marker="o" if len(points) <= 30 else None, markersize=3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("step")
        ax.set_ylabel("loss (on the plan)")
        ax.set_title(_short(title), fontsize=9)
        if len(points) == 1:
            ax.set_xlim(points[0][0] - 1, points[0][0] + 1)
        return _png(figure)
