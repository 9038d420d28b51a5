"""Programs that run code they were given (sh -c, find -exec, ip netns exec, ssh HOST
CMD): the code is analysed in turn, and the program is at least a change."""

from __future__ import annotations

from domain.commands.context import Analysis, Context, Interpreter, Invocation
from domain.commands.model import Finding, change, destroys
from domain.commands.options import parse
from domain.commands.reads import awk_does
from domain.commands.specs import SSH_OPTIONS
from domain.commands.sql import CLIENTS


def _shell_program(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    args, i, inline = inv.args, 0, False
    found: list[Finding] = []
    while i < len(args):
        arg = args[i]
        if arg in ("--", "-"):
            i += 1
            break
        if arg.startswith("--"):
            if arg in ("--rcfile", "--init-file"):
                found.append(change(f"{inv.name} {arg} runs another file first"))
                i += 1
        elif len(arg) > 1 and arg[0] in "-+":
            inline = inline or "c" in arg[1:]
            i += sum(1 for c in arg[1:] if c in "oO")  # -o NAME, -O NAME take a word
        else:
            break
        i += 1
    operands = args[i:]
    inner = ctx.under(inv.name, keep_stdin=False)
    if inline and operands:
        an.shell(operands[0], inner)
        return [*found, change(f"{inv.name} -c runs inline shell code")]
    if operands and not inline:
        return [*found, change(f"{inv.name} runs the script {operands[0]}")]
    if ctx.stdin is not None:
        an.shell(ctx.stdin, inner)
    return [*found, change(f"{inv.name} runs shell code from its input")]


def _code_runner(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    return [change(f"{inv.name} runs code altlas cannot classify")]


def _awk(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    """awk's program is in its arguments: one that only reads and prints is no more than
    that; one that writes, pipes or calls system() is a change."""
    does = awk_does(inv.args)
    return [] if does is None else [change(does)]


def _at(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    if ctx.stdin is not None:
        an.shell(ctx.stdin, ctx.under(inv.name, keep_stdin=False))
    return [change(f"{inv.name} schedules commands to run later")]


def _find(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    found: list[Finding] = []
    args, i = inv.args, 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-exec", "-execdir", "-ok", "-okdir"):
            end = i
            while end < len(args) and not (args[end] == ";" or (
                    args[end] == "+" and args[end - 1] == "{}")):
                end += 1
            an.run(args[i:end], ctx.under(f"find {arg}", fed=True, keep_stdin=False))
            i = end + 1
        elif arg == "-delete":
            found.append(destroys("find -delete deletes every file it finds"))
        elif arg in ("-fprint", "-fprint0", "-fls", "-fprintf") and i < len(args):
            found.append(change(f"find {arg} writes {args[i]}"))
    return found


_IP_READS = frozenset({"show", "sh", "sho", "list", "lst", "ls", "get", "help"})
_IP_VALUED = frozenset({"-n", "-netns", "-b", "-batch", "-f", "-family", "-rc", "-rcvbuf",
                        "-l", "-loops"})


def _ip(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    args, i = inv.args, 0
    found: list[Finding] = []
    while i < len(args) and args[i].startswith("-"):
        if args[i] in ("-b", "-batch", "-force"):
            found.append(change("ip -batch runs commands from a file"))
        i += 2 if args[i] in _IP_VALUED else 1
    words = args[i:]
    if len(words) > 3 and words[1] == "exec" and words[0] in ("netns", "vrf", "netn", "net"):
        an.run(words[3:], ctx.under(f"ip {words[0]} exec"))
    elif len(words) > 1 and words[1] not in _IP_READS and words[0] != "monitor":
        found.append(change(f"ip {words[0]} {words[1]} changes the network configuration"))
    return found


_SSH_COMMANDS = frozenset({"proxycommand", "localcommand", "knownhostscommand",
                           "remotecommand"})


def _ssh(an: Analysis, inv: Invocation, ctx: Context) -> list[Finding]:
    options = list(inv.parsed.options)
    operands = list(inv.operands)
    if len(operands) > 1 and operands[1].startswith("-"):  # OpenSSH reads options after HOST
        again = parse(SSH_OPTIONS, operands[1:])
        options += again.options
        operands = [operands[0], *again.operands]
    inner = ctx.under("ssh", keep_stdin=False)
    for key, value in options:
        if key == "-o" and value:
            word, _, code = value.replace("=", " ", 1).partition(" ")
            if word.lower() in _SSH_COMMANDS and code.strip():
                an.shell(code, inner)
    if len(operands) > 1:
        an.shell(" ".join(operands[1:]), inner)
    return [change("ssh runs code on a host this policy does not classify")]


INTERPRETERS: dict[str, Interpreter] = {
    **dict.fromkeys(("sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "rbash",
                     "fish", "csh", "tcsh"), _shell_program),
    **dict.fromkeys(("python", "pypy", "perl", "ruby", "php", "lua", "node", "tclsh",
                     "wish", "Rscript", "expect", "osascript"), _code_runner),
    **dict.fromkeys(("awk", "gawk", "mawk", "nawk"), _awk),
    "at": _at,
    "batch": _at,
    **CLIENTS,
    "find": _find,
    "ip": _ip,
    "ssh": _ssh,
}
