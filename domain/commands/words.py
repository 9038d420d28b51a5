"""Words as the shell and exec see them: program paths reduced to names, leading
assignments, ANSI-C quoting and brace expansion."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from domain.commands.model import Finding, change

_SYSTEM_DIRS = frozenset({"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin",
                          "/usr/local/sbin"})
_VERSIONED = re.compile(r"(python|pypy|perl|ruby|php|lua|node|tclsh|wish)(?:js)?[0-9.]*")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")
# Variables that change how a program presents its output, never what it does.
_HARMLESS_ENV = re.compile(r"^(LANG|LANGUAGE|LC_[A-Z]+|TZ|COLUMNS|LINES|TERM|NO_COLOR|"
                           r"TIME_STYLE|SYSTEMD_COLORS)$")


def resolve(word: str, root: str) -> tuple[str, str]:
    """The program as rules see it, and its name for the floors. A program in a standard
    system directory is its name; any other path stays a path, so it matches no rule
    written for the name (``./df`` is not df) while the floors still see the name."""
    base = word.rsplit("/", 1)[-1]
    if root != "/":
        return posixpath.join(root, word.lstrip("/")), base
    if "/" not in word:
        return word, base
    folder = posixpath.normpath(word[: len(word) - len(base)])
    if folder.startswith("//"):
        folder = "/" + folder.lstrip("/")
    return (base if base and folder in _SYSTEM_DIRS else word), base


def family(name: str) -> str:
    """The key the program tables know a program by: mkfs.ext4 is mkfs, python3.12 python."""
    if name.startswith("mkfs"):
        return "mkfs"
    versioned = _VERSIONED.fullmatch(name)
    return versioned.group(1) if versioned else name


def env_findings(assignments: Sequence[str]) -> tuple[Finding, ...]:
    names = [a.split("=", 1)[0].rstrip("+") for a in assignments]
    changed = [n for n in names if not _HARMLESS_ENV.match(n)]
    if not changed:
        return ()
    return (change(f"sets {', '.join(changed)} in the environment, which can change "
                   "what runs"),)


def split_assignments(words: Sequence[str]) -> tuple[list[str], list[str]]:
    count = 0
    while count < len(words) and ASSIGNMENT.match(words[count]):
        count += 1
    return list(words[:count]), list(words[count:])


ANSI_C = re.compile(r"\$'((?:[^'\\]|\\.)*)'", re.S)
_ANSI_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|"
                          r"[0-7]{1,3}|c.|.)", re.S)
_ANSI_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b",
                "E": "\x1b", "f": "\f", "v": "\v"}
_BRACE = re.compile(r"\{([^{}]*,[^{}]*)\}")


def ansi_c(body: str) -> str:
    def one(match: re.Match[str]) -> str:
        s = match.group(1)
        if s[0] in "xuU" and len(s) > 1:
            code = int(s[1:], 16)
            return chr(code) if code <= 0x10FFFF else ""
        if s[0] in "01234567":
            return chr(int(s, 8))
        if s[0] == "c" and len(s) == 2:
            return chr(ord(s[1]) & 0x1F)
        return _ANSI_SIMPLE.get(s, s)

    return _ANSI_ESCAPE.sub(one, body)


def braces(word: str, limit: int = 32) -> list[str]:
    """Bash brace expansion of the comma form, enough to see ``{rm,-rf,/}``."""
    match = _BRACE.search(word)
    if match is None:
        return [word]
    out: list[str] = []
    for alternative in match.group(1).split(","):
        out += braces(word[:match.start()] + alternative + word[match.end():], limit)
        if len(out) >= limit:
            break
    return out[:limit]
