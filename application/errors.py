"""Errors the application adds to the domain's own."""

from __future__ import annotations

from domain.errors import ConflictError, DomainError, InvalidInputError


class NotFoundError(DomainError):
    """No task, run or approval has this id (HTTP 404)."""


class TaskNotReadyError(ConflictError):
    pass


class ConcurrentUpdateError(ConflictError):
    """Others kept changing the same aggregate; the command gave up after retrying."""


class UnknownEnvironmentError(InvalidInputError):
    pass


class SegmentationError(InvalidInputError):
    """No plan could be made from the request; the message says why."""
