"""POST /commands: the chat commands over HTTP, answered as JSON in the person's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, Field

from application.text import card_lines
from bots.chat import ChatFront, Reply


class CommandIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000,
                      description="A chat command as typed in Slack or Discord; try `help`.")


class CardOut(BaseModel):
    approval_id: str
    status: str
    lines: list[str]


class CommandOut(BaseModel):
    text: str
    ephemeral: bool = Field(description="Meant for the person who asked only.")
    cards: list[CardOut]
    task_id: str | None = Field(description="The request recorded by `do`: follow it at "
                                "GET /tasks/{task_id}.")
    charts: list[str] = Field(description="Where the API serves the charts that go with "
                              "this answer (PNG), as chat uploads them to its thread.")


def reply_json(reply: Reply, now: datetime) -> dict[str, Any]:
    return {"text": reply.text, "ephemeral": reply.ephemeral, "task_id": reply.task_id,
            "charts": [image.path for image in reply.images],
            "cards": [{"approval_id": c.approval.id, "status": c.approval.status,
                       "lines": card_lines(c, reply.locale, now)} for c in reply.cards]}


def add_commands(api: FastAPI, chat: ChatFront, person: Callable[..., str]) -> None:
    @api.post("/commands", response_model=CommandOut, tags=["chat"])
    def command(body: CommandIn, who: str = Depends(person)) -> dict[str, Any]:
        """The chat commands, as in Slack and Discord. `do` records the request and answers
        at once; altlas plans and runs it by itself."""
        reply = chat.run(chat.caller(f"api:{who}", "api", person=who), body.text)
        return reply_json(reply, datetime.now(UTC))
