"""Replies and approval cards as Slack Block Kit."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from application.i18n import t
from application.presenters import CardModel
from application.text import card_lines, choice_label

MAX_TEXT = 2900  # a section's text may hold 3000 characters
ANSWER = "altlas_answer"  # a question's buttons: altlas_answer:1, altlas_answer:2, …


def escaped(text: str) -> str:
    """Slack's three control characters escaped, as Slack asks: what people wrote and
    altlas echoes (``<!channel>``, ``<@U123>``, a link) shows as typed and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_blocks(text: str) -> list[dict[str, Any]]:
    text = escaped(text)
    chunks = [text[i:i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


def card_blocks(card: CardModel, locale: str, now: datetime) -> list[dict[str, Any]]:
    lines = card_lines(card, locale, now)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": lines[0][:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": escaped("\n".join(lines[1:]))}},
    ]
    if card.open:
        value = card.approval.id
        blocks.append({"type": "actions", "block_id": f"approval:{value}", "elements": [
            {"type": "button", "action_id": "altlas_approve", "style": "primary",
             "value": value, "text": {"type": "plain_text", "text": t(locale, "button.approve")}},
            {"type": "button", "action_id": "altlas_deny", "style": "danger", "value": value,
             "text": {"type": "plain_text", "text": t(locale, "button.deny")}},
        ]})
    return blocks


def deny_modal(approval_id: str, channel: str, message_ts: str, locale: str) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": "altlas_deny_reason",
        "private_metadata": json.dumps({"approval_id": approval_id, "channel": channel,
                                        "ts": message_ts}),
        "title": {"type": "plain_text", "text": t(locale, "modal.title")[:24]},
        "submit": {"type": "plain_text", "text": t(locale, "modal.submit")},
        "blocks": [{"type": "input", "block_id": "reason",
                    "label": {"type": "plain_text", "text": t(locale, "modal.label")},
                    "element": {"type": "plain_text_input", "action_id": "value",
                                "multiline": True, "max_length": 500}}],
    }


def question_blocks(text: str, task_id: str, choices: list[str]) -> list[dict[str, Any]]:
    """The question, and a button per choice: the click answers with that choice's number."""
    blocks = text_blocks(text)
    if choices:
        blocks.append({"type": "actions", "block_id": f"question:{task_id}", "elements": [
            {"type": "button", "action_id": f"{ANSWER}:{i}", "value": f"{task_id}:{i}",
             "text": {"type": "plain_text", "text": choice_label(i, choice, 75)}}
            for i, choice in enumerate(choices[:25], 1)]})
    return blocks
