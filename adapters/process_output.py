"""Reading a process's output without ever holding more than a cap of it."""

from __future__ import annotations

import asyncio

DEFAULT_OUTPUT_CAP = 64 * 1024
_CHUNK = 64 * 1024


class CappedOutput:
    """Keeps the first ``cap`` bytes of a stream and counts the rest, so a step that prints
    100 MB neither fills memory nor blocks on a full pipe."""

    def __init__(self, cap: int = DEFAULT_OUTPUT_CAP) -> None:
        self.cap = cap
        self.kept = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.cap - len(self.kept)
        self.kept += chunk[:max(room, 0)]
        self.dropped += max(len(chunk) - max(room, 0), 0)

    async def drain(self, stream: asyncio.StreamReader) -> None:
        while chunk := await stream.read(_CHUNK):
            self.add(chunk)

    def text(self) -> str:
        out = self.kept.decode("utf-8", errors="replace")
        if self.dropped:
            out += f"\n[output truncated: {self.dropped} more bytes]"
        return out
