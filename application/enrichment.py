"""What altlas finds out about a new incident before anyone is told: the metrics of its alerts
and of the services it names, around the time it opened, with what left its usual range; the
incidents like it that were resolved before; and a summary of it all.

Prometheus being away never holds an incident back: it is enriched with what could be found,
and says what could not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from application.atlas import Atlas
from application.ports import (
    Clock,
    LanguageModel,
    Metrics,
    MetricsUnavailableError,
    ReadModels,
)
from domain.evidence import SeriesVerdict, expressions, judge

log = logging.getLogger("altlas.enrichment")
BEFORE = timedelta(hours=1)  # the baseline: the hour before the incident opened
AFTER = timedelta(hours=1)  # at most this much after it
POINTS = 240  # samples per series, whatever the span
MAX_QUERIES = 6
SIMILAR = 3
TEMPLATE = "template"
SUMMARY_TOKENS = 160
SUMMARY_CHARS = 1200
SUMMARY_PROMPT = (
    "You are the on-call assistant of an operations team. From the facts below, write at most "
    "three short sentences for the engineer paged: what is wrong, the likely cause and the "
    "evidence for it, and what to check first. Use only the facts given; do not invent hosts, "
    "numbers or commands.")
ANNOTATION = "altlas"  # an alert annotation naming the request that fixes it


@dataclass(frozen=True)
class Findings:
    metrics: list[SeriesVerdict] = field(default_factory=list)
    similar: list[dict[str, Any]] = field(default_factory=list)  # id, title, resolved_at
    problems: list[str] = field(default_factory=list)  # what could not be found, and why
    summary: str = ""
    summarizer: str = TEMPLATE

    def to_event(self) -> dict[str, Any]:
        return {"metrics": [m.to_dict() for m in self.metrics], "similar": self.similar,
                "problems": self.problems, "summary": self.summary,
                "summarizer": self.summarizer}


@dataclass(frozen=True)
class Remedy:
    """What would fix an incident: a request in words, and the plan that did before."""

    request: str
    source: str  # "annotation" or "atlas"
    plan: dict[str, Any] | None = None
    pattern: str | None = None


class Enrichment:
    def __init__(self, metrics: Metrics | None, reads: Callable[[], ReadModels], clock: Clock,
                 queries_of: Callable[[str], tuple[str, ...]],
                 atlas: Callable[[], Atlas] | None = None,
                 model: LanguageModel | None = None) -> None:
        """``queries_of(service)``: the PromQL the policy names for a service; ``model``:
        writes the summary (else the template)."""
        self._metrics = metrics
        self._reads = reads
        self._clock = clock
        self._queries_of = queries_of
        self._atlas = atlas
        self._model = model

    def remedy(self, root_causes: list[dict[str, Any]],
               annotations: list[dict[str, str]]) -> Remedy | None:
        """The request an alert's ``altlas`` annotation names; else the pattern of the
        .atlas, about the likeliest cause, that succeeded most surely (and its latest
        successful plan); else none."""
        for said in annotations:
            if said.get(ANNOTATION, "").strip():
                return Remedy(said[ANNOTATION].strip(), "annotation")
        if self._atlas is None or not root_causes:
            return None
        found = [p for p in self._atlas().patterns(root_causes[0]["component"], imported=False)
                 if p.successes and p.plan is not None and p.requests]
        if not found:
            return None
        best = max(found, key=lambda p: (p.interval[0], p.runs, p.pattern))
        return Remedy(best.requests[-1], "atlas", best.plan, best.pattern)

    def findings(self, incident_id: str, title: str, opened_at: datetime,
                 root_causes: list[dict[str, Any]], generator_urls: list[str]) -> Findings:
        queries = _unique([q for url in generator_urls for q in expressions(url)]
                          + [q for c in root_causes[:2] for q in self._queries_of(
                              c["component"])])[:MAX_QUERIES]
        metrics, problems = self._measure(queries, opened_at)
        similar = self._similar(incident_id, root_causes)
        facts = summary(title, root_causes, metrics, similar, problems)
        if self._model is None:
            return Findings(metrics, similar, problems, facts)
        try:
            written = self._model.complete([
                {"role": "system", "content": SUMMARY_PROMPT},
                {"role": "user", "content": facts}], max_tokens=SUMMARY_TOKENS).strip()
        except Exception as e:  # a model that fails must not hold the incident back
            log.warning("incident %s: the model's summary failed (%s); the template's",
                        incident_id, e)
            return Findings(metrics, similar, [*problems, f"summary by {self._model.name} "
                                               f"failed: {type(e).__name__}"], facts)
        if not written:
            return Findings(metrics, similar, problems, facts)
        return Findings(metrics, similar, problems, written[:SUMMARY_CHARS], self._model.name)

    def _measure(self, queries: list[str], opened_at: datetime
                 ) -> tuple[list[SeriesVerdict], list[str]]:
        if not queries:
            return [], ["no PromQL to query: the alerts name none (generatorURL) and the "
                        "policy names none for their services (services.NAME.queries)"]
        if self._metrics is None:
            return [], ["no Prometheus is configured: set ALTLAS_PROMETHEUS_URL"]
        start = opened_at - BEFORE
        end = max(min(self._clock(), opened_at + AFTER), opened_at + timedelta(seconds=1))
        step = max(1.0, round((end - start).total_seconds() / POINTS))
        verdicts, problems = [], []
        for query in queries:
            try:
                found = self._metrics.series(query, start, end, step)
            except MetricsUnavailableError as e:
                problems.append(str(e))
                break  # the same server for every query
            verdicts += [judge(query, labels, points, opened_at.timestamp())
                         for labels, points in found]
        return verdicts, problems

    def _similar(self, incident_id: str, root_causes: list[dict[str, Any]]
                 ) -> list[dict[str, Any]]:
        """Resolved incidents whose likeliest cause was this one's, newest first, each with
        what was run to remedy it and how that went."""
        if not root_causes:
            return []
        found = [i for i in self._reads().incidents(
            status="resolved", root=root_causes[0]["component"], limit=SIMILAR + 1)
            if i["incident_id"] != incident_id][:SIMILAR]
        remedies = {i["incident_id"]: i["remediation"] for i in found if i["remediation"]}
        ran = self._reads().runs_of([r["task_id"] for r in remedies.values()])
        similar = []
        for i in found:
            remedy = remedies.get(i["incident_id"])
            run_id, outcome = ran.get(remedy["task_id"], (None, None)) if remedy else (None, None)
            similar.append({
                "id": i["incident_id"], "title": i["title"],
                "resolved_at": i["resolved_at"].isoformat() if i["resolved_at"] else None,
                "remedy": {"request": remedy["request"], "task_id": remedy["task_id"],
                           "run_id": run_id, "outcome": outcome} if remedy else None})
        return similar


def summary(title: str, root_causes: list[dict[str, Any]], metrics: list[SeriesVerdict],
            similar: list[dict[str, Any]], problems: list[str]) -> str:
    """The template summary: what a person reads first."""
    said = [f"{title}."]
    if root_causes:
        said.append(f"Likely cause: {root_causes[0]['component']} "
                    f"({root_causes[0]['evidence'].split(';')[0]}).")
    odd = [m for m in metrics if m.anomalous]
    if metrics:
        said.append(f"{len(odd)} of {len(metrics)} series out of their usual range"
                    + (":" if odd else "."))
    for m in odd[:2]:
        z = f"z {m.z:g}" if m.z is not None else "after a flat hour"
        said.append(f"{m.series or m.query} at {_number(m.peak)} ({z}; median "
                    f"{_number(m.baseline_median)} the hour before).")
    if similar:
        said.append(f"Seen before: {len(similar)} resolved incident(s) with the same cause, "
                    f"latest “{similar[0]['title']}”.")
        fixed = next((s["remedy"] for s in similar
                      if (s.get("remedy") or {}).get("outcome") == "succeeded"), None)
        if fixed is not None:
            said.append(f"“{fixed['request']}” fixed one of them (run {fixed['run_id'][:8]}).")
    if problems:
        said.append(f"Not checked: {problems[0]}")
    return " ".join(said)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def generator_urls(alerts: Mapping[str, Any]) -> list[str]:
    """The generatorURL of each alert aggregate, in the order of their ids."""
    return [alerts[a].generator_url for a in sorted(alerts) if alerts[a].generator_url]


def key_series(metrics: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The series to show: the most anomalous (a change after a flat hour counts as the
    most), else the first with a line to draw."""
    drawn = [m for m in metrics if len(m["points"]) >= 2]
    odd = [m for m in drawn if m["anomalous"]]
    if odd:
        return max(odd, key=lambda m: float("inf") if m["z"] is None else abs(m["z"]))
    return drawn[0] if drawn else None
