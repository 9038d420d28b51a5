"""Conditions between steps ("if disk > 90%"), evaluated on the facts of earlier steps.

A condition is one comparison, or several joined by ``and`` / ``or`` (not mixed):
``s1.max_percent > 90``, ``s2.status_code == 200 and s2.healthy == 'yes'``,
``s1.output contains 'active'``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInputError

_COMPARISON = re.compile(
    r"^(?P<step>[a-z0-9][a-z0-9_-]{0,39})\.(?P<fact>[a-z_][a-z0-9_]*)\s*"
    r"(?P<op>>=|<=|==|!=|>|<|contains)\s*"
    r"(?P<value>-?[0-9]+(?:\.[0-9]+)?|'[^']*'|\"[^\"]*\")$"
)
# a joiner, or a quoted text passed over whole (a joiner inside quotes is part of the value)
_JOINERS = re.compile(r"""'[^']*'|"[^"]*"|\s+(and|or)\s+""")


@dataclass(frozen=True)
class Comparison:
    step: str
    fact: str
    op: str
    value: float | str

    def __str__(self) -> str:
        value = f"'{self.value}'" if isinstance(self.value, str) else f"{self.value:g}"
        return f"{self.step}.{self.fact} {self.op} {value}"


@dataclass(frozen=True)
class Condition:
    parts: tuple[Comparison, ...]
    joiner: str = "and"

    @property
    def steps(self) -> set[str]:
        return {p.step for p in self.parts}

    def __str__(self) -> str:
        return f" {self.joiner} ".join(str(p) for p in self.parts)


@dataclass(frozen=True)
class Verdict:
    """True, False, or None when the facts cannot decide (the step is then not run)."""

    holds: bool | None
    explanation: str


def parse_condition(text: str) -> Condition:
    comparisons, joiners = _split(text.strip())
    if len(joiners) > 1:
        raise ConditionError(f"{text!r}: use either 'and' or 'or', not both")
    parts = []
    for piece in comparisons:
        m = _COMPARISON.match(piece.strip())
        if not m:
            raise ConditionError(
                f"{piece.strip()!r} is not a condition; write STEP.FACT OP VALUE, "
                "e.g. s1.max_percent > 90")
        raw = m.group("value")
        value: float | str = raw[1:-1] if raw[0] in "'\"" else float(raw)
        if m.group("op") == "contains" and not isinstance(value, str):
            raise ConditionError(f"{piece.strip()!r}: contains needs a quoted text")
        parts.append(Comparison(m.group("step"), m.group("fact"), m.group("op"), value))
    return Condition(tuple(parts), joiners.pop() if joiners else "and")


def _split(text: str) -> tuple[list[str], set[str]]:
    """The comparisons and the joiners between them, joiners inside quotes left alone."""
    pieces, joiners, start = [], set(), 0
    for m in _JOINERS.finditer(text):
        if m.group(1):
            pieces.append(text[start:m.start()])
            joiners.add(m.group(1))
            start = m.end()
    return [*pieces, text[start:]], joiners


def evaluate(condition: Condition, facts: Mapping[str, Mapping[str, Any]]) -> Verdict:
    results: list[bool | None] = []
    said: list[str] = []
    for part in condition.parts:
        actual = facts.get(part.step, {}).get(part.fact)
        if actual is None:
            results.append(None)
            said.append(f"{part.step} has no {part.fact}")
            continue
        outcome = _compare(actual, part.op, part.value)
        results.append(outcome)
        shown = f"{actual:g}" if isinstance(actual, float) else repr(actual)
        said.append(f"{part} is {str(outcome).lower()} ({part.step}.{part.fact} = {shown})"
                    if outcome is not None else f"{part}: cannot compare {shown}")
    if condition.joiner == "and":
        holds = False if False in results else (None if None in results else True)
    else:
        holds = True if True in results else (None if None in results else False)
    return Verdict(holds, "; ".join(said))


def _compare(actual: Any, op: str, expected: float | str) -> bool | None:
    if op == "contains":
        return str(expected) in str(actual)
    if isinstance(expected, float):
        try:
            number = float(actual)
        except (TypeError, ValueError):
            return None
        return {">": number > expected, ">=": number >= expected, "<": number < expected,
                "<=": number <= expected, "==": number == expected,
                "!=": number != expected}[op]
    if op in ("==", "!="):
        return (str(actual) == expected) == (op == "==")
    return None


class ConditionError(InvalidInputError):
    """A step's ``when`` that cannot be evaluated; the message names the part at fault."""
