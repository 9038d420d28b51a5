"""A known secret that comes back transformed: a host that echoes it hex-encoded, in base64,
%-encoded, reversed, spaced out, or cut in two over adjacent lines or JSON fields still hands
it to whoever reads the record. Redaction (domain/secrets.py) looks for these forms too.

The forms of each value are searched with the separators taken out of both sides (spaces,
newlines, dashes, dots, quotes, commas …), so one search finds a value, its reversal, its hex
or base64 with any separators between its characters, and the value cut over two lines. A
JSON field cut in two is found by searching the string values of the text (keys left out)
joined end to end. What this cannot find is in README "Secrets": encryption, encodings it
does not know, a value cut in three or more places or apart, a part of a value alone.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import string
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from urllib.parse import quote

# Characters a transformation may put between a value's characters, or a host between its
# pieces; also those of the base64 and URL alphabets that differ between their variants.
_SEPARATORS = " \t\r\n\f\v-._:,;|/\\'\"`=+"
_RUN = re.compile(f"[^{re.escape(_SEPARATORS)}]+")
_SQUEEZE = str.maketrans(string.ascii_uppercase, string.ascii_lowercase, _SEPARATORS)
# A shorter form turns up in ordinary output by chance once separators are ignored.
MIN_FORM_CHARS = 8
# A JSON string; a key when a colon follows it.
_STRING = re.compile(r'"((?:[^"\\\r\n]|\\.){0,4096})"([ \t]*:)?')
_KEYED = re.compile(r'"[ \t]*:')
_KEY = re.compile(r'"(?:[^"\\\r\n]|\\.){0,4096}"[ \t]*:')


def squeezed(text: str) -> str:
    """``text`` without the characters a transformation may put between others, its ASCII
    letters in lower case (hex and %-encodings come in both; other letters keep their
    length, so a place in it is a place in ``text``)."""
    return text.translate(_SQUEEZE)


def forms(value: str) -> set[str]:
    """The value as it may come back, squeezed: as written and reversed, hex in both cases,
    %-encoded (reserved characters or every byte, in both cases), and base64 standard and
    URL-safe at each of the three alignments it may have inside a longer encoded text (as
    in Basic credentials), with or without padding."""
    raw = value.encode()
    found = {value, value[::-1], raw.hex(), quote(value, safe=""),
             "".join(f"%{b:02x}" for b in raw)}
    for shift in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(b"\0" * shift + raw).decode()
            # only the characters that depend on the value's bytes alone
            found.add(text[-(-8 * shift // 6):8 * (shift + len(raw)) // 6])
    return {form for f in found if len(form := squeezed(f)) >= MIN_FORM_CHARS}


Span = tuple[int, int]


class TransformedFinder:
    """Where the known ``values`` stand transformed in a text."""

    def __init__(self, values: Iterable[str]) -> None:
        self._forms = sorted({f for value in values for f in forms(value)}, key=len,
                             reverse=True)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def spans(self, text: str) -> list[Span]:
        """The stretches of ``text`` that hold a value in one of its forms, separators
        ignored, and the JSON string values that hold one when joined to the next."""
        found = self._find(squeezed(text))
        if found:  # where the squeezed text's characters stand in the text
            found = _mapped(found, [m.span() for m in _RUN.finditer(text)])
        if _KEYED.search(text):  # JSON with keys between the values
            found += self._split_strings(text)
        return found

    def split_values(self, values: Sequence[str]) -> set[int]:
        """Which of ``values`` (the strings of a JSON value, in order) hold a known value
        between them when joined end to end."""
        return {i for i, _ in self._joined([squeezed(v) for v in values])}

    def _split_strings(self, text: str) -> list[Span]:
        if not self._find(squeezed(_KEY.sub("", text))):  # the text's values, keys left out
            return []
        strings = [m for m in _STRING.finditer(text) if m.group(2) is None]
        decoded = []
        for m in strings:
            content = m.group(1)
            if "\\" in content:
                with contextlib.suppress(ValueError):
                    content = json.loads(f'"{content}"')
            decoded.append(squeezed(content))
        return [strings[i].span(1) for i, _ in self._joined(decoded)]

    def _joined(self, pieces: list[str]) -> list[tuple[int, Span]]:
        """(piece, its span in the joined text) for each piece a found form touches."""
        starts, at = [], 0
        for piece in pieces:
            starts.append(at)
            at += len(piece)
        touched = []
        for start, end in self._find("".join(pieces)):
            first, last = bisect_right(starts, start) - 1, bisect_right(starts, end - 1) - 1
            touched += [(i, (starts[i], starts[i] + len(pieces[i])))
                        for i in range(first, last + 1) if pieces[i]]
        return touched

    def _find(self, haystack: str) -> list[Span]:
        found = []
        for form in self._forms:
            at = haystack.find(form)
            while at != -1:
                found.append((at, at + len(form)))
                at = haystack.find(form, at + len(form))
        return found


def _mapped(spans: list[Span], runs: list[Span]) -> list[Span]:
    """Spans of the squeezed text as spans of the text it was squeezed from."""
    starts, at = [], 0
    for a, b in runs:
        starts.append(at)
        at += b - a

    def original(i: int) -> int:
        run = bisect_right(starts, i) - 1
        return runs[run][0] + i - starts[run]

    return [(original(start), original(end - 1) + 1) for start, end in spans]


def merged(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans as one, in order."""
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
