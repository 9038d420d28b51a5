"""Runs allow-listed commands on the altlas host: argv only, never a shell."""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from collections.abc import Sequence
from re import Pattern
from typing import IO

from altlas.application.ports import StepOutcome
from altlas.domain.plan import PlanStep

DEFAULT_OUTPUT_CAP = 64 * 1024
_CHUNK = 64 * 1024


class LocalExecutor:
    """Executes ``local`` steps; re-checks the allow-list even though the plan was checked."""

    def __init__(
        self, allow: Sequence[Pattern[str]], output_cap: int = DEFAULT_OUTPUT_CAP
    ) -> None:
        self._allow = tuple(allow)
        self._cap = output_cap

    def execute(self, step: PlanStep) -> StepOutcome:
        started = time.monotonic()
        if not any(p.search(step.action) for p in self._allow):
            refusal = f"{step.action!r} is not on the local allow-list"
            return StepOutcome(False, None, "", refusal, 0)
        argv = shlex.split(step.action)
        try:
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                shell=False, close_fds=True,
            )
        except OSError as e:
            return StepOutcome(False, None, "", f"cannot start {argv[0]}: {e.strerror}",
                               _ms_since(started))
        assert proc.stdout is not None
        collector = _CappedReader(proc.stdout, self._cap)
        reader = threading.Thread(target=collector.drain, daemon=True)
        reader.start()
        try:
            code = proc.wait(timeout=step.timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            reader.join(timeout=1)
            return StepOutcome(False, None, collector.text(),
                               f"timed out after {step.timeout_s:g}s", _ms_since(started))
        reader.join(timeout=5)
        output = collector.text()
        if code != 0:
            return StepOutcome(False, code, output, f"exited with code {code}", _ms_since(started))
        return StepOutcome(True, code, output, None, _ms_since(started))


class _CappedReader:
    """Keeps the first ``cap`` bytes of a stream and discards the rest, so output never blocks."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self._stream = stream
        self._cap = cap
        self._kept = bytearray()
        self._dropped = 0

    def drain(self) -> None:
        while chunk := self._stream.read(_CHUNK):
            room = self._cap - len(self._kept)
            self._kept += chunk[:room]
            self._dropped += max(len(chunk) - room, 0)

    def text(self) -> str:
        out = self._kept.decode("utf-8", errors="replace")
        if self._dropped:
            out += f"\n[output truncated: {self._dropped} more bytes]"
        return out


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
