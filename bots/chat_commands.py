"""Chat command lines (`do …`, `approve ID`, …) parsed into typed commands: the same words in
Slack, Discord and the HTTP API's /commands."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime

from domain.task import MODES, PERSONAS


@dataclass(frozen=True)
class Do:
    request: str
    mode: str = "normal"
    persona: str = "technical_expert"
    env: str | None = None
    chaos_level: int | None = None


@dataclass(frozen=True)
class Status:
    ref: str


@dataclass(frozen=True)
class Runs:
    """`runs`: the latest runs."""


@dataclass(frozen=True)
class Approvals:
    """`approvals`: what waits for a vote."""


@dataclass(frozen=True)
class Approve:
    ref: str


@dataclass(frozen=True)
class Deny:
    ref: str
    reason: str


@dataclass(frozen=True)
class Done:
    """`done RUN STEP [note]`: the person did a step altlas left to them."""

    run: str
    step: str
    note: str = ""


@dataclass(frozen=True)
class Answer:
    """`answer TASK CHOICE-OR-WORDS`: answer what altlas asked about one's task."""

    task: str
    answer: str


@dataclass(frozen=True)
class Atlas:
    query: str


@dataclass(frozen=True)
class Leaderboard:
    """`leaderboard [elo|bt]`: runbooks, planners and ratings; `leaderboard WORDS`: the
    runbook those words find, over time."""

    method: str = "elo"
    runbook: str | None = None


@dataclass(frozen=True)
class Incidents:
    """`incidents`: the open ones; `incidents all`; `incidents ID`: one, with its timeline."""

    ref: str | None = None
    every: bool = False


@dataclass(frozen=True)
class Models:
    """`models`: the registered models, which one plans; `models activate NAME [why]`,
    `models promote ADAPTER [why]`, `models rollback [why]`: ask that another plan (an
    approval decides)."""

    activate: str | None = None
    reason: str = ""
    training: str | None = None  # `models training ID`: a training, with its charts
    promote: str | None = None
    rollback: bool = False


@dataclass(frozen=True)
class Arena:
    """`arena REQUEST`: two planners plan it, shown as A and B; `arena TASK-ID`: that task's
    plan against an alternative."""

    what: str


@dataclass(frozen=True)
class RunRunbook:
    """`run NAME host=web-1 …`: a run of a published runbook with these parameters."""

    name: str
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SaveRunbook:
    """`save run RUN as runbook NAME`: a run that succeeded, kept as a runbook."""

    run: str
    name: str


@dataclass(frozen=True)
class AuditVerify:
    """`audit verify`: check every hash chain."""


@dataclass(frozen=True)
class AuditReplay:
    until: datetime


@dataclass(frozen=True)
class Help:
    """`help`: the commands and how to use them."""


@dataclass(frozen=True)
class Unknown:
    word: str


@dataclass(frozen=True)
class Usage:
    """A known command used wrongly: the catalog key of its usage line, and what is wrong."""

    key: str
    problem: str = ""


Command = (Do | Status | Runs | Approvals | Approve | Deny | Done | Answer | Atlas | Leaderboard
           | Incidents | Models | Arena | RunRunbook | SaveRunbook | AuditVerify | AuditReplay
           | Help | Unknown | Usage)
_DO_OPTIONS = ("mode", "persona", "env", "chaos-level")


def parse(text: str) -> Command:
    try:
        words = shlex.split(text.strip())
    except ValueError:
        words = text.split()
    if not words or words[0].lower() == "help":
        return Help()
    command, args = words[0].lower(), words[1:]
    if command == "do":
        return _do(args)
    if command in ("status", "approve"):
        if len(args) != 1:
            return Usage(f"usage.{command}")
        return Status(args[0]) if command == "status" else Approve(args[0])
    if command == "deny":
        return Deny(args[0], " ".join(args[1:])) if len(args) >= 2 else Usage("usage.deny")
    if command == "done":
        return Done(args[0], args[1], " ".join(args[2:])) if len(args) >= 2 else Usage(
            "usage.done")
    if command in ("answer", "yanit", "yanıt"):
        return Answer(args[0], " ".join(args[1:])) if len(args) >= 2 else Usage("usage.answer")
    if command == "atlas":
        return Atlas(" ".join(args)) if args else Usage("usage.atlas")
    if command == "audit":
        return _audit(args)
    if command == "runs":
        return Runs()
    if command == "approvals":
        return Approvals()
    if command == "leaderboard":
        if len(args) == 1 and args[0].lower() in ("elo", "bt"):
            return Leaderboard(method=args[0].lower())
        return Leaderboard(runbook=" ".join(args) or None)
    if command == "incidents":
        if len(args) > 1:
            return Usage("usage.incidents")
        if args and args[0].lower() == "all":
            return Incidents(every=True)
        return Incidents(args[0] if args else None)
    if command == "models":
        if not args:
            return Models()
        if args[0].lower() == "activate" and len(args) >= 2:
            return Models(args[1], " ".join(args[2:]))
        if args[0].lower() == "training" and len(args) == 2:
            return Models(training=args[1])
        if args[0].lower() == "promote" and len(args) >= 2:
            return Models(promote=args[1], reason=" ".join(args[2:]))
        if args[0].lower() == "rollback":
            return Models(rollback=True, reason=" ".join(args[1:]))
        return Usage("usage.models")
    if command == "arena":
        return Arena(" ".join(args)) if args else Usage("usage.arena")
    if command == "run":
        return _run(args)
    if command == "save":
        if len(args) == 5 and [a.lower() for a in (args[0], args[2], args[3])] == [
                "run", "as", "runbook"]:
            return SaveRunbook(args[1], args[4])
        return Usage("usage.save")
    return Unknown(command)


def _run(args: list[str]) -> RunRunbook | Usage:
    """Each parameter once, as NAME=VALUE (quote a value with spaces: note="a b")."""
    if not args:
        return Usage("usage.run")
    pairs = [a.partition("=") for a in args[1:]]
    names = [name for name, _, _ in pairs]
    bad = next((a for a, (name, sep, _) in zip(args[1:], pairs, strict=True)
                if not sep or not name), None)
    if bad is not None:
        return Usage("usage.run", f"“{bad}” is not NAME=VALUE")
    if len(set(names)) != len(names):
        return Usage("usage.run", "give each parameter once")
    return RunRunbook(args[0], tuple((name, value) for name, _, value in pairs))


def _do(args: list[str]) -> Do | Usage:
    options: dict[str, str] = {}
    words: list[str] = []
    it = iter(args)
    for word in it:
        if word.startswith("--") and word[2:] in _DO_OPTIONS:
            value = next(it, None)
            if value is None:
                return Usage("usage.do")
            options[word[2:]] = value
        else:
            words.append(word)
    request = " ".join(words)
    mode = options.get("mode", "normal")
    persona = options.get("persona", "technical_expert")
    level = options.get("chaos-level")
    if not request:
        return Usage("usage.do")
    if mode not in MODES:
        return Usage("usage.do", f"--mode must be one of {', '.join(MODES)}")
    if persona not in PERSONAS:
        return Usage("usage.do", f"--persona must be one of {', '.join(PERSONAS)}")
    if level is not None and not level.isdigit():
        return Usage("usage.do", "--chaos-level must be a number from 1 to 10")
    return Do(request, mode, persona, options.get("env"), int(level) if level else None)


def _audit(args: list[str]) -> AuditVerify | AuditReplay | Usage:
    if args == ["verify"]:
        return AuditVerify()
    if len(args) == 3 and args[0] == "replay" and args[1] == "--until":
        try:
            until = datetime.fromisoformat(args[2].replace("Z", "+00:00"))
        except ValueError:
            return Usage("usage.audit")
        if until.tzinfo is not None:
            return AuditReplay(until)
    return Usage("usage.audit")
