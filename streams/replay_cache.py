"""Views as of a moment, kept on disk within a size bound. A moment is resolved to the last
event recorded at or before it, so every moment between two events shares one replay, and
the least recently used replays are removed once their files pass the bound: asking for
many moments costs replays, never the disk."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path

LOCK = ".lock"


class ReplayCache:
    """Replays by position in ``folder``: ``N.sqlite3`` (the views up to position N) and
    ``N.json`` (how many events they hold, the hash of the event at N, and, by its
    modification time, when they were last used)."""

    def __init__(self, folder: Path, max_bytes: int,
                 forget: Callable[[str], None] = lambda url: None) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.forget = forget  # closes what this process holds open on a removed replay

    def url(self, position: int) -> str:
        return f"sqlite:///{self.folder / f'{position}.sqlite3'}"

    def get(self, position: int, tip: str, build: Callable[[str], int]) -> tuple[str, int]:
        """The views up to ``position`` (whose event has hash ``tip``) and how many events
        they hold: kept ones, or ``build(url)``'s, which replays into url and returns the
        count. One replay at a time, across processes."""
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = self.folder / f"{position}.json"
        url = self.url(position)
        with open(self.folder / LOCK, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if meta.exists():
                kept = json.loads(meta.read_text())
                if kept.get("tip") == tip:
                    os.utime(meta)
                    return url, int(kept["events"])
            self._remove(str(position))  # a history that changed since: replayed again
            events = build(url)
            meta.write_text(json.dumps({"position": position, "tip": tip, "events": events}))
            self._evict(keep=str(position))
        return url, events

    def _evict(self, keep: str) -> None:
        """Remove what no finished replay owns, then the least recently used replays until
        the rest fit the bound (the one just made always stays)."""
        files = [f for f in self.folder.iterdir() if f.name != LOCK]
        metas = {f.stem: f.stat().st_mtime for f in files if f.suffix == ".json"}
        sizes: dict[str, int] = {}
        for f in files:
            name = f.name.split(".", 1)[0]
            if name not in metas:
                self._unlink(f)
            else:
                sizes[name] = sizes.get(name, 0) + f.stat().st_size
        total = sum(sizes.values())
        for name in sorted(metas, key=lambda n: metas[n]):
            if total <= self.max_bytes:
                break
            if name != keep:
                self._remove(name)
                total -= sizes[name]

    def _remove(self, name: str) -> None:
        for f in self.folder.glob(f"{name}.*"):
            self._unlink(f)

    def _unlink(self, f: Path) -> None:
        if f.suffix == ".sqlite3":
            self.forget(f"sqlite:///{f}")
        f.unlink(missing_ok=True)

    def clear(self) -> None:
        """Remove every replay (the history they show was given up)."""
        if self.folder.is_dir():
            with open(self.folder / LOCK, "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                for f in self.folder.iterdir():
                    if f.name != LOCK:
                        self._unlink(f)
