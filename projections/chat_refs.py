"""Where approvals were posted (application.ports.MessageRefs), and how far the card updates
have got (application.ports.Bookmark), kept in the view database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select

from projections.schema import chat_messages, positions
from projections.views import insert_ignore


class SqlMessageRefs:
    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine

    def add(self, approval_id: str, platform: str, channel: str, message: str,
            thread: str | None = None, locale: str = "en") -> None:
        with self._engine().begin() as conn:
            insert_ignore(conn, chat_messages, [{
                "approval_id": approval_id, "platform": platform, "channel": channel,
                "message": message, "thread": thread, "posted_at": datetime.now(UTC),
                "locale": locale}])

    def of(self, approval_id: str, platform: str) -> list[tuple[str, str, str]]:
        query = select(chat_messages).where(chat_messages.c.approval_id == approval_id,
                                            chat_messages.c.platform == platform)
        with self._engine().connect() as conn:
            return [(r.channel, r.message, r.locale or "en") for r in conn.execute(query)]


class SqlBookmark:
    """A row of the projections' position table, under its own name (``cards:slack``)."""

    def __init__(self, engine: Callable[[], Engine], name: str) -> None:
        self._engine = engine
        self._key = {"projection": name, "source": "store", "partition": 0}

    def load(self) -> int | None:
        query = select(positions.c.position).filter_by(**self._key)
        with self._engine().connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def save(self, position: int) -> None:
        with self._engine().begin() as conn:
            conn.execute(delete(positions).filter_by(**self._key))
            conn.execute(positions.insert().values(**self._key, position=position))
