"""A witness of how far the history went, kept where the store's owner does not write: the
checkpoints beside the views live in a database the same owner controls, so a history cut
short together with its views and checkpoints passes them. `audit verify` compares the
store with what the witness saw (docs/ARCHITECTURE.md §9).

The witnesses: a file appended to outside the data directory, or an HTTP sink on another
host (the embedded feed tells either its head after every batch it applies), and, with
Kafka, the events topic itself, whose newest messages say how far the relay published.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx
from confluent_kafka import KafkaException, TopicPartition

from domain.errors import DomainError
from streams.checkpoints import Head
from streams.cloudevents import Checkpoint, PoisonError, decode
from streams.kafka import (
    KafkaConfig,
    KafkaUnavailableError,
    TopicMissingError,
    make_consumer,
    watermarks,
)


@dataclass
class Testimony:
    """What a witness says: its checkpoints (oldest first; those a recorded acceptance of a
    loss set aside are in ``accepted``), and what in it could not be read."""

    checkpoints: list[Checkpoint] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def last(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


class Witness(Protocol):
    name: str  # where it is, as people are told ("witness file /srv/w/altlas.jsonl")

    def saw(self, head: Head) -> None:
        """Remember that the history reached ``head`` (after the views committed it)."""

    def accepted(self, end: Head, note: str) -> None:
        """Remember that an operator accepted a history ending at ``end``."""

    def testimony(self) -> Testimony: ...


class WitnessUnavailableError(DomainError):
    """The witness could not be told; the message says why (a command: one line, exit 2)."""


class _Lines(ABC):
    """A witness told in JSON lines: one per batch the embedded feed applies, one per
    accepted loss (read back by read_lines)."""

    def saw(self, head: Head) -> None:
        self._tell(self._line(head))

    def accepted(self, end: Head, note: str) -> None:
        self._tell(self._line(end, accepted=note))

    @staticmethod
    def _line(head: Head, **extra: str) -> bytes:
        return (json.dumps({"position": head.position, "events": head.events,
                            "running_hash": head.running_hash,
                            "time": datetime.now(UTC).isoformat(), **extra},
                           separators=(",", ":")) + "\n").encode()

    @abstractmethod
    def _tell(self, data: bytes) -> None:
        """Hand the line to the witness; WitnessUnavailableError when it cannot take it."""


class FileWitness(_Lines):
    """Lines appended (O_APPEND, fsync, no link followed) to a file in another directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"witness file {path}"

    def _tell(self, data: bytes) -> None:
        try:
            self._write(data)
        except OSError as e:
            raise WitnessUnavailableError(e.strerror or str(e)) from None

    def _write(self, data: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def testimony(self) -> Testimony:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return Testimony()
        except OSError as e:
            return Testimony(problems=[f"{self.name} cannot be read: {e.strerror}"])
        return read_lines(self.name, text)


def read_lines(name: str, text: str) -> Testimony:
    """A witness's JSON lines, in the order they were told. A line saying less than one
    before it (the views fed again after a loss) adds nothing: the furthest counts until a
    loss is accepted."""
    told = Testimony()
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        try:
            if not line.endswith("\n"):
                raise ValueError("cut short")
            item = json.loads(line)
            checkpoint = Checkpoint(int(item["position"]), str(item["running_hash"]),
                                    int(item["events"]), str(item["time"]))
        except (ValueError, TypeError, KeyError):
            told.problems.append(f"{name}: line {number} is not a checkpoint (cut short or "
                                 "written by something else)")
            continue
        if "accepted" in item:
            told.accepted.append(str(item["accepted"]))
            told.checkpoints = [c for c in told.checkpoints
                                if c.position <= checkpoint.position]
        elif told.last is not None and checkpoint.events <= told.last.events:
            continue
        told.checkpoints.append(checkpoint)
    return told


class HttpWitness(_Lines):
    """A sink on another host: each line is POSTed to ``url`` as it would be appended to a
    file, and a GET of ``url`` answers every line received, in order (JSON lines). Whoever
    runs the sink owns the witness."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self.name = f"witness at {url}"

    def _tell(self, data: bytes) -> None:
        try:
            httpx.post(self.url, content=data, timeout=self.timeout,
                       headers={"Content-Type": "application/x-ndjson"}).raise_for_status()
        except httpx.HTTPError as e:
            raise WitnessUnavailableError(str(e)) from None

    def testimony(self) -> Testimony:
        try:
            answer = httpx.get(self.url, timeout=self.timeout)
            answer.raise_for_status()
        except httpx.HTTPError as e:
            return Testimony(problems=[f"the {self.name} cannot be read, so the end of the "
                                       f"history is unchecked: {e}"])
        return read_lines(self.name, answer.text)


class TopicWitness:
    """The events topic: the newest message of each partition, an event or the relay's
    checkpoint, says how far the relay published. Written by the relay, so ``saw`` and
    ``accepted`` have nothing to add."""

    def __init__(self, config: KafkaConfig, timeout: float = 10.0) -> None:
        self.config = config
        self.timeout = timeout
        self.name = f"topic {config.topic}"

    def saw(self, head: Head) -> None:
        return None

    def accepted(self, end: Head, note: str) -> None:
        return None

    def testimony(self) -> Testimony:
        told = Testimony()
        try:
            newest = list(self._newest())
        except TopicMissingError:
            return told  # nothing published yet (whoever may delete it owns the witness)
        except (KafkaUnavailableError, KafkaException) as e:
            told.problems.append(f"the witness ({self.name}) cannot be read, so the end of "
                                 f"the history is unchecked: {e}")
            return told
        if newest:
            told.checkpoints.append(max(newest, key=lambda c: (c.position, c.events)))
        return told

    def _newest(self) -> Iterator[Checkpoint]:
        """The last message of every partition that has one, as a checkpoint (an event's
        says only its position: ``events`` 0 and no hash)."""
        marks = {p: high for p, (low, high) in watermarks(self.config, self.timeout).items()
                 if high > low}
        if not marks:
            return
        consumer = make_consumer(self.config, "altlas.witness")
        try:
            consumer.assign([TopicPartition(self.config.topic, p, high - 1)
                             for p, high in marks.items()])
            waiting = set(marks)
            for msg in iter(lambda: consumer.poll(self.timeout), None):
                if msg.error() is not None or msg.partition() not in waiting:
                    continue
                waiting.discard(msg.partition())
                try:
                    item = decode(msg.value())
                except PoisonError:
                    continue
                yield item if isinstance(item, Checkpoint) else Checkpoint(
                    item.position or 0, "", 0, item.time)
                if not waiting:
                    return
            raise KafkaUnavailableError(f"timed out reading partitions {sorted(waiting)}")
        finally:
            consumer.close()
