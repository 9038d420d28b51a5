"""The opaque cursors of the listings: base64url without padding, so a cursor travels in a
URL exactly as printed (no `+`, `/` or `=` for a client or curl to mangle)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from domain.errors import InvalidInputError


class BadCursorError(InvalidInputError):
    """A cursor that no listing gave out."""


def encode_cursor(moment: datetime, key: str) -> str:
    """Where a page ended: the last row's time and id."""
    raw = f"{moment.isoformat()}|{key}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The time and id a cursor of ``encode_cursor`` holds; BadCursorError for anything else."""
    refused = BadCursorError(f"{cursor[:60]!r} is not a cursor from a listing: pass the "
                             "`next` of the page before as it is")
    if not cursor.isascii() or not cursor.replace("-", "").replace("_", "").isalnum():
        raise refused
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, sep, key = text.partition("|")
        if not sep or not key:
            raise ValueError(text)
        return datetime.fromisoformat(at), key
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
