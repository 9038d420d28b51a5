"""The kinds of refusal the domain can give; fronts map each kind to a status code."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was recorded."""


class InvalidInputError(DomainError):
    """The input itself is malformed or breaks a rule (HTTP 422)."""


class NotAllowedError(DomainError):
    """The actor may not do this (HTTP 403)."""


class ConflictError(DomainError):
    """The aggregate's current state does not allow this (HTTP 409)."""
