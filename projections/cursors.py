"""The opaque cursors of the listings: 48 hex digits (where the page ended: the last row's
time and id), so a cursor travels in a URL exactly as printed, and every string of that shape
is a place to page on from, as the HTTP schema promises."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

from domain.errors import InvalidInputError

PATTERN = r"^[0-9a-f]{48}$"
_SHAPE = re.compile(r"[0-9a-f]{48}")
_EPOCH = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


class BadCursorError(InvalidInputError):
    """A cursor that no listing gave out."""


def encode_cursor(moment: datetime, key: str) -> str:
    """Where a page ended: the last row's time (microseconds since year 1) and id."""
    micros = (moment.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
    return f"{micros:016x}{UUID(key).hex}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The time and id a cursor holds; BadCursorError for a string of another shape."""
    if not _SHAPE.fullmatch(cursor):
        raise BadCursorError(f"{cursor[:60]!r} is not a cursor from a listing: pass the "
                             "`next` of the page before as it is")
    micros = int(cursor[:16], 16)
    moment = _LAST if micros > (_LAST - _EPOCH) // timedelta(microseconds=1) \
        else _EPOCH + timedelta(microseconds=micros)
    return moment, str(UUID(cursor[16:]))
