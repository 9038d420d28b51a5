"""Commands of the .atlas: importing another installation's."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import RecordConflictError

from application.core import AppCore
from application.documents import plan_checked
from domain.base import EventMeta
from domain.knowledge import AtlasImport, import_id


class KnowledgeCommands(AppCore):
    def import_atlas(self, source: str, digest: str, exported_at: str,
                     patterns: list[dict[str, Any]], actor: str) -> bool:
        """Record another installation's .atlas (AtlasImported); False, and nothing recorded,
        when the same document was imported before. Its plans pass the checks of every
        plan recorded here, or nothing is."""
        for i, pattern in enumerate(patterns):
            if pattern.get("plan") is not None:
                plan_checked(pattern["plan"], self.policy, f"$.patterns[{i}].plan")
        ident = import_id(digest)
        with self._turn(ident):
            if self.exists(ident):
                return False
            meta = EventMeta.for_command(self.privacy.pseudonym(actor))
            try:
                self.save(AtlasImport.record(source, digest, exported_at, patterns, meta))
            except RecordConflictError:  # another process imported it just now
                return False
            return True
