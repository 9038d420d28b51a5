"""application.ports.PersonalFiles on the local disk: each file written in clear is listed in
``personal-files.jsonl`` in the data directory, which forgetting goes through (under an
exclusive lock, so two processes forgetting at once take turns).

A file is rewritten beside itself and renamed over the old one: what the old one held stays on
the disk's free blocks (and in backups) until they are reused. Files on another machine's data
directory, and what was written to standard output, are out of reach.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from application.personal_files import KIND_OF, FileKind, Reach, Swept

log = logging.getLogger("altlas.privacy")


class PersonalFileRegistry:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.listing = data_dir / "personal-files.jsonl"

    def write(self, kind: FileKind, path: str, lines: Iterable[str]) -> int:
        where = Path(path).absolute()
        written = 0
        with where.open("w", encoding="utf-8") as out:
            for line in lines:
                out.write(line)
                written += 1
        if kind.reach is not Reach.SEALED:
            with self._locked(), self.listing.open("a", encoding="utf-8") as listing:
                listing.write(json.dumps({"kind": kind.key, "path": str(where)}) + "\n")
        return written

    def forget(self, pseudonym: str, name: str) -> list[Swept]:
        with self._locked():
            listed = self._listed()
            swept = [_sweep(Path(path), KIND_OF[kind], pseudonym, name)
                     for path, kind in listed.items()]
            kept = [{"kind": listed[s.path], "path": s.path} for s in swept
                    if s.outcome not in ("removed", "gone already")]
            partial = self.listing.with_name(f"{self.listing.name}.partial")
            partial.write_text("".join(json.dumps(k) + "\n" for k in kept), encoding="utf-8")
            partial.replace(self.listing)
        for s in swept:
            log.warning("forgetting %s: %s %s (%s)", pseudonym, s.outcome, s.path, s.kind)
        return swept

    def _listed(self) -> dict[str, str]:
        """path → kind of every file listed."""
        try:
            lines = self.listing.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}
        return {e["path"]: e["kind"] for e in map(json.loads, filter(None, lines))
                if e.get("kind") in KIND_OF}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with (self.data_dir / "personal-files.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield


def _sweep(path: Path, kind: FileKind, pseudonym: str, name: str) -> Swept:
    def swept(outcome: str) -> Swept:
        return Swept(str(path), kind.key, outcome)

    if path.is_symlink():  # never followed: it could point anywhere altlas may write
        return swept("left: a symbolic link, not the file altlas wrote")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return swept("gone already")
    except (OSError, UnicodeDecodeError):
        return swept("left: not a file altlas wrote")
    if kind.reach is not Reach.REWRITTEN:
        if (kind.reach is Reach.ALWAYS_REMOVED or json.dumps(name) in text
                or pseudonym in text):
            path.unlink()
            return swept("removed")
        return swept("kept: it does not name them")
    lines = text.splitlines(keepends=True)
    found = [(line, o) for line in lines if (o := _object(line)) is not None]
    if len(found) != len(lines):
        return swept("left: not a file altlas wrote")
    kept = [line for line, o in found if not _theirs(o, {pseudonym, name})]
    if len(kept) != len(lines):
        partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
        partial.write_text("".join(kept), encoding="utf-8")
        os.chmod(partial, path.stat().st_mode)
        partial.replace(path)
    return swept(f"rewritten: {len(lines) - len(kept)} line(s) taken out")


def _object(line: str) -> dict[str, object] | None:
    try:
        found = json.loads(line)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _theirs(line: dict[str, object], person: set[str]) -> bool:
    """A line the person (by pseudonym, or by name in history from before pseudonyms)
    wrote, or one whose writer is not known (written before lines named theirs): either may
    be theirs."""
    by = line.get("by")
    return by in person or (by is None and line.get("source") != "dev")
