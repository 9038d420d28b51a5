"""Every kind of file altlas writes that holds people's words, and how forgetting a person
reaches it: the one list (README "People and forgetting" shows it). A file of a kind here is
written only through ports.PersonalFiles, which remembers where; forgetting goes through them
all before it destroys the person's key.

- ``REWRITTEN``: lines in clear, each with the pseudonym of who wrote it; the person's lines
  (and lines whose writer is not known) are taken out.
- ``REMOVED``: a document in clear that names people; removed if it names the person.
- ``ALWAYS_REMOVED``: a document in clear that quotes requests without saying whose; removed
  whenever anyone is forgotten (export it again).
- ``SEALED``: pseudonyms and sealed text only; destroying the key is what forgets them there,
  copies included.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Reach(Enum):
    REWRITTEN = "rewritten without the person's lines"
    REMOVED = "removed if it names the person"
    ALWAYS_REMOVED = "removed whenever anyone is forgotten: it does not say whose words it quotes"
    SEALED = "holds pseudonyms and sealed text only: destroying the key forgets them"


@dataclass(frozen=True)
class FileKind:
    key: str
    written_by: str
    holds: str
    reach: Reach


TRAINING_SET = FileKind(
    "training-set", "a training asked for (data dir training/<id>.jsonl)",
    "requests in clear, each line with its writer", Reach.REWRITTEN)
DATASET = FileKind(
    "dataset", "`models dataset --output FILE`",
    "requests in clear, each line with its writer", Reach.REWRITTEN)
PERSONAL_DATA = FileKind(
    "personal-data", "`privacy export PERSON --output FILE`",
    "a person's events as people read them: names and words in clear", Reach.REMOVED)
ATLAS = FileKind(
    "atlas", "`knowledge atlas export --output FILE`",
    "requests in clear, not saying whose", Reach.ALWAYS_REMOVED)
AUDIT_EXPORT = FileKind(
    "audit-export", "`audit export --output FILE`", "the events as recorded", Reach.SEALED)
REPLAY = FileKind(
    "replay", "`audit replay`, reads with --as-of (data dir replay-*.sqlite3, as-of/)",
    "the views as recorded", Reach.SEALED)

KINDS = (TRAINING_SET, DATASET, PERSONAL_DATA, ATLAS, AUDIT_EXPORT, REPLAY)
KIND_OF = {k.key: k for k in KINDS}


@dataclass(frozen=True)
class Swept:
    """What forgetting did to one file."""

    path: str
    kind: str
    outcome: str  # "rewritten: N line(s) taken out", "removed", "gone already"

    def recorded(self) -> str:
        """As PersonForgotten records it: the kind and what was done, never the path
        (a file's name may name the person)."""
        return f"{self.kind}: {self.outcome}"
