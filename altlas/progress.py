"""Progress for long CLI work: a bar with rate and ETA on a terminal, plain lines otherwise;
and, while a command waits for one thing, a line saying what and for how long."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
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


class Waiting:
    """One line on a terminal, rewritten in place: what the command waits for and since
    when, once it has waited ``after`` seconds (short waits go unnoticed). Nothing at all when
    the stream is not a terminal: logs and pipes get results only."""

    def __init__(self, stream: TextIO = sys.stderr, after: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.after, self.clock = stream, after, clock
        self.live = stream.isatty()
        self.what: str | None = None
        self.since = clock()
        self.shown = ""

    def update(self, what: str | None) -> None:
        """Say what is waited for now (None: nothing); the time counts from its change."""
        if what != self.what:
            self.what, self.since = what, self.clock()
        elapsed = self.clock() - self.since
        if not self.live or what is None or elapsed < self.after:
            self.clear()
            return
        line = f"{elapsed:,.0f}s  {what}"
        if line != self.shown:  # rewritten when the second changes, not at every look
            self.stream.write(f"\r\x1b[K{line}")
            self.stream.flush()
            self.shown = line

    def clear(self) -> None:
        """Take the line away, before a result is printed or when the command ends."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = ""
