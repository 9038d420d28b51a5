"""What the analysis finds: the programs a step runs, and the least each of them does."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from domain.risk import Effect

# argv: exactly the argument vector (local steps); remote: the argument vector an ssh step
# runs on its host, leading NAME=VALUE words read as assignments (see analyse); shell: shell
# code (manual steps, code given to ``sh -c``).
Mode = Literal["argv", "remote", "shell"]

_EFFECTS = list(Effect)


def rank(effect: Effect) -> int:
    """Effects in order: read < reversible < change < destructive."""
    return _EFFECTS.index(effect)


@dataclass(frozen=True)
class Finding:
    """A built-in floor: the least something does, and why."""

    effect: Effect
    reason: str


def strongest(findings: Iterable[Finding]) -> Finding | None:
    """The finding with the highest effect; the first of equals."""
    best: Finding | None = None
    for finding in findings:
        if best is None or rank(finding.effect) > rank(best.effect):
            best = finding
    return best


def change(reason: str) -> Finding:
    return Finding(Effect.CHANGE, reason)


def destroys(reason: str) -> Finding:
    return Finding(Effect.DESTRUCTIVE, reason)


@dataclass(frozen=True)
class Program:
    """One program that will run, as its normalised argument vector."""

    argv: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    via: tuple[str, ...] = ()  # the wrappers or interpreters that run it, outermost first

    @property
    def line(self) -> str:
        """What policy rules match: quoted again, so a name with shell characters in it
        renders quoted and cannot pass for another program."""
        return shlex.join(self.argv)

    @property
    def floor(self) -> Finding | None:
        return strongest(self.findings)


@dataclass(frozen=True)
class Commands:
    """Everything a step runs, and what is known about the code around it."""

    programs: tuple[Program, ...]
    findings: tuple[Finding, ...]  # redirections, code that could not be parsed
    complete: bool  # False when part of what runs could not be known
