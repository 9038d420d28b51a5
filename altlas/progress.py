"""Progress for long CLI work: a bar with rate and ETA on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm


class Progress:
    def __init__(self, label: str, total: int | None, stream: TextIO = sys.stderr,
                 every_seconds: float = 5.0) -> None:
        self.label, self.total, self.stream = label, total, stream
        self.every = every_seconds
        self.done = 0
        self.started = self.last = time.monotonic()
        self.bar = (tqdm(total=total, desc=label, unit="ev", unit_scale=True, file=stream)
                    if stream.isatty() else None)

    def __call__(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._line()

    def _line(self, final: bool = False) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        of = f"/{self.total}" if self.total else ""
        text = f"{self.label}: {self.done}{of} events, {rate:,.0f} events/s"
        if self.total and not final and rate > 0:
            text += f", ETA {max(self.total - self.done, 0) / rate:,.0f}s"
        if final:
            text += f", done in {elapsed:,.1f}s"
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            self._line(final=True)
