"""Runs ``ssh`` steps over asyncssh: known_hosts verification, keys from settings, the
inventory's address, port and user, output capped, bounded by the step's timeout."""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import asyncssh

from adapters.process_output import DEFAULT_OUTPUT_CAP, CappedOutput, ok_exit_codes
from application.ports import StepContext, StepOutcome
from domain.commands import mode_of
from domain.facts import command_facts
from domain.plan import PlanStep
from domain.policy import Host
from domain.secrets import REFERENCE, UnknownSecretError, substitute


class SSHExecutor:
    def __init__(self, hosts: Mapping[str, Host], *, known_hosts: Path | None,
                 client_key: Path | None, default_user: str | None,
                 connect_timeout: float = 10.0, output_cap: int = DEFAULT_OUTPUT_CAP) -> None:
        self._hosts = hosts
        self._known_hosts = known_hosts
        self._client_key = client_key
        self._default_user = default_user
        self._connect_timeout = connect_timeout
        self._cap = output_cap

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        started = time.monotonic()
        host = self._hosts.get(step.target or "")
        if host is None:
            return StepOutcome(False, None, "", f"unknown host {step.target!r}", 0)
        if self._known_hosts is None:
            return StepOutcome(False, None, "", "ALTLAS_SSH_KNOWN_HOSTS is not set: altlas "
                               "never connects to a host it cannot verify", 0)
        if mode_of(step.kind, step.action) == "shell":  # classified as the shell code it is
            if REFERENCE.search(step.action):
                return StepOutcome(False, None, "", "a secret cannot be used in shell code", 0)
            return await self._run(host, remote_command(["sh", "-c", step.action]), started,
                                   step)
        try:
            words = shlex.split(step.action)
        except ValueError as e:
            return StepOutcome(False, None, "", f"cannot parse command: {e}", 0)
        try:  # word by word: a secret's value is one argument, quoted as every word is
            argv = [substitute(word, context.secrets) for word in words]
        except UnknownSecretError as e:
            return StepOutcome(False, None, "", str(e), 0)
        if not argv:  # asyncssh asks for an interactive shell when the command is empty
            return StepOutcome(False, None, "", "nothing to run", 0)
        return await self._run(host, remote_command(argv), started, step)

    async def _run(self, host: Host, command: str, started: float,
                   step: PlanStep) -> StepOutcome:
        where = f"{host.name} ({host.reach}:{host.port or 22})"
        deadline = started + step.timeout_s
        try:
            conn = await asyncio.wait_for(asyncssh.connect(
                host.reach, port=host.port or 22, username=host.user or self._default_user,
                known_hosts=str(self._known_hosts),
                client_keys=[str(self._client_key)] if self._client_key else None,
                connect_timeout=self._connect_timeout, agent_path=None, config=[],
            ), timeout=max(min(self._connect_timeout, deadline - time.monotonic()), 0.01))
        except TimeoutError:
            return StepOutcome(False, None, "", f"timed out connecting to {where}",
                               _ms_since(started))
        except asyncssh.HostKeyNotVerifiable:
            return StepOutcome(False, None, "", f"host key of {where} does not match "
                               "known_hosts: refusing to connect", _ms_since(started))
        except asyncssh.PermissionDenied:
            return StepOutcome(False, None, "", f"{where} refused our key",
                               _ms_since(started))
        except (OSError, asyncssh.Error) as e:
            reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
            return StepOutcome(False, None, "", f"cannot reach {where}: {reason}",
                               _ms_since(started))
        output = CappedOutput(self._cap)
        try:
            proc = await conn.create_process(command, stderr=asyncssh.STDOUT, encoding=None)
            await asyncio.wait_for(
                asyncio.gather(output.drain(proc.stdout), proc.wait()),  # type: ignore[arg-type]
                timeout=max(deadline - time.monotonic(), 0.01))
        except TimeoutError:
            conn.abort()  # drop the connection now; the remote command gets SIGHUP
            return StepOutcome(False, None, output.text(), f"timed out after "
                               f"{step.timeout_s:g}s on {host.name}", _ms_since(started))
        except (OSError, asyncssh.Error) as e:
            conn.abort()
            return StepOutcome(False, None, output.text(), f"lost {where}: {e}",
                               _ms_since(started))
        conn.close()
        code = proc.exit_status
        text = output.text()
        facts = command_facts(text, code)
        if code not in ok_exit_codes(step):
            return StepOutcome(False, code, text, f"exited with code {code} on {host.name}",
                               _ms_since(started), facts)
        return StepOutcome(True, code, text, None, _ms_since(started), facts)


def remote_command(argv: Sequence[str]) -> str:
    """The command line for ``argv``. The host hands an exec request to the user's shell, so
    every word goes in single quotes (a quote inside as '"'"'): shlex.join leaves words
    like ``FOO=bar`` or ``time`` bare, which the shell reads as an assignment or a keyword.
    Quoted, a POSIX shell splits the line back into exactly ``argv`` and expands nothing;
    and ``exec`` makes it run ``argv[0]`` as a program, never as one of its builtins
    (bash's ``printf -v 'a[$(…)]'`` or ``declare`` would evaluate code)."""
    return "exec " + " ".join("'" + word.replace("'", "'\"'\"'") + "'" for word in argv)


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
