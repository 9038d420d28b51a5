"""The advisory locks the workers share the lanes (and the views' feed) with, on the real
PostgreSQL: one holder at a time, released when the holder's session ends however it ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.pg_session_locks import PostgresSessionLocks
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings


@pytest.fixture
def sessions(postgres_url: str, pg_schema: str) -> Iterator[Callable[[str], PostgresSessionLocks]]:
    """Sessions of processes with the store (``schema``: their store's), closed at the end."""
    made: list[PostgresSessionLocks] = []

    def session(schema: str = pg_schema) -> PostgresSessionLocks:
        made.append(PostgresSessionLocks(postgres_url, schema))
        return made[-1]

    yield session
    for locks in made:
        locks.close()


def test_a_lane_held_by_one_process_is_refused_to_another_until_it_lets_go(
        sessions: Callable[..., PostgresSessionLocks]) -> None:
    first, second = sessions(), sessions()
    assert first.try_acquire("lane:runs")
    assert first.try_acquire("lane:runs")  # a holder asking again still holds it
    assert not second.try_acquire("lane:runs")
    assert second.try_acquire("lane:planning")
    first.release("lane:runs")
    assert second.try_acquire("lane:runs")
    assert second.held() == {"lane:runs", "lane:planning"}


def test_a_closed_session_frees_its_lanes_for_the_others(
        sessions: Callable[..., PostgresSessionLocks]) -> None:
    first, second = sessions(), sessions()
    assert first.try_acquire("lane:runs")
    first.close()  # as when its process exits
    assert second.try_acquire("lane:runs")


def test_a_session_the_server_ended_holds_nothing_and_says_so(
        sessions: Callable[..., PostgresSessionLocks], postgres_url: str) -> None:
    locks, other = sessions(), sessions()
    assert locks.try_acquire("lane:runs")
    key = locks._id("lane:runs") & (2**64 - 1)  # as pg_locks shows a bigint key
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        [pid] = [pid for pid, high, low in admin.execute(
            "SELECT pid, classid::bigint, objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 1") if (high << 32) | low == key]
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert locks.held() == frozenset()
    assert other.try_acquire("lane:runs")
    assert not locks.try_acquire("lane:runs")  # reconnected, and refused like anyone


def test_stores_in_other_schemas_do_not_lock_each_other_out(
        sessions: Callable[..., PostgresSessionLocks], pg_schema: str) -> None:
    mine, theirs = sessions(), sessions(pg_schema + "x")
    assert mine.try_acquire("lane:runs")
    assert theirs.try_acquire("lane:runs")


def test_one_process_keeps_the_views_and_another_takes_over_when_it_stops(
        postgres_url: str, pg_schema: str, tmp_path: Path) -> None:
    def process(name: str) -> System:
        return bootstrap(Settings(database_url=f"{postgres_url}?schema={pg_schema}",
                                  views_database_url=f"{postgres_url}?schema={pg_schema}v",
                                  segmenter="rules", data_dir=tmp_path / name))

    first, second = process("first"), process("second")
    stops = [threading.Event(), threading.Event()]
    feeds = [threading.Thread(target=system.store_feed().run, daemon=True,
                              args=(stop, 0.05), kwargs={"turn": system.views_turn()})
             for system, stop in zip((first, second), stops, strict=True)]
    try:
        feeds[0].start()
        time.sleep(0.3)  # the first to start keeps the views
        feeds[1].start()
        task = first.app.request_task("check disk on this host", "deniz")
        shown = until(lambda: second.reads(catch_up=False).timeline(aggregate_id=str(task)))
        assert shown[0]["type"] == "TaskRequested"
        assert not second.views_turn()()  # the first keeps them; the second stands by
        stops[0].set()
        feeds[0].join(timeout=10)
        first.close()  # its session with the store ends, and its hold on the views with it
        later = second.app.request_task("check load on this host", "deniz")
        shown = until(lambda: second.reads(catch_up=False).timeline(aggregate_id=str(later)))
        assert shown[0]["type"] == "TaskRequested"
    finally:
        for stop in stops:
            stop.set()
        feeds[1].join(timeout=10)
        second.close()


def until(found: Callable[[], Any], timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, "the views did not catch up"
        time.sleep(0.05)
    return value
