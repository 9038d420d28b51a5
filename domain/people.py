"""Who did something, and what people wrote: apart from the aggregates, so what reveals
people's names (application/privacy.py) imports no aggregate."""

from __future__ import annotations

from collections.abc import Callable
from uuid import NAMESPACE_URL, UUID, uuid5

# altlas's own actors (its runner, segmenter, scheduler) are named "altlas:…"; a person's
# name in the policy cannot contain a colon, so the two never meet.
SYSTEM_ACTOR_PREFIX = "altlas:"


def is_person(actor: str) -> bool:
    return not actor.startswith(SYSTEM_ACTOR_PREFIX)


# What a person wrote, as it is recorded: the application seals it with the writer's own key
# (application/privacy.py), so forgetting the writer makes it unreadable; the domain checks
# the text first and never reads it back.
Seal = Callable[[str], str]


def as_written(text: str) -> str:
    return text


_ERASURES = uuid5(NAMESPACE_URL, "urn:altlas:erasures")


def erasure_id(subject: str) -> UUID:
    """The one erasure of a person (domain/erasure.py), from their pseudonym: a second
    request to forget them finds the first."""
    return uuid5(_ERASURES, subject)
