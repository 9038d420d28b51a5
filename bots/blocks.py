"""Replies and approval cards as Slack Block Kit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from application.i18n import t
from application.ports import Vote
from application.presenters import CardModel
from application.text import card_lines, choice_label

MAX_TEXT = 2900  # a section's text may hold 3000 characters
MAX_VOTES = 10  # a message may hold 50 blocks: the text's, and a row per open approval
ANSWER = "altlas_answer"  # a question's buttons: altlas_answer:1, altlas_answer:2, …
ARENA = "altlas_arena"  # a duel's buttons: altlas_arena:a, :b, :tie, :both_bad
HEARING = "altlas_hearing"  # a doubtful hearing's buttons: altlas_hearing:yes, :no


def escaped(text: str) -> str:
    """Slack's three control characters escaped, as Slack asks: what people wrote and
    altlas echoes (``<!channel>``, ``<@U123>``, a link) shows as typed and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_blocks(text: str, votes: Sequence[Vote] = ()) -> list[dict[str, Any]]:
    """The text, then an Approve and a Deny button for each vote."""
    text = escaped(text)
    chunks = [text[i:i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]
    return [*({"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
              for chunk in chunks[:50 - MAX_VOTES]),
            *(vote_block(v) for v in votes[:MAX_VOTES])]


def vote_block(vote: Vote) -> dict[str, Any]:
    """Approve and Deny for one approval: the value is its id, so the click votes on it
    wherever the buttons are."""
    return {"type": "actions", "block_id": f"approval:{vote.approval_id}", "elements": [
        {"type": "button", "action_id": "altlas_approve", "style": "primary",
         "value": vote.approval_id, "text": {"type": "plain_text", "text": vote.approve[:75]}},
        {"type": "button", "action_id": "altlas_deny", "style": "danger",
         "value": vote.approval_id, "text": {"type": "plain_text", "text": vote.deny[:75]}},
    ]}


def card_blocks(card: CardModel, locale: str, now: datetime) -> list[dict[str, Any]]:
    lines = card_lines(card, locale, now)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": lines[0][:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": escaped("\n".join(lines[1:]))}},
    ]
    if card.open:
        blocks.append(vote_block(Vote(card.approval.id, t(locale, "button.approve"),
                                      t(locale, "button.deny"))))
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


def duel_blocks(text: str, duel_id: str, labels: Sequence[tuple[str, str]]
                ) -> list[dict[str, Any]]:
    """The two plans, and a button per verdict: the click votes with it."""
    return [*text_blocks(text), {"type": "actions", "block_id": f"duel:{duel_id}", "elements": [
        {"type": "button", "action_id": f"{ARENA}:{verdict}", "value": duel_id,
         "text": {"type": "plain_text", "text": label[:75]}}
        for verdict, label in labels]}]


def hearing_blocks(text: str, hearing_id: str, locale: str) -> list[dict[str, Any]]:
    """What was heard, and "yes, that's it" / "no": the click answers for the hearing."""
    return [*text_blocks(text), {"type": "actions", "block_id": f"hearing:{hearing_id}",
                                 "elements": [
        {"type": "button", "action_id": f"{HEARING}:yes", "value": hearing_id,
         "style": "primary", "text": {"type": "plain_text", "text": t(locale, "voice.yes")}},
        {"type": "button", "action_id": f"{HEARING}:no", "value": hearing_id,
         "text": {"type": "plain_text", "text": t(locale, "voice.no")}}]}]
