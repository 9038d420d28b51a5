"""The fault soak of the production path, shared by its test (short) and bench/soak.py (long).

Commands are recorded without pause while a separate relay process and a separate Kafka
projector are killed with SIGKILL at seeded moments and the broker is stopped and started;
then everything is let settle and compared: every event of the store on the topic once or
more (never missing), the projector's views equal to views rebuilt from the store, and how
long each component took to go on after each fault.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, TopicPartition

from altlas.bootstrap import System
from domain.records import RecordedEvent
from streams.cloudevents import decode
from streams.feeds import StoreFeed, kafka_source
from streams.kafka import KafkaUnavailableError, make_consumer, watermarks
from testkit.journeys import journey, process_env
from testkit.views import dump

SERVICES = str(Path(__file__).resolve().parents[1] / "scripts" / "services.sh")


@dataclass
class Fault:
    component: str        # relay, projector or broker
    at: float             # seconds into the soak
    recovered_s: float    # until it went on: published or applied what was waiting


@dataclass
class SoakReport:
    seconds: float
    commands: int
    events: int           # in the store
    records: int          # events on the topic, re-publications included
    distinct: int         # distinct event ids on the topic
    missing: int          # store events not on the topic
    mismatched_rows: int  # rows differing between the projector's views and a rebuild
    faults: list[Fault] = field(default_factory=list)
    warnings: int = 0     # WARNING and ERROR lines the relay and the projector logged

    @property
    def duplicates(self) -> int:
        return self.records - self.distinct

    def table(self) -> str:
        kills = Counter(f.component for f in self.faults)
        rows = [f"{'component':<10} {'faults':>6} {'median s':>9} {'max s':>7}"]
        for component in ("relay", "projector", "broker"):
            took = sorted(f.recovered_s for f in self.faults if f.component == component)
            if took:
                rows.append(f"{component:<10} {kills[component]:>6} "
                            f"{took[len(took) // 2]:>9.2f} {took[-1]:>7.2f}")
        rows.append(f"{self.seconds:.0f} s, {self.commands} commands: {self.events} events, "
                    f"{self.records} on the topic, {self.distinct} distinct, "
                    f"{self.duplicates} re-published, {self.missing} missing, "
                    f"{self.mismatched_rows} view rows differing from a rebuild, "
                    f"{self.warnings} warning lines logged")
        return "\n".join(rows)


class _Process:
    """One altlas process (relay or projector), killed and started again at will."""

    def __init__(self, system: System, args: list[str], log: Path) -> None:
        self.args, self.log = args, log
        self.env = {**os.environ, **process_env(system.settings), "ALTLAS_LOG_LEVEL": "INFO"}
        self.proc = self.start()

    def start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "altlas", *self.args],
                                         env=self.env, stdout=subprocess.DEVNULL, stderr=out)
        return self.proc

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def alive(self) -> bool:
        return self.proc.poll() is None


def _until(done: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not done():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - start


def _high_watermarks(system: System, timeout: float = 60.0) -> dict[int, int]:
    """The topic's high offsets, once its partitions have leaders again: just after the
    broker came back the answer is NOT_LEADER_FOR_PARTITION for a few seconds."""
    start = time.monotonic()
    while True:
        try:
            return {p: h for p, (_, h) in watermarks(system.kafka()).items()}
        except KafkaUnavailableError:
            if time.monotonic() - start > timeout:
                raise
            time.sleep(0.5)


def _applied_up_to(system: System, high: dict[int, int]) -> bool:
    """Every projection has applied everything that was on the topic at ``high``."""
    for runner in system.runners(kafka_source(system.kafka())):
        done = runner.positions()
        if any(h > 0 and done.get(p, -1) < h - 1 for p, h in high.items()):
            return False
    return True


def _published_past(system: System, position: int) -> bool:
    return system.relay_state().load().position > position


def _topic_ids(system: System) -> list[str]:
    config = system.kafka()
    highs = {p: h for p, (_, h) in watermarks(config).items()}
    consumer = make_consumer(config, f"{config.topic}.soak.count")
    consumer.assign([TopicPartition(config.topic, p, OFFSET_BEGINNING) for p in highs])
    seen = {p: 0 for p in highs}
    ids: list[str] = []
    deadline = time.monotonic() + 120
    while any(seen[p] < h for p, h in highs.items()):
        assert time.monotonic() < deadline, "could not read the whole topic back"
        for msg in consumer.consume(500, 0.5):
            if msg.error() is not None:
                continue
            seen[msg.partition()] = msg.offset() + 1
            event = decode(msg.value())
            if isinstance(event, RecordedEvent):
                ids.append(str(event.id))
    consumer.close()
    return ids


def _rebuilt(system: System, where: Path) -> dict[str, Any]:
    engine = system.views_at(f"sqlite:///{where}")
    runners = system.runners(engine=engine)
    for runner in runners:
        runner.apply([])
    StoreFeed(system.history, runners).catch_up()
    return dump(engine)


def _differing_rows(a: dict[str, list[dict[str, Any]]], b: dict[str, list[dict[str, Any]]]
                    ) -> int:
    out = 0
    for table in set(a) | set(b):
        left, right = (Counter(json.dumps(row, sort_keys=True, default=str)
                               for row in rows.get(table, [])) for rows in (a, b))
        out += sum(((left - right) + (right - left)).values())
    return out


def run_soak(system: System, work: Path, *, seconds: float, seed: int, relay_kills: int,
             projector_kills: int, broker_stops: int, broker_down_s: float = 3.0
             ) -> SoakReport:
    rng = random.Random(seed)
    faults_at = sorted([(rng.uniform(0.1, 0.9) * seconds, c) for c, n in (
        ("relay", relay_kills), ("projector", projector_kills), ("broker", broker_stops))
        for _ in range(n)])
    system.relay().ensure_topic()
    relay = _Process(system, ["relay"], work / "relay.log")
    projector = _Process(system, ["project", "--from", "kafka"], work / "projector.log")
    stop = threading.Event()
    commands = 0

    def record() -> None:
        nonlocal commands
        while not stop.is_set():
            journey(system, work, grant=rng.random() < 0.8)
            commands += 1

    writer = threading.Thread(target=record, daemon=True)
    started = time.monotonic()
    writer.start()
    faults: list[Fault] = []
    try:
        for at, component in faults_at:
            time.sleep(max(0.0, started + at - time.monotonic()))
            if component == "relay":
                before = system.relay_state().load().position
                relay.kill()
                relay.start()
                took = _until(lambda b=before: _published_past(system, b), 60,
                              "the restarted relay publishing")
            elif component == "projector":
                projector.kill()
                projector.start()
                high = _high_watermarks(system)
                took = _until(lambda h=high: _applied_up_to(system, h), 60,
                              "the restarted projector applying what was waiting")
            else:
                subprocess.run([SERVICES, "kafka-down"], check=True, capture_output=True)
                time.sleep(broker_down_s)
                subprocess.run([SERVICES, "kafka-up"], check=True, capture_output=True)
                before = system.relay_state().load().position
                took = _until(lambda b=before: _published_past(system, b), 120,
                              "the relay publishing after the broker came back")
            faults.append(Fault(component, at, took))
        time.sleep(max(0.0, started + seconds - time.monotonic()))
    finally:
        stop.set()
        writer.join(timeout=120)
    elapsed = time.monotonic() - started
    try:
        last = system.history.last_position()
        _until(lambda: system.relay_state().load().position >= last, 120,
               "the relay publishing everything")
        high = {p: h for p, (_, h) in watermarks(system.kafka()).items()}
        _until(lambda: _applied_up_to(system, high), 120, "the projector applying everything")
        assert relay.alive() and projector.alive(), "a process died on its own"
    finally:
        relay.kill()
        projector.kill()
    stored = [str(r.id) for r in system.history.read()]
    on_topic = _topic_ids(system)
    views = dump(system.views())
    rebuilt = _rebuilt(system, work / "rebuilt.sqlite3")
    warnings = sum(1 for log in (relay.log, projector.log)
                   for line in log.read_text().splitlines()
                   if " WARNING " in line or " ERROR " in line)
    return SoakReport(elapsed, commands, len(stored), len(on_topic), len(set(on_topic)),
                      len(set(stored) - set(on_topic)), _differing_rows(views, rebuilt),
                      faults, warnings)
