"""Where a program runs, and what wrappers, interpreters and shell code may do to the
analysis in progress (the Analysis protocol keeps them free of the analyser itself)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.commands.model import Finding, Program
from domain.commands.options import Parsed

MAX_DEPTH = 12  # wrappers and interpreters nested deeper than this are not followed


@dataclass(frozen=True)
class Context:
    """Where a program runs: under which wrappers, with what they add."""

    depth: int = 0
    via: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()  # raised by the wrappers, owed by what they run
    fed: bool = False  # xargs or find -exec add operands nobody wrote down
    root: str = "/"  # chroot
    stdin: str | None = None  # code given on standard input (here-documents)

    def under(self, wrapper: str, *findings: Finding, fed: bool = False,
              root: str | None = None, keep_stdin: bool = True) -> Context:
        return Context(self.depth + 1, (*self.via, wrapper), (*self.findings, *findings),
                       self.fed or fed, root or self.root,
                       self.stdin if keep_stdin else None)


@dataclass(frozen=True)
class Invocation:
    name: str
    args: tuple[str, ...]
    parsed: Parsed
    fed: bool

    @property
    def keys(self) -> frozenset[str]:
        return self.parsed.keys

    @property
    def operands(self) -> tuple[str, ...]:
        return self.parsed.operands


class Analysis(Protocol):
    """The analysis in progress (analyser.Analyser), as the code it calls out to sees it."""

    programs: list[Program]
    findings: list[Finding]
    complete: bool

    def unknown(self, reason: str) -> None: ...

    def run(self, argv: Sequence[str], ctx: Context) -> None: ...

    def shell(self, code: str, ctx: Context) -> None: ...

    def interpreted(self, name: str, args: Sequence[str], ctx: Context, code: str,
                    reason: str, *findings: Finding) -> None: ...


# A program that runs code it was given: what it does, after analysing that code.
Interpreter = Callable[[Analysis, Invocation, Context], list[Finding]]
