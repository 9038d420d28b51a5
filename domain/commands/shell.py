"""Shell code, parsed with bashlex: every program it runs, wherever it hides (pipelines,
substitutions, functions, here-documents), and the files its redirections write."""

from __future__ import annotations

import shlex
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any

from domain.commands.context import MAX_DEPTH, Analysis, Context
from domain.commands.floors import FLOORS, writes
from domain.commands.interpreters import INTERPRETERS
from domain.commands.model import Program, change
from domain.commands.specs import SPECS
from domain.commands.words import ANSI_C, ansi_c, braces, env_findings, split_assignments
from domain.commands.wrappers import WRAPPERS

_MAX_CODE = 20_000  # characters of shell code worth parsing at all
_EXPANSIONS = frozenset({"parameter", "commandsubstitution", "processsubstitution"})
_WRITING = frozenset({">", ">>", ">|", "&>", "&>>", "<>", ">&"})
_SINKS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty"})
_RESERVED = frozenset({"if", "then", "else", "elif", "fi", "do", "done", "while", "until",
                       "for", "case", "esac", "select", "function", "time", "coproc", "!",
                       "{", "}", "[[", "]]", "in", "-p"})
# Every program name the tables know, for matching a program given as a pattern.
_KNOWN = frozenset({*WRAPPERS, *INTERPRETERS, *FLOORS, *SPECS})


def _parse(code: str) -> list[Any]:
    """bashlex checks its grammar tables when imported (a quarter of a second here): only the
    processes that classify a command pay for it, not a relay or a projector starting."""
    import bashlex  # type: ignore[import-untyped]

    return list(bashlex.parse(code))


def shell_code(an: Analysis, code: str, ctx: Context) -> None:
    if ctx.depth > MAX_DEPTH or len(code) > _MAX_CODE:
        an.unknown("the shell code is too deep or too long to classify")
        return
    variants = [code]
    if "$'" in code:  # bashlex does not decode $'\x72m'; read it both ways
        variants.append(ANSI_C.sub(lambda m: shlex.quote(ansi_c(m.group(1))), code))
    for variant in variants:
        try:
            trees = _parse(variant)
        except Exception as e:  # hostile input meets a third-party parser: any failure
            an.unknown(f"cannot parse the shell code ({type(e).__name__})")
            _fallback(an, variant, ctx)
            continue
        for tree in trees:
            _node(an, tree, ctx)


def _node(an: Analysis, node: Any, ctx: Context) -> None:
    kind = node.kind
    if kind == "command":
        _simple(an, node, ctx)
    elif kind in ("commandsubstitution", "processsubstitution"):
        _node(an, node.command, ctx)
    elif kind == "parameter":
        _parameter(an, str(getattr(node, "value", "")), ctx)
    elif kind == "redirect":
        _redirect(an, node, ctx)
    else:
        for child in (*getattr(node, "parts", ()), *getattr(node, "list", ()),
                      *(getattr(node, "redirects", None) or ())):
            _node(an, child, ctx)


def _inside(an: Analysis, word: Any, ctx: Context) -> None:
    for part in getattr(word, "parts", ()):
        _node(an, part, ctx)


def _simple(an: Analysis, node: Any, ctx: Context) -> None:
    assignments: list[str] = []
    words: list[str] = []
    dynamic: list[bool] = []
    stdin: str | None = None
    for part in node.parts:
        if part.kind == "assignment" and not words:
            assignments.append(str(part.word))
            _inside(an, part, ctx)
        elif part.kind in ("word", "assignment"):
            words.append(str(part.word))
            dynamic.append(any(p.kind in _EXPANSIONS for p in getattr(part, "parts", ())))
            _inside(an, part, ctx)
        elif part.kind == "redirect":
            _redirect(an, part, ctx)
            stdin = _input_text(part) or stdin
    env = env_findings(assignments)
    if not words:
        an.findings.extend(env)  # a bare assignment holds for what follows
        return
    extra = (*env, *((change("its arguments are only known when it runs"),)
                     if any(dynamic[1:]) else ()))
    inner = replace(ctx, findings=(*ctx.findings, *extra), stdin=stdin)
    if dynamic[0]:
        an.unknown(f"the program {words[0]!r} is only known when it runs")
        an.programs.append(Program(tuple(words), inner.findings, ctx.via))
        return
    if any(c in words[0] for c in "*?["):
        an.unknown(f"the program {words[0]!r} is a pattern")
        pattern = words[0].rsplit("/", 1)[-1]
        for name in sorted(n for n in _KNOWN if fnmatchcase(n, pattern)):
            an.run([name, *words[1:]], inner)
    expanded = [alt for w in words for alt in braces(w)]
    if expanded != words:  # {rm,-rf,/} is rm -rf / unless it was quoted
        an.run(expanded, inner)
    an.run(words, inner)


def _parameter(an: Analysis, value: str, ctx: Context) -> None:
    """${x:-$(cmd)}: bashlex leaves the code inside an expansion unparsed."""
    if not any(s in value for s in ("$(", "`", "<(", ">(")):
        return
    try:
        trees = _parse(": " + value)
    except Exception:  # as in shell_code()
        an.unknown("cannot parse the code inside a parameter expansion")
        _fallback(an, value, ctx)
        return
    for tree in trees:
        for part in getattr(tree, "parts", ())[1:]:
            _inside(an, part, ctx)


def _redirect(an: Analysis, node: Any, ctx: Context) -> None:
    target = getattr(node, "output", None)
    if target is None or isinstance(target, int | str):
        return  # a file descriptor: 2>&1, >&-
    _inside(an, target, ctx)
    path = str(target.word)
    if node.type not in _WRITING or (node.type == ">&" and (path.isdigit() or path == "-")):
        return
    if path not in _SINKS and not path.startswith("/dev/fd/"):
        an.findings.append(writes(path, f"the redirection {node.type} {path}"))


def _fallback(an: Analysis, code: str, ctx: Context) -> None:
    """Code bashlex cannot parse (``case``, ``[[``, ``time``, arithmetic): split it at
    every operator and classify each piece too, so that what it cannot parse still
    raises the verdict by what it plainly runs."""
    lexer = shlex.shlex(code.replace("\n", " ; ").replace("`", " ; "), posix=True,
                        punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return
    piece: list[str] = []
    for token in [*tokens, ";"]:
        if token and all(c in "();<>|&" for c in token):
            while piece and (piece[0] in _RESERVED or piece[0].startswith("$")):
                piece.pop(0)
            assignments, words = split_assignments(piece)
            an.run(words, replace(ctx, findings=(*ctx.findings,
                                                 *env_findings(assignments))))
            piece = []
        else:
            piece.append(token)


def _input_text(redirect: Any) -> str | None:
    """The text a here-document or here-string gives a program."""
    if redirect.type == "<<<" and not isinstance(redirect.output, int | str):
        return str(redirect.output.word)
    heredoc = getattr(redirect, "heredoc", None)
    if redirect.type in ("<<", "<<-") and heredoc is not None:
        return str(heredoc.value).rsplit("\n", 1)[0]
    return None
