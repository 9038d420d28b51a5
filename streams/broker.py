"""Whether the Kafka broker answers, said once when it goes away and once when it is back.

librdkafka reports a refused connection from every client, many times a second, for as long
as the broker is away. Those reports reach our code through ``error_cb`` and become one
state per broker address in this process; the library's own log lines about them are
dropped (the state says it), every other line of the library's log passes.
"""

from __future__ import annotations

import logging
import threading
import time

from confluent_kafka import KafkaError

log = logging.getLogger("altlas.kafka")

# What librdkafka calls a broker out of reach (not a refusal of what was asked).
_AWAY = frozenset({KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE})
_AWAY_LOG = ("Connection refused", "brokers are down", "Connect to ", "Disconnected",
             "Connection reset", "Failed to resolve", "timed out",
             # while a broker comes back: partition leaders and coordinators still loading,
             # which librdkafka retries by itself, several times a second
             "not found in cache", "Coordinator load in progress")


class BrokerWatch:
    """The broker at one address, as this process last saw it."""

    def __init__(self, servers: str) -> None:
        self.servers = servers
        self._lock = threading.Lock()
        self._away_since: float | None = None

    @property
    def away(self) -> bool:
        return self._away_since is not None

    def went_away(self, why: str) -> None:
        with self._lock:
            if self._away_since is not None:
                return
            self._away_since = time.monotonic()
        log.warning("the Kafka broker at %s cannot be reached (%s); commands are still "
                    "recorded, and published when it is back", self.servers, why)

    def answered(self) -> None:
        with self._lock:
            since, self._away_since = self._away_since, None
        if since is not None:
            log.warning("the Kafka broker at %s is back after %.0f s", self.servers,
                        time.monotonic() - since)


_WATCHES: dict[str, BrokerWatch] = {}
_GUARD = threading.Lock()


def watch(servers: str) -> BrokerWatch:
    with _GUARD:
        return _WATCHES.setdefault(servers, BrokerWatch(servers))


def on_error(servers: str, what: str) -> ErrorCallback:
    """librdkafka's ``error_cb`` for a client of ``servers``."""
    return ErrorCallback(watch(servers), what)


class ErrorCallback:
    def __init__(self, broker: BrokerWatch, what: str) -> None:
        self.broker = broker
        self.what = what

    def __call__(self, error: KafkaError) -> None:
        if error.code() in _AWAY:
            self.broker.went_away(error.str())
        else:
            log.error("%s: %s: %s", self.what, error.name(), error.str())


class QuietWhileAway(logging.Filter):
    """Drops librdkafka's own lines about an unreachable or returning broker (``error_cb``
    says once that it went away and once that it is back)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.msg == "%s [%s] %s" and isinstance(args, tuple) and len(args) == 3:
            return not any(part in str(args[2]) for part in _AWAY_LOG)
        return True


log.addFilter(QuietWhileAway())
