"""Paths people give (a model file, a plan, where to write an export): checked once, the same
way from the command line and HTTP, before anything reads or writes them, so that what no file
system takes is refused in one line instead of failing deep inside a read."""

from __future__ import annotations

from pathlib import Path

from domain.errors import InvalidInputError

MAX_PATH_CHARS = 4096  # PATH_MAX on Linux


def local_path(text: str) -> Path:
    """``text`` as a path on this machine, ``~`` and ``~user`` expanded."""
    if not text.strip():
        raise InvalidPathError("the path is empty: give a file's path")
    if len(text) > MAX_PATH_CHARS:
        raise InvalidPathError(f"the path is {len(text)} characters long; a path has at most "
                               f"{MAX_PATH_CHARS}")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidPathError(f"{text!r} holds a control character (or NUL), which no file "
                               "name has: give the path as plain text")
    try:
        return Path(text).expanduser()
    except RuntimeError:  # ~user for a user this machine does not have
        user = text[1:].split("/", 1)[0]
        raise InvalidPathError(f"{text}: there is no user {user!r} on this machine; give the "
                               f"path without ~{user}, or with ~ for your own home") from None


class InvalidPathError(InvalidInputError):
    """A path no file system takes; the message says why and what to give instead."""
