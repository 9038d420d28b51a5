"""What the chat fronts posted, kept in the view database: where each approval's cards are
(application.ports.MessageRefs) and the messages already sent, by key
(application.ports.ChatPosts)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from projections.folding import insert_ignore
from projections.schema import chat_messages, chat_posts


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


class SqlChatPosts:
    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine

    def get(self, platform: str, key: str) -> tuple[str, str] | None:
        query = select(chat_posts.c.channel, chat_posts.c.message).where(
            chat_posts.c.platform == platform, chat_posts.c.key == key)
        with self._engine().connect() as conn:
            row = conn.execute(query).first()
        return (row.channel, row.message) if row is not None else None

    def add(self, platform: str, key: str, channel: str, message: str) -> None:
        with self._engine().begin() as conn:
            insert_ignore(conn, chat_posts, [{"platform": platform, "key": key,
                                              "channel": channel, "message": message,
                                              "posted_at": datetime.now(UTC)}])
