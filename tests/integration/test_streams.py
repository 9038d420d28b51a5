"""The relay and the Kafka feed against a real broker and a real PostgreSQL: nothing lost,
duplicates harmless, views exact."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import OFFSET_BEGINNING, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource

from altlas.bootstrap import System
from altlas.settings import Settings
from projections.views import PROJECTIONS
from streams.audit import read_topic, verify_store, verify_topic
from streams.cloudevents import cloudevent, decode
from streams.feeds import KafkaFeed, behind
from streams.kafka import KafkaConfig, make_consumer
from streams.relay import Relay
from testkit.backends import Backend, OnPostgres, OnSQLite
from testkit.journeys import journey, process_env
from testkit.views import dump

SERVICES = os.environ.get("ALTLAS_SERVICES_SCRIPT",
                          str(Path(__file__).resolve().parents[2] / "scripts" / "services.sh"))


def kafka_settings(backend: Backend, bootstrap: str, prefix: str, **extra: Any) -> Settings:
    return backend.settings().model_copy(update={
        "kafka_bootstrap_servers": bootstrap, "kafka_topic_prefix": prefix, **extra})


def publish_all(relay: Relay) -> int:
    return relay.drain()


def drain(feeds: list[KafkaFeed], config: KafkaConfig, timeout: float = 90) -> None:
    """Poll until every feed has applied everything on the topic now."""
    deadline = time.monotonic() + timeout
    for feed in feeds:
        while behind(config, feed.runner):
            assert time.monotonic() < deadline, f"{feed.runner.name} did not catch up"
            feed.poll_once(0.2)


class StreamsContract:
    @pytest.fixture
    def system(self, backend: Backend, kafka_bootstrap: str, topic_prefix: str
               ) -> Iterator[System]:
        from altlas.bootstrap import bootstrap

        system = bootstrap(kafka_settings(backend, kafka_bootstrap, topic_prefix,
                                          checkpoint_every=20, relay_batch_size=25))
        yield system
        system.close()

    def _store_views(self, system: System, tmp_path: Path) -> dict[str, Any]:
        engine = system.views_at(f"sqlite:///{tmp_path / 'from-store.sqlite3'}")
        for runner in system.runners(engine=engine):
            runner.apply([])
        from streams.feeds import StoreFeed

        StoreFeed(system.history, system.runners(engine=engine)).catch_up()
        return dump(engine)

    def test_every_event_goes_out_as_a_cloudevent_keyed_by_its_aggregate(
        self, system: System, tmp_path: Path
    ) -> None:
        journey(system, tmp_path)
        relay = system.relay()
        assert publish_all(relay) == 15 and relay.lag() == 0
        config = system.kafka()
        records, checkpoints, problems = read_topic(config)
        assert problems == []
        stored = list(system.history.read())
        assert sorted(r.id for r in records) == sorted(r.id for r in stored)
        assert [c.events for c in checkpoints] == []  # 15 < checkpoint_every
        admin = AdminClient({"bootstrap.servers": config.bootstrap_servers})
        meta = admin.list_topics(config.topic, timeout=10).topics[config.topic]
        assert len(meta.partitions) == 3
        resource = ConfigResource(ConfigResource.Type.TOPIC, config.topic)
        topic_config = admin.describe_configs([resource])[resource].result()
        assert topic_config["retention.ms"].value == "-1"
        # one aggregate's events share a key, so they share a partition and keep their order
        partitions: dict[bytes, set[int]] = {}
        versions: dict[bytes, list[int]] = {}
        for key, partition, record in _raw_messages(config, 15):
            assert key == str(record.aggregate_id).encode()
            partitions.setdefault(key, set()).add(partition)
            versions.setdefault(key, []).append(record.version)
        assert all(len(p) == 1 for p in partitions.values()) and len(partitions) == 4
        assert all(v == sorted(v) for v in versions.values())

    def test_relay_crash_between_publish_and_position_loses_nothing(
        self, system: System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for _ in range(3):
            journey(system, tmp_path)
        relay = system.relay()
        real_save = relay.state.save

        def crash(*_: object) -> None:
            raise SystemExit("killed after the broker confirmed, before recording")

        monkeypatch.setattr(relay.state, "save", crash)
        with pytest.raises(SystemExit):
            relay.run_once()
        monkeypatch.setattr(relay.state, "save", real_save)
        assert relay.state.load().position == 0
        restarted = system.relay()
        assert publish_all(restarted) == 45
        records, _, _ = read_topic(system.kafka())
        copies = Counter(r.id for r in records)
        assert set(copies) == {r.id for r in system.history.read()}
        assert sum(n - 1 for n in copies.values()) == 25  # the first batch went out twice
        report = verify_topic(system.kafka(), system.history, restarted.state.load().position)
        assert report.ok, report.problems
        feeds = system.kafka_feeds()
        drain(feeds, system.kafka())
        assert dump(system.views()) == self._store_views(system, tmp_path)
        for feed in feeds:
            feed.close()

    def test_killed_relay_process_resumes_where_it_stopped(
        self, system: System, tmp_path: Path, backend: Backend
    ) -> None:
        for _ in range(40):
            journey(system, tmp_path)
        total = system.history.last_position()
        env = {**os.environ, **process_env(system.settings), "ALTLAS_RELAY_BATCH_SIZE": "20"}
        proc = subprocess.Popen([sys.executable, "-m", "altlas", "relay"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while system.relay_state().load().position < 100:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        stopped_at = system.relay_state().load().position
        assert 0 < stopped_at < total
        publish_all(system.relay())
        report = verify_topic(system.kafka(), system.history, system.relay_state().load().position)
        assert report.ok, report.problems
        assert report.events == total

    @pytest.mark.serial
    def test_commands_are_accepted_while_the_broker_is_down(
        self, system: System, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        journey(system, tmp_path)
        relay = system.relay()
        publish_all(relay)
        caplog.set_level(logging.WARNING, logger="altlas.kafka")
        subprocess.run([SERVICES, "kafka-down"], check=True, capture_output=True)
        try:
            journey(system, tmp_path)  # the event store is the outbox
            stop = threading.Event()
            worker = threading.Thread(target=relay.run, args=(stop, 0.05), daemon=True)
            worker.start()
            time.sleep(2)
            assert relay.lag() == 15
        finally:
            subprocess.run([SERVICES, "kafka-up"], check=True, capture_output=True)
        deadline = time.monotonic() + 90
        while relay.lag():
            assert time.monotonic() < deadline, "relay did not catch up after the broker came back"
            time.sleep(0.2)
        stop.set()
        worker.join(timeout=30)
        report = verify_topic(system.kafka(), system.history, relay.state.load().position)
        assert report.ok and report.events == 30
        said = [r.getMessage() for r in caplog.records if r.name == "altlas.kafka"]
        assert len([m for m in said if "cannot be reached" in m]) == 1, said
        assert len([m for m in said if "is back after" in m]) == 1, said
        assert not [m for m in said if "Connection refused" in m], said

    def test_consumer_killed_between_view_commit_and_offset_commit_keeps_views_exact(
        self, system: System, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for _ in range(2):
            journey(system, tmp_path)
        publish_all(system.relay())
        [first] = system.kafka_feeds(["timeline"])

        monkeypatch.setattr(first, "consumer", _DiesOnCommit(first.consumer))
        with pytest.raises(SystemExit):
            while True:
                first.poll_once(0.5)
        first.consumer.inner.close()
        [second] = system.kafka_feeds(["timeline"])
        drain([second], system.kafka())
        second.close()
        timeline = dump(system.views())["timeline"]
        assert len(timeline) == 30
        assert timeline == self._store_views(system, tmp_path)["timeline"]

    def test_poisoned_messages_are_set_aside_and_never_block_the_partition(
        self, system: System, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        config = system.kafka()
        journey(system, tmp_path)
        relay = system.relay()
        relay.ensure_topic()
        producer = Producer({"bootstrap.servers": config.bootstrap_servers})
        for p in range(config.partitions):
            producer.produce(config.topic, b"{not json", partition=p)
            producer.produce(config.topic, b'{"specversion":"1.0","type":"com.evil.Thing"}',
                             partition=p)
        producer.flush(10)
        publish_all(relay)
        feeds = system.kafka_feeds()
        with caplog.at_level(logging.ERROR, logger="projections"):
            drain(feeds, config)
        for feed in feeds:
            feed.close()
        assert dump(system.views()) == self._store_views(system, tmp_path)
        from sqlalchemy import select

        from projections.schema import poisoned

        with system.views().connect() as conn:
            reasons = Counter(row.reason.split(":")[0] for row in conn.execute(select(poisoned)))
        per_view = 3 * len(PROJECTIONS)  # three of each kind, set aside by every view
        assert reasons == {"not valid JSON": per_view,
                           "unknown event type 'com.evil.Thing'": per_view}
        assert any(f"set aside kafka:{config.topic} partition 0 offset 0: not valid JSON"
                   in message for message in caplog.messages)

    def test_embedded_feed_and_kafka_feed_build_identical_views(
        self, system: System, tmp_path: Path
    ) -> None:
        for grant in (True, False, True):
            journey(system, tmp_path, grant=grant)
        publish_all(system.relay())
        feeds = system.kafka_feeds()
        drain(feeds, system.kafka())
        for feed in feeds:
            feed.close()
        from_kafka = dump(system.views())
        assert from_kafka == self._store_views(system, tmp_path)
        assert len(from_kafka["timeline"]) == system.history.last_position()

    def test_topic_verification_names_a_forged_copy_of_an_event(
        self, system: System, tmp_path: Path
    ) -> None:
        journey(system, tmp_path)
        relay = system.relay()
        publish_all(relay)
        config = system.kafka()
        records, _, _ = read_topic(config)
        victim = next(r for r in records if r.type_name == "ApprovalVoteCast")
        forged = cloudevent(victim)
        forged["data"]["voter"] = "mallory"
        producer = Producer({"bootstrap.servers": config.bootstrap_servers})
        producer.produce(config.topic, json.dumps(forged).encode(),
                         key=str(victim.aggregate_id).encode())
        producer.flush(10)
        report = verify_topic(config, system.history, relay.state.load().position)
        assert report.problems == [
            f"event {victim.id} (ApprovalVoteCast of {victim.aggregate_id} version "
            f"{victim.version}) appears twice with different content"]

    def test_checkpoints_catch_a_removed_last_event_that_chains_alone_miss(
        self, system: System, tmp_path: Path, backend: Backend
    ) -> None:
        for _ in range(3):
            journey(system, tmp_path)
        relay = system.relay()
        publish_all(relay)
        checkpoints = system.relay_state().checkpoints()
        assert [c.events for c in checkpoints] == [20, 40]
        assert verify_store(system.history, checkpoints).ok
        last_of_first_run = next(r for r in system.history.read()
                                 if r.type_name == "RunCompleted")
        from tests.integration.test_application_contract import _db_id

        backend.execute(f"DELETE FROM {backend.events_table} WHERE originator_id = ? AND "
                        "originator_version = ?", _db_id(backend, last_of_first_run.aggregate_id),
                        last_of_first_run.version)
        report = verify_store(system.history, checkpoints)
        assert not report.ok
        assert all("checkpoint at position" in p for p in report.problems)
        assert "position 20 does not match" in report.problems[0]


def _raw_messages(config: KafkaConfig, count: int) -> list[tuple[bytes, int, Any]]:
    consumer = make_consumer(config, "test.raw")
    consumer.assign([TopicPartition(config.topic, p, OFFSET_BEGINNING)
                     for p in range(config.partitions)])
    out: list[tuple[bytes, int, Any]] = []
    deadline = time.monotonic() + 30
    while len(out) < count and time.monotonic() < deadline:
        for msg in consumer.consume(100, 0.5):
            if msg.error() is None:
                out.append((msg.key(), msg.partition(), decode(msg.value())))
    consumer.close()
    return out


class _DiesOnCommit:
    """The feed's consumer, killed the moment it would commit offsets."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def commit(self, *_: object, **__: object) -> None:
        raise SystemExit("killed after the view commit, before the offset commit")


class TestStreamsOnPostgres(OnPostgres, StreamsContract):
    pass


class TestStreamsOnSQLite(OnSQLite, StreamsContract):
    pass

