"""Prometheus metrics, read from the stores on each scrape so every process reports the same."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from application.history import EventHistory
from projections.schema import poisoned, positions
from streams.errors import ERRORS
from streams.kafka import KafkaConfig, KafkaUnavailableError, watermarks
from streams.relay import RelayStateStore

log = logging.getLogger("altlas.metrics")


class AltlasCollector(Collector):
    def __init__(self, history: EventHistory, views: Callable[[], Engine],
                 relay_state: Callable[[], RelayStateStore] | None,
                 kafka: KafkaConfig | None,
                 followers: Callable[[], dict[str, int]] = dict,
                 workers: Callable[[], int] | None = None) -> None:
        self.history = history
        self.views = views
        self.relay_state = relay_state
        self.kafka = kafka
        self.followers = followers
        self.workers = workers

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        last = self.history.last_position()
        yield CounterMetricFamily("altlas_events_appended", "Events recorded in the event store",
                                  value=last)
        tracked = GaugeMetricFamily(
            "altlas_follower_position", "The last event a follower (a lane of reactions, a "
            "chat front telling people) has handled", labels=["follower"])
        for name, position in self.followers().items():
            tracked.add_metric([name], position)
        yield tracked
        if self.workers is not None:
            yield GaugeMetricFamily("altlas_workers_live", "Workers whose lease is current",
                                    value=self.workers())
        if self.relay_state is not None:
            state = self.relay_state().load()
            yield GaugeMetricFamily("altlas_relay_published_position",
                                    "Last store position the broker confirmed",
                                    value=state.position)
            yield GaugeMetricFamily("altlas_relay_lag_events",
                                    "Recorded events not yet published to Kafka",
                                    value=max(last - state.position, 0))
        applied = GaugeMetricFamily("altlas_projection_position",
                                    "Last applied position per projection, feed and partition",
                                    labels=["projection", "source", "partition"])
        lag = GaugeMetricFamily("altlas_projection_lag_events",
                                "Events a projection has not applied yet",
                                labels=["projection", "source"])
        bad = GaugeMetricFamily("altlas_poisoned_messages", "Messages set aside per projection",
                                labels=["projection"])
        marks = self._watermarks()
        with self.views().connect() as conn:
            behind: dict[tuple[str, str], int] = {}
            for row in conn.execute(select(positions)):
                applied.add_metric([row.projection, row.source, str(row.partition)], row.position)
                key = (row.projection, row.source)
                if row.source == "store":
                    behind[key] = max(last - row.position, 0)
                elif row.partition in marks:
                    behind[key] = behind.get(key, 0) + max(marks[row.partition] - row.position
                                                           - 1, 0)
            for (projection, source), n in behind.items():
                lag.add_metric([projection, source], n)
            for row in conn.execute(select(poisoned.c.projection, func.count())
                                    .group_by(poisoned.c.projection)):
                bad.add_metric([row[0]], row[1])
        yield applied
        yield lag
        yield bad

    def _watermarks(self) -> dict[int, int]:
        if self.kafka is None:
            return {}
        try:
            return {p: high for p, (_, high) in watermarks(self.kafka, timeout=2.0).items()}
        except KafkaUnavailableError as e:
            log.warning("metrics: %s", e)
            return {}


def registry(collector: AltlasCollector) -> CollectorRegistry:
    reg = CollectorRegistry()
    reg.register(collector)
    reg.register(ERRORS)
    return reg
