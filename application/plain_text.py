"""Text as a terminal or a chat shows it: what people wrote, escaped, clipped, and ids
shortened. Standard library only, so a read that prints a list imports nothing else."""

from __future__ import annotations

import re

# C0 and C1 controls, and the invisible characters that reorder or hide text
_UNSEEN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")


def shown(text: str) -> str:
    """Text people wrote, as it is shown: stored as sent, but control and invisible
    characters appear escaped (``\\x1b``, ``\\n``, ``\\u202e``), so a request cannot restyle
    a terminal, rewrite a line, reorder what follows or fake a line of its own."""
    return _UNSEEN.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def shown_lines(text: str) -> list[str]:
    """Many lines of output, each shown as ``shown`` shows one."""
    return [shown(line) for line in text.splitlines()]


def clip(text: str, width: int) -> str:
    text = shown(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def short(value: str | None, n: int = 8) -> str:
    return (value or "-")[:n]
