"""The distributed path recovers in seconds: a projector killed and restarted reads on at
once, installations sharing a broker never wait for each other, and a relay started while
the broker is away keeps running and says so once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from altlas.bootstrap import System, bootstrap
from streams.feeds import behind, kafka_source
from testkit.backends import Backend, OnPostgres, SQLiteBackend
from testkit.journeys import journey, process_env
from testkit.soak import run_soak
from tests.integration.test_streams import kafka_settings, publish_all


def projector(system: System, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **process_env(system.settings), "ALTLAS_LOG_LEVEL": "INFO"}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "altlas", "project", "--from", "kafka",
                                 "--projection", "timeline"], env=env,
                                stdout=subprocess.DEVNULL, stderr=out)


def applied_everything(system: System) -> bool:
    [runner] = system.runners(kafka_source(system.kafka()), ["timeline"])
    return behind(system.kafka(), runner) == 0


def seconds_until_applied(system: System, timeout: float = 60) -> float:
    start = time.monotonic()
    while not applied_everything(system):
        assert time.monotonic() - start < timeout, "the projector did not apply the events"
        time.sleep(0.05)
    return time.monotonic() - start


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


class TestProjectorRecovery(OnPostgres):
    @pytest.fixture
    def system(self, backend: Backend, kafka_bootstrap: str, topic_prefix: str
               ) -> Iterator[System]:
        system = bootstrap(kafka_settings(backend, kafka_bootstrap, topic_prefix))
        yield system
        system.close()

    def test_a_projector_killed_and_restarted_applies_new_events_within_seconds(
        self, system: System, tmp_path: Path
    ) -> None:
        journey(system, tmp_path)
        publish_all(system.relay())
        first = projector(system, tmp_path / "projector.log")
        try:
            seconds_until_applied(system)
            kill(first)  # as kill -9: its group membership, if any, is left to time out
            second = projector(system, tmp_path / "projector.log")
            try:
                journey(system, tmp_path)
                publish_all(system.relay())
                took = seconds_until_applied(system)
            finally:
                kill(second)
        finally:
            kill(first)
        # A new process starts in about a second here; a consumer group waiting out the
        # dead member's session took 38-116 s.
        assert took < 10, f"the restarted projector took {took:.1f} s"

    @pytest.mark.serial
    def test_a_soak_of_kills_loses_nothing_and_every_component_goes_on_within_seconds(
        self, system: System, tmp_path: Path
    ) -> None:
        """The soak, short (bench/soak.py runs the long one): commands keep coming while the
        relay and the projector are killed twice each and the broker stopped once."""
        report = run_soak(system, tmp_path, seconds=40, seed=7, relay_kills=2,
                          projector_kills=2, broker_stops=1)
        print(report.table())
        assert report.commands > 10 and report.events > 100
        assert report.missing == 0 and report.distinct == report.events
        assert report.mismatched_rows == 0
        assert len(report.faults) == 5
        assert report.warnings <= 4 * len(report.faults), "the logs were flooded"
        for fault in report.faults:
            limit = 60 if fault.component == "broker" else 15  # 2 cores, all of it on them
            assert fault.recovered_s < limit, report.table()


def test_installations_sharing_a_broker_never_wait_for_each_other(
    tmp_path: Path, kafka_bootstrap: str, topic_prefix: str
) -> None:
    systems = [bootstrap(kafka_settings(SQLiteBackend(tmp_path / name), kafka_bootstrap,
                                        f"{topic_prefix}{name}"))
               for name in ("a", "b")]
    b = systems[1]
    groups = [{f.group for f in s.kafka_feeds()} for s in systems]
    assert not groups[0] & groups[1]
    assert all(g.startswith(f"{topic_prefix}a.events.views.") for g in groups[0])
    procs = []
    try:
        for s in systems:
            journey(s, tmp_path)
            publish_all(s.relay())
            procs.append(projector(s, tmp_path / "projector.log"))
        for s in systems:
            seconds_until_applied(s)
        kill(procs[0])  # a's projector dies and stays dead
        journey(b, tmp_path)
        publish_all(b.relay())
        took = seconds_until_applied(b)
        assert took < 5, f"b's views waited {took:.1f} s for a's dead projector"
    finally:
        for proc in procs:
            kill(proc)
        for s in systems:
            s.close()


def test_a_relay_started_while_the_broker_is_unreachable_keeps_running_and_says_so_once(
    tmp_path: Path, topic_prefix: str
) -> None:
    settings = kafka_settings(SQLiteBackend(tmp_path), "127.0.0.1:1", topic_prefix)
    system = bootstrap(settings)
    env = {**os.environ, **process_env(settings), "ALTLAS_LOG_LEVEL": "DEBUG"}
    relay = subprocess.Popen([sys.executable, "-m", "altlas", "relay"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        journey(system, tmp_path)  # commands are recorded meanwhile: the store is the outbox
        time.sleep(6)
        assert relay.poll() is None, "the relay gave up while the broker was away"
        assert system.history.last_position() == 15
    finally:
        relay.send_signal(signal.SIGTERM)
        _, err = relay.communicate(timeout=30)
        system.close()
    lines = err.decode().splitlines()
    away = [line for line in lines if "cannot be reached" in line]
    assert len(away) == 1, lines[-20:]
    assert "commands are still recorded" in away[0]
    assert not [line for line in lines if "Connection refused" in line and "FAIL" in line]
    assert not [line for line in lines if "Traceback" in line]
