"""Memory and time of `audit verify --kafka` as the topic grows: the streaming verification
against the baseline of reading the whole topic into memory first (what it did before),
in the same run, on the same topic, each in a process of its own (peak RSS from the kernel).

The events are written straight to a fresh topic, as the relay would publish them: chains of
seven events per aggregate, hashed as altlas hashes them, a checkpoint every 1,000 events.

    python bench/verify_memory.py [--events 20000,100000,300000]

Needs the Kafka broker of scripts/services.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from confluent_kafka import Producer

from domain.hashchain import GENESIS, event_hash, running_hash
from domain.records import RecordedEvent
from streams.audit import read_topic, verify_topic
from streams.cloudevents import CHECKPOINT_KEY, Checkpoint, encode, encode_checkpoint
from streams.kafka import KafkaConfig, ensure_topic

SERVERS = os.environ.get("ALTLAS_TEST_KAFKA", "127.0.0.1:59092")
PER_AGGREGATE = 7


def publish(config: KafkaConfig, events: int) -> None:
    producer = Producer({"bootstrap.servers": config.bootstrap_servers, "linger.ms": 20,
                         "compression.type": "lz4"})
    running, count = GENESIS, 0
    now = datetime.now(UTC).isoformat()
    aggregate, prev = uuid4(), GENESIS
    for position in range(1, events + 1):
        version = (position - 1) % PER_AGGREGATE + 1
        if version == 1:
            aggregate, prev = uuid4(), GENESIS
        state = {"originator_id": str(aggregate), "originator_version": version,
                 "timestamp": now, "actor": "p-bench", "correlation_id": "c",
                 "causation_id": "c", "prevhash": prev, "reason": f"event {position}"}
        state["hash"] = event_hash(prev, "TaskRejected", state)
        prev = state["hash"]
        record = RecordedEvent(position, aggregate, version, "TaskRejected", state)
        producer.produce(config.topic, key=str(aggregate).encode(), value=encode(record))
        running, count = running_hash(running, record.hash), count + 1
        if count % 1000 == 0:
            producer.produce(config.topic, key=CHECKPOINT_KEY, value=encode_checkpoint(
                Checkpoint(position, running, count, now)))
        if position % 10_000 == 0:
            producer.poll(0)
    producer.flush(120)


def measure(topic: str, mode: str) -> dict[str, float]:
    """In a fresh process: time and peak memory of one way of verifying the topic."""
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--topic", topic],
                         check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def child(mode: str, topic: str) -> None:
    config = KafkaConfig(SERVERS, topic)
    start = time.perf_counter()
    if mode == "stream":
        report = verify_topic(config)
        events, ok = report.events, report.ok
    else:  # the baseline: every message in memory, then sorted (the verifier before)
        records, _, problems = read_topic(config)
        records.sort(key=lambda r: r.position or 0)
        events, ok = len(records), not problems
    seconds = time.perf_counter() - start
    # VmHWM, not ru_maxrss: that one keeps the forking parent's peak across exec
    status = Path("/proc/self/status").read_text().splitlines()
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024
    print(json.dumps({"events": events, "ok": ok, "seconds": seconds, "peak_mb": peak}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="20000,100000,300000")
    parser.add_argument("--child")
    parser.add_argument("--topic")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.topic)
        return 0
    print(f"{'events':>8}  {'mode':<24} {'seconds':>8} {'peak MB':>8} {'ev/s':>8}")
    for n in (int(x) for x in args.events.split(",")):
        config = KafkaConfig(SERVERS, f"bench-verify-{uuid4().hex[:8]}")
        ensure_topic(config)
        publish(config, n)
        for mode, label in (("whole", "whole topic in memory"), ("stream", "streamed (altlas)")):
            r = measure(config.topic, mode)
            assert r["events"] == n, r
            print(f"{n:>8}  {label:<24} {r['seconds']:>8.1f} {r['peak_mb']:>8.0f} "
                  f"{n / r['seconds']:>8.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
