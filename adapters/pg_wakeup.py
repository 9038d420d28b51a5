"""Wakes this process's followers when another process records events in PostgreSQL.

The event store's recorder sends NOTIFY on a channel named after the events table with every
insert; this listens on it and signals the application, so followers react within
milliseconds instead of at their next poll (which stays, as the fallback).
"""

from __future__ import annotations

import logging
import threading

import psycopg

from application.signal import Signal

log = logging.getLogger("altlas.wakeup")


class PostgresWakeup:
    def __init__(self, conninfo: str, channel: str, signal: Signal) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._signal = signal
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> PostgresWakeup:
        if self._thread is None:
            self._thread = threading.Thread(target=self._listen, name="pg-wakeup", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'LISTEN "{self._channel}"')
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self._signal.notify()
            except psycopg.Error as e:
                log.warning("listening for new events failed (%s); polling until it is back",
                            " ".join(str(e).split()))
                self._stop.wait(2.0)
