"""Errors the application adds to the domain's own."""

from __future__ import annotations

from domain.errors import ConflictError, DomainError, InvalidInputError


class PolicyUnavailableError(Exception):
    """The policy file changed and cannot be used now, so no credential it gives is accepted
    (API tokens, Alertmanager's, chat identities); the message says why."""


class NotFoundError(DomainError):
    """No task, run or approval has this id (HTTP 404); ``kind`` names what else was looked
    for, for the chat's reply in the person's language."""

    def __init__(self, message: str, ref: str | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.ref = ref
        self.kind = kind


class AmbiguousIdError(InvalidInputError):
    """The beginning of an id that more than one task, run or approval share."""

    def __init__(self, message: str, ref: str, matches: str) -> None:
        super().__init__(message)
        self.ref, self.matches = ref, matches


class TaskNotReadyError(ConflictError):
    pass


class ConcurrentUpdateError(ConflictError):
    """Others kept changing the same aggregate; the command gave up after retrying."""


class UnknownEnvironmentError(InvalidInputError):
    pass


class TooOftenError(DomainError):
    """A person asked for expensive work more often than the rate allows (HTTP 429 with
    Retry-After); nothing was done."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SegmentationError(InvalidInputError):
    """No plan could be made from the request; the message says why."""


class AudioRefusedError(InvalidInputError):
    """A voice clip that cannot be heard as a request: not audio, over the size or length
    limit, silence or noise, or a language the model cannot place. ``reason`` is one of
    ``not_audio``, ``too_large``, ``too_long``, ``no_speech``, ``unknown_language``,
    ``download_failed`` so each front can say it in the person's language."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
