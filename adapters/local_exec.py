"""Runs allow-listed commands on the altlas host: argv only, never a shell."""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import time
from collections.abc import Callable

from adapters.process_output import DEFAULT_OUTPUT_CAP, CappedOutput, ok_exit_codes
from application.ports import StepContext, StepOutcome
from domain.errors import DomainError
from domain.facts import command_facts
from domain.plan import PlanStep
from domain.secrets import UnknownSecretError, substitute


class LocalExecutor:
    """Executes ``local`` steps; asks the policy again even though the plan was checked.

    ``check`` is the policy's own (``Policy.classify``, raising a DomainError for a step it
    refuses), so the executor judges what runs as the policy does, ``/usr/bin/df -h`` as
    ``df -h``, and never the raw text: the two cannot disagree."""

    def __init__(
        self, check: Callable[[PlanStep], object], output_cap: int = DEFAULT_OUTPUT_CAP
    ) -> None:
        self._check = check
        self._cap = output_cap

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        started = time.monotonic()
        try:
            self._check(step)
        except DomainError as refused:
            return StepOutcome(False, None, "", str(refused), 0)
        try:  # word by word: a secret's value is one argument, whatever it holds
            argv = [substitute(word, context.secrets) for word in shlex.split(step.action)]
        except UnknownSecretError as e:
            return StepOutcome(False, None, "", str(e), 0)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL)
        except OSError as e:
            return StepOutcome(False, None, "", f"cannot start {argv[0]}: {e.strerror}",
                               _ms_since(started))
        assert proc.stdout is not None
        output = CappedOutput(self._cap)
        try:
            await asyncio.wait_for(asyncio.gather(output.drain(proc.stdout), proc.wait()),
                                   timeout=step.timeout_s)
        except (TimeoutError, asyncio.CancelledError) as stopped:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            if isinstance(stopped, asyncio.CancelledError):  # its worker is stopping
                raise
            return StepOutcome(False, None, output.text(), f"timed out after {step.timeout_s:g}s",
                               _ms_since(started))
        code = proc.returncode
        text = output.text()
        facts = command_facts(text, code)
        if code not in ok_exit_codes(step):
            return StepOutcome(False, code, text, f"exited with code {code}", _ms_since(started),
                               facts)
        return StepOutcome(True, code, text, None, _ms_since(started), facts)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
