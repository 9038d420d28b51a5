"""Asking back: what altlas asks when no plan does exactly what was asked — which host (with
the inventory hosts it could be), or what a part of the request means — and the request as the
requester's answers make it.

Pure functions: nothing here runs, reads or opens anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domain.commands.meaning import meaning, services
from domain.grounding import INTENTS, Inventory, Problem, Reading, fold, normalise
from domain.plan import Plan, PlanStep


@dataclass(frozen=True)
class Question:
    """What altlas asks instead of planning: which host, or what a part of the request means."""

    about: str                         # "host", "clause" or "reading"
    text: str
    choices: tuple[str, ...] = ()
    part: str | None = None            # the words asked about: an unknown host, a clause


SKIP = frozenset({"skip", "leave it out", "drop it", "none", "atla", "gec", "boş ver", "bos ver"})


def with_answers(text: str, answers: Iterable[Mapping[str, Any]]) -> str:
    """The request as the requester's answers make it: the host they picked in place of the
    one altlas did not know (or added to it), a part said again another way, or left out."""
    for answer in answers:
        part = answer.get("part")
        if answer.get("about") == "host":
            host = str(answer["host"])
            pattern = rf"(?<![\w-]){re.escape(part)}(?![\w-])" if part else None
            if pattern and re.search(pattern, text, re.IGNORECASE):
                text = re.sub(pattern, host, text, flags=re.IGNORECASE)
            else:
                text = f"{text} on {host}"
            continue
        said = " ".join(str(answer.get("answer") or "").split())
        instead = "" if fold(said) in SKIP else said
        if part and part in normalise(text):
            text = normalise(text).replace(part, instead)
        elif instead:
            text = f"{text}, {instead}" if part else instead
    return " ".join(text.split()).strip(" ,")


_NEEDS_HOST = frozenset(i.name for i in INTENTS) - {"targets_down", "error_rate", "summarise",
                                                    "cpu"}


def ambiguous_hosts(reading: Reading, inventory: Inventory) -> tuple[str, ...]:
    """The hosts "the web server" or "db" could mean, when the request names none of them."""
    stems: dict[str, list[str]] = {}
    for host in inventory.hosts:
        stem = re.sub(r"-?\d+[a-z]?$", "", host)
        if stem != host:
            stems.setdefault(stem, []).append(host)
    found: list[str] = []
    for stem, hosts in stems.items():
        if re.search(rf"(?<![\w-]){re.escape(stem)}(?![\w-]*\d)(?:s|'\w+)?\b", reading.text):
            found += [h for h in hosts if h not in found]
    return tuple(sorted(found))


# Requests that are not operations work, or that no answer could make safe: refused, not
# asked about.
_NOT_OPERATIONS = re.compile(
    r"\b(?:write|compose|make up|tell)\b.{0,20}\b(?:poem|haiku|limerick|story|song|joke|essay|"
    r"rap)s?\b|\bexplain\b.{0,40}\b(?:to me|like i'?m)\b|\b(?:summari[sz]e|translate)\b.{0,20}"
    r"\b(?:this|the|an?)\s+(?:article|text|email|page|book|sentence|paragraph)\b|"
    r"\btranslate\b|\bcevir\b|\b(?:siir|sarki|fikra|hikaye|masal)\w*\b|"
    r"\b(?:everything|all (?:the )?files)\b.{0,40}\bfrom /(?:\s|$)|\brm -rf /(?:\s|$|\*)")


def question(reading: Reading, problems: Iterable[Problem], inventory: Inventory
             ) -> Question | None:
    """What to ask when no plan does what was asked; None when there is nothing to ask
    (the request asks for no work altlas can do)."""
    problems = list(problems)
    if _NOT_OPERATIONS.search(reading.text):
        return None
    if not reading.asked and not reading.hosts and not reading.unknown_hosts:
        return None
    if not reading.asked and not reading.unknown_hosts:
        return Question("clause", f"What should I do on {', '.join(reading.hosts)}? I can "
                        "check disk, load, memory, services, logs and processes, restart, "
                        "reload, start or stop a service, and more: say it in one sentence.")
    if reading.unknown_hosts:
        word = reading.unknown_hosts[0]
        near = inventory.near(word)
        return Question("host", f"I don't know a host called {word}. Which host did you "
                        "mean?", near or tuple(sorted(inventory.hosts)), word)
    needs_host = any(name in _NEEDS_HOST for _, name in reading.asked)
    if needs_host and not reading.hosts:
        choices = ambiguous_hosts(reading, inventory) or tuple(sorted(inventory.hosts))
        return Question("host", "Which host should this run on?", choices)
    for problem in problems:
        m = re.match(r"altlas does not understand '(.+)' \(", problem.message)
        if m:
            return Question("clause", f"I don't understand {m.group(1)!r}. Say it another "
                            "way, or answer 'skip' to leave it out.", part=m.group(1))
    if reading.asked and problems:  # plans were made, none of them what was asked
        return Question("clause", "I could not make a plan that does exactly this. Say it "
                        "another way, one action per sentence.")
    return None  # what the policy refuses is refused, not asked about


def _gist(step: PlanStep) -> tuple[str, str, str, tuple[str, ...], str, bool]:
    """What a step does, in the terms two readings of a request are compared in: "df -h"
    and "df -h /" are one reading, another host, service, action or condition another."""
    action = " ".join(step.action.split())
    return (step.kind, step.target or "", meaning(step.kind, action) or action,
            services(action), (step.when or "").replace(" ", ""), bool(step.needs))


def same_reading(first: Plan, second: Plan) -> bool:
    return sorted(map(_gist, first.steps)) == sorted(map(_gist, second.steps))


def said_as(plan: Plan, local_host: str) -> str | None:
    """The plan in words the rules plan exactly as it is (commands quoted word for word), to
    offer as a choice; None when it has a step words cannot carry (a condition, a query)."""
    said: list[str] = []
    for step in plan.steps:
        if step.when or step.kind not in ("ssh", "local", "llm") or "'" in step.action:
            return None
        where = "the altlas host" if step.target == local_host else step.target
        words = "summarise" if step.kind == "llm" else f"run '{step.action}' on {where}"
        said.append(f"then {words}" if step.needs and said else words)
    return "; ".join(said)


def two_readings(first: Plan, second: Plan, local_host: str) -> Question:
    """Two readings of one request that do different things: the person says which."""
    choices = [said_as(first, local_host), said_as(second, local_host)]
    return Question("reading", "I can read this two ways. Which did you mean? Or say it "
                    "another way, one action per sentence.",
                    tuple(c for c in choices if c) if all(choices) else ())
