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
    pass
