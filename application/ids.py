"""Ids as people give them: whole, or a unique beginning of at least 6 characters, as
listings and hints print them. One rule for every front (the command line, HTTP, chat) and
every kind of thing (a task, a run, an approval, an incident, a duel, a training)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from uuid import NAMESPACE_URL, UUID, uuid5

from application.errors import AmbiguousIdError, NotFoundError

MIN_PREFIX = 6
_REF = re.compile(rf"^[0-9a-f][0-9a-f-]{{{MIN_PREFIX - 1},35}}$")


def id_text(ref: str, wanted: str = "an", error: type[NotFoundError] = NotFoundError
            ) -> str:
    """``ref`` as ids are stored (lower case, trimmed), if it can be one or the beginning of
    one; ``error`` otherwise (``wanted``: "an", "an incident", …)."""
    text = ref.strip().lower()
    if not could_be_id(text):
        raise error(f"{ref!r} is not {wanted} id: give one whole, or its first "
                    f"{MIN_PREFIX} characters or more", ref)
    return text


def could_be_id(text: str) -> bool:
    return bool(_REF.match(text))


def whole_id(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def one_id(text: str, matches: Sequence[tuple[str, str]], wanted: str,
           error: type[NotFoundError] = NotFoundError) -> UUID:
    """The one id among ``matches`` ((kind, id) whose id starts with ``text``)."""
    if not matches:
        raise error(f"no {wanted} has an id starting with {text}", text)
    if len(matches) > 1:
        listed = ", ".join(f"{k} {i[:12]}" for k, i in matches)
        raise AmbiguousIdError(f"{text} matches several: {listed}; give more of the id",
                               text, listed)
    return UUID(matches[0][1])


_RUNS = uuid5(NAMESPACE_URL, "urn:altlas:runs")


def run_id_of(task_id: UUID) -> UUID:
    """A task's run has an id derived from the task's, so starting it twice conflicts."""
    return uuid5(_RUNS, str(task_id))
