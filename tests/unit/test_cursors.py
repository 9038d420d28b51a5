from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from projections.cursors import BadCursorError, decode_cursor, encode_cursor


@pytest.mark.parametrize("moment", [
    datetime(2026, 12, 3, 9, 0, 0, 123456, tzinfo=UTC),
    datetime(2026, 12, 3, 9, 0, 0, tzinfo=timezone(timedelta(hours=3))),
])
def test_a_cursor_is_url_safe_and_gives_back_where_the_page_ended(moment: datetime) -> None:
    key = "1f0e9d8c-7b6a-4f5e-8d4c-3b2a1f0e9d8c"
    cursor = encode_cursor(moment, key)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor
    assert decode_cursor(cursor) == (moment, key)


@pytest.mark.parametrize("cursor", [
    "yesterday", "2026-12-03T09:00:00+00:00|abc", "a+b/c=", "!!", "", "bm90IGEgY3Vyc29y",
    "é", "MjAyNi0xMi0wM3w",
])
def test_a_cursor_no_listing_gave_is_refused_saying_to_pass_next(cursor: str) -> None:
    with pytest.raises(BadCursorError, match="pass the `next` of the page before"):
        decode_cursor(cursor)
