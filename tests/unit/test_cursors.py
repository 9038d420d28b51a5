from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from projections.cursors import PATTERN, BadCursorError, decode_cursor, encode_cursor


@pytest.mark.parametrize("moment", [
    datetime(2026, 12, 3, 9, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 12, 3, 12, 0, 0, tzinfo=timezone(timedelta(hours=3))),
    datetime(1, 1, 1, tzinfo=UTC),
])
def test_a_cursor_is_url_safe_and_gives_back_where_the_page_ended(moment: datetime) -> None:
    key = str(uuid4())
    cursor = encode_cursor(moment, key)
    assert re.fullmatch(PATTERN, cursor), cursor
    assert decode_cursor(cursor) == (moment, key)


def test_any_cursor_of_the_documented_shape_is_a_place_to_page_from() -> None:
    assert decode_cursor("f" * 48) == (datetime.max.replace(tzinfo=UTC),
                                       "ffffffff-ffff-ffff-ffff-ffffffffffff")
    assert decode_cursor("0" * 48)[0] == datetime.min.replace(tzinfo=UTC)


@pytest.mark.parametrize("cursor", [
    "yesterday", "2026-12-03T09:00:00+00:00|abc", "a+b/c=", "", "F" * 48, "0" * 47,
    "0" * 48 + "\n",
])
def test_a_cursor_no_listing_gave_is_refused_saying_to_pass_next(cursor: str) -> None:
    with pytest.raises(BadCursorError, match="pass the `next` of the page before"):
        decode_cursor(cursor)
