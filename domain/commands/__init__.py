"""What a step will actually run, as opposed to the text someone wrote (ARCHITECTURE.md §8).

A step's action becomes every program that will run, each as a normalised argument vector:
quotes and escapes removed, programs in the standard system directories reduced to their
name, wrappers (sudo, env, timeout, xargs, find -exec ...) unwrapped, options normalised
(``rm --force --recursive /``, ``rm -fr /`` and ``rm -rf /`` all read ``rm -f -r /``), and
code handed to an interpreter (``bash -c``, ``psql -c``, ``ssh host cmd``) parsed in turn.
Beside each program come the built-in floors: what it does at least, whatever a policy rule
says, because some things (``rm -r``, ``DROP TABLE``, ``journalctl --vacuum-time``) cannot be
made harmless by a regular expression. Whatever cannot be read is at least a change.

Pure functions: nothing here runs, reads or opens anything.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from domain.commands.analyser import Analyser
from domain.commands.context import Context
from domain.commands.model import Commands, Finding, Mode, Program, rank, strongest
from domain.commands.words import ASSIGNMENT, env_findings

__all__ = ["Commands", "Finding", "Mode", "Program", "analyse", "is_shell", "mode_of", "rank",
           "strongest"]

_OPERATORS = frozenset("|&;<>()")
# Outside quotes, what a shell would act on rather than pass on as part of a word.
_EXPANDS = re.compile(r"[$`*?\[{]|(^|\s)~")
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_SECRET = re.compile(r"\{secret:[^{}\s]*\}")  # domain.secrets.REFERENCE: resolved as a word


def is_shell(action: str) -> bool:
    """Whether a command line is shell code (a pipe, ``&&``, ``;``, a redirection, a
    substitution, a variable, a glob…) rather than one program's argument vector: run word by
    word, its operators would reach the program as literal arguments."""
    lexer = shlex.shlex(action, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return False  # it does not split: refused as it is, whatever the mode
    if any(t and set(t) <= _OPERATORS for t in tokens):
        return True
    return bool(_EXPANDS.search(_QUOTED.sub("''", _SECRET.sub("s", action))))


def mode_of(kind: str, action: str) -> Mode:
    """How a step's action is read, as its executor will run it: a manual step as shell
    code; an ssh step as the argument vector it is, or as shell code (``sh -c``) when it is
    one; a local step as an argument vector."""
    if kind == "manual" or (kind == "ssh" and is_shell(action)):
        return "shell"
    return "remote" if kind == "ssh" else "argv"


def analyse(action: str, mode: Mode) -> Commands:
    """Every program ``action`` runs. Argument vectors that do not split (unbalanced
    quotes) raise ValueError: nothing would run them; shell code that does not parse is a
    change instead, since a person may still paste it."""
    analyser = Analyser()
    if mode == "shell":
        analyser.shell(action, Context())
    else:
        argv = shlex.split(action)
        context = Context()
        if mode == "remote":
            # The ssh executor quotes every word, so the host runs exactly argv and a leading
            # NAME=VALUE word is a program name there. It is read as the assignment it looks
            # like instead, as whoever approves the step reads it: ``FOO=1 rm -rf /`` stays
            # destructive, ``LANG=C df`` a read. A word that needs quoting is not read so.
            count = 0
            while count < len(argv) and ASSIGNMENT.match(argv[count]) and (
                    shlex.quote(argv[count]) == argv[count]):
                count += 1
            context = replace(context, findings=env_findings(argv[:count]))
            argv = argv[count:]
        analyser.run(argv, context)
    return Commands(tuple(analyser.programs), tuple(analyser.findings), analyser.complete)
