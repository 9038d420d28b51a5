"""The analysis of one action: each argument vector resolved to its program, wrappers
unwrapped, options normalised, floors applied, interpreted code followed."""

from __future__ import annotations

from collections.abc import Sequence

from domain.commands.context import MAX_DEPTH, Context, Invocation
from domain.commands.floors import FLOORS
from domain.commands.interpreters import INTERPRETERS
from domain.commands.model import Finding, Program, change
from domain.commands.options import parse, raw
from domain.commands.shell import shell_code
from domain.commands.specs import SPECS
from domain.commands.words import family, resolve
from domain.commands.wrappers import WRAPPERS


class Analyser:
    """Collects the programs of one action, following wrappers and interpreters."""

    def __init__(self) -> None:
        self.programs: list[Program] = []
        self.findings: list[Finding] = []
        self.complete = True

    def unknown(self, reason: str) -> None:
        self.findings.append(change(reason))
        self.complete = False

    # argument vectors

    def run(self, argv: Sequence[str], ctx: Context) -> None:
        if not argv:
            return
        if ctx.depth > MAX_DEPTH:
            self.unknown("wrappers are nested too deeply to follow")
            return
        shown, base = resolve(argv[0], ctx.root)
        name = family(base)
        wrapper = WRAPPERS.get(name)
        if wrapper is None:
            self.emit(shown, name, argv[1:], ctx)
            return
        if shown != base:  # a wrapper from somewhere unknown may be anything
            self.programs.append(Program((shown, *argv[1:]), ctx.findings, ctx.via))
        wrapper(self, name, list(argv[1:]), ctx)

    def emit(self, shown: str, name: str, args: Sequence[str], ctx: Context,
             *findings: Finding) -> None:
        """Records one program with its normalised arguments and its floors; code it
        interprets is analysed, and listed after it."""
        spec = SPECS.get(name)
        parsed = parse(spec, args) if spec else raw(args)
        invocation = Invocation(name, tuple(args), parsed, ctx.fed)
        found = [*ctx.findings, *findings]
        found += [change(f"{name}: {problem}") for problem in parsed.problems]
        floor = FLOORS.get(name)
        if floor is not None:
            found += floor(invocation)
        at = len(self.programs)
        interpreter = INTERPRETERS.get(name)
        if interpreter is not None:
            found += interpreter(self, invocation, ctx)
        self.programs.insert(at, Program((shown, *parsed.canonical), tuple(found), ctx.via))

    def interpreted(self, name: str, args: Sequence[str], ctx: Context, code: str,
                    reason: str, *findings: Finding) -> None:
        """A wrapper that hands its command to a shell: it runs, and so does the code."""
        self.programs.append(Program((name, *args), (*ctx.findings, *findings,
                                                     change(reason)), ctx.via))
        self.shell(code, ctx.under(name, *findings, keep_stdin=False))

    # shell code

    def shell(self, code: str, ctx: Context) -> None:
        shell_code(self, code, ctx)
