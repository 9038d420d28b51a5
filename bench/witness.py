"""What the witness costs per checkpoint, against a checkpoint without it, in the same run.

Embedded (SQLite): the store feed applies the first --events events in batches of 10, as
`altlas serve` follows a request's chain of events, writing its head checkpoint beside the
views with every batch; with the witness file it also appends the head to a file in another
directory (O_APPEND, fsync). The two alternate, median of --repeat runs each, and the
difference divided by the number of checkpoints is the witness's cost per checkpoint.

Kafka: the topic's newest messages are the witness, so the relay writes nothing more for it;
what a checkpoint on the topic costs is the relay's own (one message, acks=all, confirmed),
measured against the same checkpoint kept beside the views. At `audit verify`, reading the
witness: the whole file, or the newest message of each partition.

    python bench/witness.py [--journeys 100] [--events 1000] [--repeat 5] [--kafka HOST:PORT]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from uuid import uuid4

from checkpoints import emptied
from journeys import EVENTS_PER_JOURNEY, journey, timed

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from domain.hashchain import GENESIS
from streams.checkpoints import Head
from streams.cloudevents import Checkpoint
from streams.feeds import StoreFeed
from streams.witness import FileWitness, TopicWitness

KAFKA = os.environ.get("ALTLAS_TEST_KAFKA", "127.0.0.1:59092")
BATCH = 10


def feed(system: System, events: int, witness: FileWitness | None) -> float:
    """Seconds to apply the first ``events`` events in batches of BATCH, from empty views."""
    runners, book = emptied(system)
    if witness is not None:
        witness.path.unlink(missing_ok=True)
    store_feed = StoreFeed(system.history, runners, BATCH, checkpoints=book, witness=witness)

    def run() -> None:
        while store_feed.applied_through() < events and store_feed.poll_once():
            pass

    return timed(run)


def embedded(system: System, witness: FileWitness, events: int, repeat: int
             ) -> tuple[float, float, float, int]:
    """Seconds without and with the witness, ms to read it, and its lines."""
    plain, told = [], []
    feed(system, events, witness)  # warm
    for i in range(repeat):
        for with_witness in ((False, True) if i % 2 == 0 else (True, False)):
            (told if with_witness else plain).append(
                feed(system, events, witness if with_witness else None))
    lines = len(witness.path.read_text().splitlines())
    read = statistics.median(timed(witness.testimony) for _ in range(repeat))
    return statistics.median(plain), statistics.median(told), read * 1000, lines


def appends(witness: FileWitness, count: int = 200) -> float:
    """Median ms of one line appended and synced, on its own."""
    head = Head(1, GENESIS, 1)
    return statistics.median(timed(lambda: witness.saw(head)) for _ in range(count)) * 1000


def kafka(system: System, repeat: int, checkpoints: int) -> tuple[float, float, float]:
    """ms per checkpoint kept beside the views (as a Kafka feed keeps the relay's), ms per
    relay checkpoint on the topic, ms to read the topic's witness."""
    relay = system.relay()
    relay.drain()
    book = system.checkpoint_log()
    position = system.history.last_position()
    beside, on_topic = [], []

    def keep() -> None:
        nonlocal position
        for _ in range(checkpoints):
            position += 1
            book.saw(Checkpoint(position, GENESIS, position, ""))

    def publish() -> None:
        for _ in range(checkpoints):
            relay.checkpoint_now()

    for _ in range(repeat):
        beside.append(timed(keep))
        on_topic.append(timed(publish))
    witness = TopicWitness(system.kafka())
    read = statistics.median(timed(witness.testimony) for _ in range(repeat))
    return (statistics.median(beside) * 1000 / checkpoints,
            statistics.median(on_topic) * 1000 / checkpoints, read * 1000)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=100)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--kafka", default=KAFKA, help="'' skips Kafka")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        elsewhere = Path(root) / "elsewhere"
        elsewhere.mkdir()
        witness = FileWitness(elsewhere / "altlas.jsonl")
        system = bootstrap(Settings(data_dir=Path(root) / "data", database_url=None,
                                    views_database_url=None))
        try:
            for i in range(args.journeys):
                journey(system.app, i)
            events = min(args.events, args.journeys * EVENTS_PER_JOURNEY)
            plain, told, read_ms, lines = embedded(system, witness, events, args.repeat)
            alone = appends(witness)
        finally:
            system.close()
        checkpoints = -(-events // BATCH)
        print(f"\nembedded SQLite: {events} events in batches of {BATCH} = {checkpoints} "
              f"checkpoints, median of {args.repeat}")
        print(f"{'':<28} {'s':>7} {'ms/checkpoint':>14}")
        print(f"{'checkpoint beside the views':<28} {plain:>7.3f} "
              f"{plain * 1000 / checkpoints:>14.3f}")
        print(f"{'  + witness file (fsync)':<28} {told:>7.3f} {told * 1000 / checkpoints:>14.3f}")
        print(f"{'  the witness alone':<28} {told - plain:>7.3f} "
              f"{(told - plain) * 1000 / checkpoints:>14.3f}")
        print(f"one append + fsync on its own: median {alone:.3f} ms")
        print(f"reading the witness file at verify ({lines} lines): {read_ms:.2f} ms")
    if args.kafka:
        with tempfile.TemporaryDirectory() as root:
            settings = Settings(data_dir=Path(root), database_url=None, views_database_url=None,
                                kafka_bootstrap_servers=args.kafka,
                                kafka_topic_prefix=f"bench{uuid4().hex[:8]}")
            system = bootstrap(settings)
            try:
                for i in range(10):
                    journey(system.app, i)
                beside, on_topic, read_ms = kafka(system, args.repeat, 50)
            finally:
                system.close()
        print(f"\nKafka ({args.kafka}): the relay writes nothing more for the witness")
        print(f"{'checkpoint beside the views (a feed keeps it)':<48} {beside:>8.3f} ms")
        print(f"{'relay checkpoint on the topic (acks=all)':<48} {on_topic:>8.3f} ms")
        print(f"reading the topic's witness at verify: {read_ms:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
