"""JSON from outside, read so that it cannot hurt: bounded nesting (checked before parsing,
so the parser never recurses past it), strings that are valid Unicode (no lone surrogate,
which no UTF-8 store, log or answer can write) and finite numbers (1e400 parses as infinity,
which no JSON answer can write). Every front that reads a JSON body reads it here."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from domain.errors import InvalidInputError

MAX_DEPTH = 64
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: one C loop per run
# what a lone surrogate or a non-finite number needs in the text: without any, no walk
# an escape, or the bytes UTF-8 would give one (json reads bytes with surrogatepass)
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_HUGE = (re.compile(rb"[eE][+-]?0*[0-9]{3}"), re.compile(rb"[0-9]{300}"))
_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class UnsafeJsonError(InvalidInputError):
    """A JSON value that parses but that altlas cannot keep or answer with; ``field`` is its
    place (``steps.0.cmd``, empty for the body itself)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field or 'the body'}: {problem}")
        self.field = field


class TooDeepError(InvalidInputError):
    """Arrays and objects nested past MAX_DEPTH."""


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether ``raw`` nests arrays and objects more than ``limit`` levels deep, found without
    parsing: each pass drops the innermost pairs, at C speed (strings are left out first)."""
    brackets = _STRING.sub(b"", raw).translate(_BRACKETS, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        shorter = brackets.replace(b"[]", b"")
        if shorter == brackets:
            return False  # unbalanced: not JSON, which the parser says better
        brackets = shorter
    return bool(brackets) and brackets.replace(b"[]", b"") != brackets


def _maybe_unsafe(data: bytes) -> bool:
    return bool(((b"\\u" in data or b"\xed" in data) and _SURROGATE.search(data))
                or b"NaN" in data
                or b"Infinity" in data or any(h.search(data) for h in _HUGE))


def check_value(value: Any, field: str = "") -> None:
    """Raise UnsafeJsonError for the first lone surrogate or non-finite number in ``value``."""
    if isinstance(value, str):
        _check_text(value, field)
    elif isinstance(value, float) and not math.isfinite(value):
        raise UnsafeJsonError(field, "must be a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            place = f"{field}.{key}" if field else key
            _check_text(key, place)
            check_value(item, place)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_value(item, f"{field}.{i}" if field else str(i))


def _check_text(text: str, field: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeJsonError(field.encode("ascii", "backslashreplace").decode(),
                              "is not valid Unicode (a lone surrogate such as \\ud800): send "
                              "UTF-8 text") from None


def loads(raw: bytes | str) -> Any:
    """Parse ``raw`` as JSON that cannot hurt; ValueError (JSONDecodeError among them) when it
    is not JSON, TooDeepError or UnsafeJsonError when it is but may not be kept."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if too_deep(data):
        raise TooDeepError(f"the body nests arrays and objects more than {MAX_DEPTH} levels "
                           "deep: send a flatter JSON document")
    value = json.loads(data)  # NaN and Infinity too, which check_value then refuses by field
    if _maybe_unsafe(data):
        check_value(value)
    return value
