"""Knowledge brought in from another installation: an .atlas export, merged as one event.

The import's id comes from the document's digest, so the same file imported twice finds the
first import and changes nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.base import AuditedAggregate, EventMeta
from domain.errors import InvalidInputError

_IMPORTS = uuid5(NAMESPACE_URL, "urn:altlas:atlas-imports")
_WATCHES = uuid5(NAMESPACE_URL, "urn:altlas:pattern-watches")
MAX_SOURCE_CHARS = 200


def import_id(digest: str) -> UUID:
    return uuid5(_IMPORTS, digest)


class AtlasImport(AuditedAggregate):
    class Imported(AuditedAggregate.Created):
        """Another installation's patterns, as its export had them, marked as imported."""

        type_name = "AtlasImported"
        source: str
        digest: str  # sha256 of the document as read
        exported_at: str
        patterns: list[dict[str, Any]]
        runs: int

    def __init__(self, source: str, digest: str, exported_at: str,
                 patterns: list[dict[str, Any]], runs: int) -> None:
        self.source = source
        self.digest = digest
        self.exported_at = exported_at
        self.patterns = patterns
        self.runs = runs

    @classmethod
    def record(cls, source: str, digest: str, exported_at: str,
               patterns: list[dict[str, Any]], meta: EventMeta) -> AtlasImport:
        if not patterns:
            raise EmptyImportError("the document holds no patterns; nothing to import")
        return cls._create_audited(
            cls.Imported, meta, id=import_id(digest), source=source[:MAX_SOURCE_CHARS],
            digest=digest, exported_at=exported_at, patterns=patterns,
            runs=sum(int(p["runs"]) for p in patterns))


class EmptyImportError(InvalidInputError):
    """An .atlas document without patterns: there is nothing to record."""


def watch_id(pattern: str) -> UUID:
    return uuid5(_WATCHES, pattern)


class PatternWatch(AuditedAggregate):
    """Whether a kind of plan fails too often: said once when its success rate falls below
    the policy's threshold, once when it is back above."""

    class Opened(AuditedAggregate.Created):
        type_name = "PatternWatchOpened"
        pattern: str

    class Low(AuditedAggregate.Event):
        type_name = "PatternSuccessLow"
        runs: int
        successes: int
        threshold: float
        last_failure: str | None
        run_id: str  # the run whose outcome crossed it

        def apply(self, watch: PatternWatch) -> None:
            watch.low = True
            watch.said = {"successes": self.successes, "runs": self.runs,
                          "failure": self.last_failure or "-"}

    class Recovered(AuditedAggregate.Event):
        type_name = "PatternSuccessRecovered"
        runs: int
        successes: int
        threshold: float
        run_id: str

        def apply(self, watch: PatternWatch) -> None:
            watch.low = False

    def __init__(self, pattern: str, correlation_id: str) -> None:
        self.pattern = pattern
        self.correlation_id = correlation_id
        self.low = False
        self.said: dict[str, Any] = {}  # what the latest PatternSuccessLow said

    @classmethod
    def open(cls, pattern: str, meta: EventMeta) -> PatternWatch:
        return cls._create_audited(cls.Opened, meta, id=watch_id(pattern), pattern=pattern)

    def observe(self, runs: int, successes: int, threshold: float, min_runs: int,
                last_failure: str | None, run_id: str, meta: EventMeta) -> None:
        """The pattern's counts after a run completed; records a crossing, if it is one."""
        if runs < min_runs:
            return
        rate = successes / runs
        if not self.low and rate < threshold:
            self._trigger(self.Low, meta, runs=runs, successes=successes, threshold=threshold,
                          last_failure=last_failure, run_id=run_id)
        elif self.low and rate >= threshold:
            self._trigger(self.Recovered, meta, runs=runs, successes=successes,
                          threshold=threshold, run_id=run_id)
