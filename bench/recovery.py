"""How soon a projector killed with SIGKILL and started again applies new events: altlas's
projector (it takes the topic's partitions itself, at the positions kept with the views)
against the baseline of a consumer-group member (subscribe, the broker's default session
timeout) restarted the same way, in the same run, on the same broker.

Each round: kill -9, start again at once, publish new events, and time until they are applied
(altlas: in the views; baseline: consumed by the new member).

    python bench/recovery.py [--rounds 3]

Needs the Kafka broker of scripts/services.sh.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

from confluent_kafka import Producer

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from streams.feeds import behind, kafka_source
from streams.kafka import KafkaConfig, ensure_topic

SERVERS = os.environ.get("ALTLAS_TEST_KAFKA", "127.0.0.1:59092")

MEMBER = """
import sys
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2],
              "auto.offset.reset": "earliest", "enable.auto.commit": True,
              "auto.commit.interval.ms": 100})
c.subscribe([sys.argv[3]])
while True:
    m = c.poll(0.2)
    if m is not None and m.error() is None:
        with open(sys.argv[4], "a") as f:
            f.write(m.value().decode() + "\\n")
"""


def applied(system: System) -> bool:
    [runner] = system.runners(kafka_source(system.kafka()), ["timeline"])
    return behind(system.kafka(), runner) == 0


def wait(condition: object, timeout: float = 300) -> float:
    start = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - start > timeout:
            raise TimeoutError("not applied in time")
        time.sleep(0.05)
    return time.monotonic() - start


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def altlas_rounds(home: Path, rounds: int) -> list[float]:
    settings = Settings(data_dir=home, kafka_bootstrap_servers=SERVERS,
                        kafka_topic_prefix=f"bench{uuid4().hex[:8]}")
    system = bootstrap(settings)
    env = {**os.environ, "ALTLAS_DATA_DIR": str(home),
           "ALTLAS_KAFKA_BOOTSTRAP_SERVERS": SERVERS,
           "ALTLAS_KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix}

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "altlas", "project", "--from", "kafka",
                                 "--projection", "timeline"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    relay = system.relay()
    system.app.request_task("bench recovery 0", "deniz", environment="prod")
    relay.drain()
    proc = start()
    wait(lambda: applied(system))
    times = []
    for i in range(1, rounds + 1):
        kill(proc)
        proc = start()
        system.app.request_task(f"bench recovery {i}", "deniz", environment="prod")
        relay.drain()
        times.append(wait(lambda: applied(system)))
    kill(proc)
    system.close()
    return times


def baseline_rounds(home: Path, rounds: int) -> list[float]:
    config = KafkaConfig(SERVERS, f"bench-member-{uuid4().hex[:8]}")
    ensure_topic(config)
    producer = Producer({"bootstrap.servers": SERVERS})
    seen = home / "seen.txt"
    group = f"bench.group.{uuid4().hex[:8]}"

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-c", MEMBER, SERVERS, group, config.topic,
                                 str(seen)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def consumed(mark: str) -> bool:
        return seen.exists() and mark in seen.read_text()

    proc = start()
    producer.produce(config.topic, b"m0")
    producer.flush(10)
    wait(lambda: consumed("m0"))
    times = []
    for i in range(1, rounds + 1):
        kill(proc)
        proc = start()
        producer.produce(config.topic, f"m{i}".encode())
        producer.flush(10)
        times.append(wait(lambda i=i: consumed(f"m{i}")))
    kill(proc)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'consumer':<44} {'rounds':>6} {'median s':>9} {'max s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for label, run in (("altlas projector (takes its partitions)", altlas_rounds),
                           ("baseline: group member (subscribe)", baseline_rounds)):
            home = Path(tmp) / label.split()[0]
            home.mkdir()
            times = run(home, args.rounds)
            print(f"{label:<44} {len(times):>6} {statistics.median(times):>9.1f} "
                  f"{max(times):>7.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
