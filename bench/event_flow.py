"""Streams benchmarks, each against a baseline measured in the same run:

  relay     events/s from the PostgreSQL event store to Kafka, vs a raw confluent-kafka
            producer (same settings) sending the same encoded messages
  rebuild   events/s from the topic into PostgreSQL views, per projection, vs a raw
            consume-and-insert of the same rows (executemany, 500 per transaction)
  replay    seconds for `audit replay` to rebuild every view from the PostgreSQL store
            into another schema, vs a raw read of the store inserting the timeline's rows
  latency   command accepted -> visible in the timeline view, p50/p99 over N commands,
            on the embedded path (SQLite store, store feed) and the Kafka path
            (PostgreSQL store, relay, Kafka feed): followers woken when something is
            recorded, vs polling every 25 ms as before (the baseline)

    python bench/event_flow.py [--events 100000] [--commands 1000]
                             [--only relay,rebuild,replay,latency]

Needs the services of scripts/services.sh (PostgreSQL and Kafka).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic
from figures import record
from journeys import EVENTS_PER_JOURNEY, journey, person_keys, timed
from sqlalchemy import Column, Engine, MetaData, Table, func, select, text

from adapters.policy_file import load_policy
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.app import AltlasApplication
from domain.catalog import aggregate_kind
from projections.schema import timeline
from projections.views import PROJECTIONS
from streams.audit import replay
from streams.cloudevents import encode, position_of
from streams.kafka import EventProducer, KafkaConfig, ensure_topic, make_consumer

PG = os.environ.get("ALTLAS_TEST_DATABASE_URL",
                    "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test")
KAFKA = os.environ.get("ALTLAS_TEST_KAFKA", "127.0.0.1:59092")
SCHEMAS: list[str] = []


def schema(tag: str) -> str:
    name = f"bench_{tag}_{uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    SCHEMAS.append(name)
    return name


def pg_system(tag: str, **extra: Any) -> System:
    events, views = schema(f"{tag}e"), schema(f"{tag}v")
    return bootstrap(Settings(database_url=f"{PG}?schema={events}",
                              views_database_url=f"{PG}?schema={views}",
                              kafka_bootstrap_servers=KAFKA,
                              kafka_topic_prefix=f"bench{uuid4().hex[:8]}", **extra))


def history(events: int) -> list[StoredEvent]:
    """Real events from real journeys, made once in memory."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": ":memory:"}
    app = AltlasApplication(load_policy(None), env=env, keys=person_keys(env))
    for i in range(-(-events // EVENTS_PER_JOURNEY)):
        journey(app, i)
    stored = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
              for n in app.recorder.select_notifications(1, events + EVENTS_PER_JOURNEY)]
    app.close()
    return stored[:events]


def load(system: System, stored: list[StoredEvent]) -> None:
    for i in range(0, len(stored), 2000):
        system.app.recorder.insert_events(stored[i:i + 2000])


def bench_relay(stored: list[StoredEvent]) -> tuple[list[tuple[str, int, float]], System]:
    system = pg_system("relay")
    load(system, stored)
    relay = system.relay()

    ours = timed(relay.drain)
    messages = [(str(r.aggregate_id).encode(), encode(r)) for r in system.history.read()]
    raw_config = KafkaConfig(KAFKA, f"benchraw{uuid4().hex[:8]}", 3, 1)
    ensure_topic(raw_config)
    producer = EventProducer(raw_config)
    batch = system.settings.relay_batch_size
    raw_batched = timed(lambda: [producer.send(messages[i:i + batch])
                                 for i in range(0, len(messages), batch)])
    raw_config2 = KafkaConfig(KAFKA, f"benchraw{uuid4().hex[:8]}", 3, 1)
    ensure_topic(raw_config2)
    producer2 = EventProducer(raw_config2)
    raw_once = timed(lambda: producer2.send(messages))
    n = len(messages)
    return [("relay.drain (store -> Kafka, 500/batch)", n, ours),
            ("raw producer, same 500/batch flushes", n, raw_batched),
            ("raw producer, one flush at the end", n, raw_once)], system


def raw_timeline(engine: Engine, name: str) -> Table:
    """A bare table shaped like the timeline view, without its indexes, for the baselines."""
    table = Table(name, MetaData(), *[Column(c.name, c.type, primary_key=c.primary_key)
                                      for c in timeline.columns])
    table.create(engine)
    return table


def bench_replay(system: System) -> list[tuple[str, int, float]]:
    """`audit replay`: every view rebuilt from the event store into another schema."""
    until = datetime.now(UTC)
    auditor = system.auditor()
    total = system.history.last_position()
    everything = timed(lambda: auditor.replay(until, f"{PG}?schema={schema('replayall')}"))
    [only] = [r for r in auditor.runners_at(f"{PG}?schema={schema('replaytl')}")
              if r.name == "timeline"]
    timeline_only = timed(lambda: replay(system.history, [only], until))
    raw_engine = system.views_at(f"{PG}?schema={schema('replayraw')}")
    raw = raw_timeline(raw_engine, "raw_timeline")
    recorder = system.app.recorder

    names: dict[str, str] = {}  # topic -> event type, looked up once per topic

    def raw_replay() -> None:
        position = 0
        while page := recorder.select_notifications(position, 500, inclusive_of_start=False):
            rows = []
            for n in page:
                state = json.loads(n.state)
                type_name = names.get(n.topic) or names.setdefault(
                    n.topic, resolve_topic(n.topic).type_name)
                rows.append({
                    "event_id": str(uuid4()), "position": n.id, "type": type_name,
                    "aggregate_type": aggregate_kind(type_name),
                    "aggregate_id": str(n.originator_id), "version": n.originator_version,
                    "time": state["timestamp"]["_data_"], "actor": state["actor"],
                    "correlation_id": state["correlation_id"],
                    "causation_id": state["causation_id"], "data": state})
            with raw_engine.begin() as conn:
                conn.execute(raw.insert(), rows)
            position = page[-1].id

    return [(f"audit replay -> all {len(PROJECTIONS)} views", total, everything),
            ("audit replay -> timeline view only", total, timeline_only),
            ("raw read-and-insert (timeline rows)", total, timed(raw_replay))]


def bench_rebuild(system: System) -> list[tuple[str, int, float]]:
    config = system.kafka()
    rows: list[tuple[str, int, float]] = []
    total = system.history.last_position()
    for name in ("timeline", "tasks", "approvals"):
        [feed] = system.kafka_feeds([name])

        def drain(feed: Any = feed) -> None:
            while sum(feed.runner.positions().values()) + len(feed.runner.positions()) < total:
                feed.poll_once(1.0)

        rows.append((f"kafka feed -> {name} view", total, timed(drain)))
        feed.close()
    raw_engine = system.views()
    raw = raw_timeline(raw_engine, "raw_timeline")
    consumer = make_consumer(config, "bench.raw")
    consumer.assign([TopicPartition(config.topic, p, OFFSET_BEGINNING)
                     for p in range(config.partitions)])

    def raw_rebuild() -> None:
        done = 0
        while done < total:
            msgs = consumer.consume(500, 1.0)
            batch = []
            for m in msgs:
                ce = json.loads(m.value())
                if ce["type"].endswith("Checkpoint"):
                    continue
                batch.append({
                    "event_id": ce["id"], "position": position_of(ce["sequence"]),
                    "type": ce["type"].rsplit(".", 1)[-1],
                    "aggregate_type": ce["type"].split(".")[1], "aggregate_id": ce["subject"],
                    "version": int(ce["streamversion"]), "time": ce["time"], "actor": ce["actor"],
                    "correlation_id": ce["correlationid"], "causation_id": ce["causationid"],
                    "data": ce["data"]})
            if batch:
                with raw_engine.begin() as conn:
                    conn.execute(raw.insert(), batch)
                done += len(batch)

    rows.append(("raw consume-and-insert (timeline rows)", total, timed(raw_rebuild)))
    consumer.close()
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def latencies(system: System, commands: int, start_feeds: Callable[[threading.Event],
              list[threading.Thread]]) -> list[float]:
    stop = threading.Event()
    threads = start_feeds(stop)
    engine = system.views()
    time.sleep(1.0)
    seen: list[float] = []
    try:
        for i in range(commands):
            started = time.perf_counter()
            system.app.request_task(f"latency probe {i}", "deniz")
            position = system.history.last_position()
            with engine.connect() as conn:
                while True:
                    top = conn.execute(select(func.max(timeline.c.position))).scalar()
                    if top is not None and top >= position:
                        break
                    conn.rollback()
                    time.sleep(0.001)
            seen.append((time.perf_counter() - started) * 1000)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    return seen


def bench_latency(commands: int) -> list[tuple[str, list[float]]]:
    out = []
    for woken in (True, False):
        how = "woken" if woken else "poll 25 ms"
        with tempfile.TemporaryDirectory() as root:
            embedded = bootstrap(Settings(data_dir=Path(root), database_url=None,
                                          views_database_url=None))
            feed = embedded.store_feed(["timeline"])
            wake = embedded.app.recorded if woken else None

            def store_threads(stop: threading.Event, feed: Any = feed, wake: Any = wake
                              ) -> list[threading.Thread]:
                t = threading.Thread(target=feed.run, args=(stop, 0.025, wake), daemon=True)
                t.start()
                return [t]

            out.append((f"embedded: SQLite store -> store feed -> view ({how})",
                        latencies(embedded, commands, store_threads)))
            embedded.close()
        kafka = pg_system("lat")
        relay = kafka.relay()
        [kfeed] = kafka.kafka_feeds(["timeline"])
        wake = kafka.app.recorded if woken else None

        def kafka_threads(stop: threading.Event, relay: Any = relay, kfeed: Any = kfeed,
                          wake: Any = wake) -> list[threading.Thread]:
            threads = [threading.Thread(target=relay.run, args=(stop, 0.025),
                                        kwargs={"wake": wake}, daemon=True),
                       threading.Thread(target=kfeed.run, args=(stop,), daemon=True)]
            for t in threads:
                t.start()
            return threads

        out.append((f"Kafka: PG -> relay -> topic -> Kafka feed -> PG view ({how})",
                    latencies(kafka, commands, kafka_threads)))
        kfeed.close()
        kafka.close()
    return out


def table(title: str, rows: list[tuple[str, int, float]], baseline: float) -> None:
    print(f"\n{title}")
    print(f"{'path':<42} {'events':>8} {'seconds':>8} {'events/s':>9} {'vs raw':>7}")
    for path, n, seconds in rows:
        print(f"{path:<42} {n:>8} {seconds:>8.2f} {n / seconds:>9.0f} {baseline / seconds:>7.0%}")
        if seconds != baseline:
            record(f"{title.split(':')[0]}: {path}, vs raw", baseline / seconds, "ratio",
                   "higher")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--only", default="relay,rebuild,replay,latency")
    args = parser.parse_args()
    only = set(args.only.split(","))
    try:
        if only & {"relay", "rebuild", "replay"}:
            started = time.perf_counter()
            stored = history(args.events)
            print(f"made {len(stored)} events from real journeys in "
                  f"{time.perf_counter() - started:.0f}s", file=sys.stderr)
            rows, system = bench_relay(stored)
            table(f"relay: {len(stored)} events, PostgreSQL store -> Kafka (3 partitions)",
                  rows, rows[1][2])
            if "rebuild" in only:
                rows = bench_rebuild(system)
                table(f"rebuild: {len(stored)} events, topic -> PostgreSQL views",
                      rows, rows[-1][2])
            if "replay" in only:
                rows = bench_replay(system)
                table(f"replay: {len(stored)} events, PostgreSQL store -> views in another "
                      "schema", rows, rows[-1][2])
            system.close()
        if "latency" in only:
            print(f"\nlatency: command accepted -> visible in the timeline view, "
                  f"{args.commands} commands")
            print(f"{'path':<66} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
            for path, values in bench_latency(args.commands):
                print(f"{path:<66} {statistics.median(values):>7.1f} "
                      f"{percentile(values, 0.99):>7.1f} {max(values):>7.1f}")
                record(f"command to view, {path}, p99", percentile(values, 0.99), "ms", "lower")
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            for name in SCHEMAS:
                conn.execute(text(f"DROP SCHEMA {name} CASCADE").text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
