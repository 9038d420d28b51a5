"""Requests exactly as Slack sends them to an HTTP-mode app: bodies and signing headers."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from testkit.fakes.slack import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VERIFICATION_TOKEN = "legacyVerifToken123"  # deprecated, still in every body Slack sends
CHANNEL_ID = "C0OPS0001"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_TRIGGERS = itertools.count(1)


def trigger_id() -> str:
    """Slack gives every command and interaction a trigger id of its own, so no two of its
    requests have the same body (nor the same signature)."""
    return f"{int(time.time())}.{next(_TRIGGERS):010d}.aaaabbbbccccdddd"


def headers(body: str, ctype: str, *, timestamp: int | None = None, signed: bool = True,
            secret: str = SIGNING_SECRET) -> dict[str, str]:
    """X-Slack-Signature = 'v0=' + hex(HMAC_SHA256(secret, 'v0:{ts}:{raw body}'))."""
    out = {"Content-Type": ctype, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
    if signed:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256)
        out.update({"X-Slack-Request-Timestamp": ts,
                    "X-Slack-Signature": f"v0={digest.hexdigest()}"})
    return out


def slash_command(user: str, text: str, response_url: str) -> str:
    return urlencode({
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN,
        "channel_id": CHANNEL_ID, "channel_name": "ops", "user_id": user, "user_name": user.lower(),
        "command": "/altlas", "text": text, "api_app_id": APP_ID,
        "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": trigger_id(),
    })


def block_actions(user: str, action_id: str, approval_id: str, message: dict[str, Any],
                  response_url: str) -> str:
    """A click on a button of ``message`` (as chat.postMessage returned it)."""
    blocks = message.get("blocks", [])
    actions = next((b for b in blocks if b.get("type") == "actions"), {"elements": [],
                                                                          "block_id": "x"})
    button = next((e for e in actions["elements"] if e["action_id"] == action_id),
                  {"text": {"type": "plain_text", "text": action_id}, "style": "primary"})
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID, "token": VERIFICATION_TOKEN,
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": CHANNEL_ID,
                      "is_ephemeral": False},
        "trigger_id": trigger_id(),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN}, "enterprise": None,
        "is_enterprise_install": False, "channel": {"id": CHANNEL_ID, "name": "ops"},
        "message": {"user": BOT_USER_ID, "type": "message", "ts": message["ts"],
                    "bot_id": BOT_ID, "app_id": APP_ID, "text": message.get("text", ""),
                    "team": TEAM_ID, "blocks": blocks},
        "state": {"values": {}}, "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": actions["block_id"],
                     "text": button["text"], "value": approval_id,
                     "style": button.get("style", "primary"), "type": "button",
                     "action_ts": f"{time.time():.6f}"}],
    }
    return urlencode({"payload": json.dumps(payload)})


def view_submission(user: str, reason: str, view: dict[str, Any]) -> str:
    """The deny modal (as views.open received it) submitted with ``reason``."""
    payload = {
        "type": "view_submission", "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID, "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id(),
        "view": {
            "id": "V0MODAL0001", "team_id": TEAM_ID, "type": "modal",
            "blocks": view.get("blocks", []), "private_metadata": view["private_metadata"],
            "callback_id": view["callback_id"],
            "state": {"values": {"reason": {"value": {"type": "plain_text_input",
                                                      "value": reason}}}},
            "hash": "1700000000.abcdEFGH", "title": view.get("title"),
            "clear_on_close": False, "notify_on_close": False, "close": None,
            "submit": view.get("submit"), "previous_view_id": None, "root_view_id": "V0MODAL0001",
            "app_id": APP_ID, "external_id": "", "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        },
        "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def app_mention(user: str, text: str, ts: str = "1700000100.000200",
                event_id: str = "Ev0MENTION01") -> str:
    return json.dumps({
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "api_app_id": APP_ID,
        "event": {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}",
                  "ts": ts, "team": TEAM_ID, "channel": CHANNEL_ID, "event_ts": ts},
        "type": "event_callback", "event_id": event_id, "event_time": int(float(ts)),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
    })
