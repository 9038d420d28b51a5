"""Reading a process's output without ever holding more than a cap of it."""

from __future__ import annotations

import asyncio

from domain.plan import PlanStep

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


def ok_exit_codes(step: PlanStep) -> frozenset[int]:
    """Exit codes that answer rather than fail (``systemctl is-active`` says 3 for
    inactive); a plan names them in ``params.ok_exit_codes``, 0 by default."""
    codes = step.params.get("ok_exit_codes", [0])
    return frozenset(c for c in codes if isinstance(c, int) and not isinstance(c, bool))
